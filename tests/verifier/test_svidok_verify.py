"""The standalone verifier (verifier/svidok_verify.py), tested the way a court expert uses it.

It lives outside the package, so it is loaded from its path and also run as a subprocess.
Bundles are built here with an independent Merkle-tree helper and Ed25519 from
`cryptography`; the published vectors live in tests/data/transparency (see PROVENANCE.md).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.util
import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from custody.tsa import LocalTSA, openssl

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "verifier" / "svidok_verify.py"
VECTORS = ROOT / "tests" / "data" / "transparency"


def _load_verifier() -> ModuleType:
    spec = importlib.util.spec_from_file_location("svidok_verify", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["svidok_verify"] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


sv = _load_verifier()


def vectors(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


def by_name(data: dict[str, Any], prefix: str) -> dict[str, Any]:
    found: dict[str, Any] = next(v for v in data["vectors"] if v["name"].startswith(prefix))
    return found


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)],
                          capture_output=True, text=True, timeout=60, check=False)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# --- an independent RFC 6962 tree, written from the RFC rather than from the verifier ----

def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return _h(b"\x00" + leaves[0])
    k = 1 << ((len(leaves) - 1).bit_length() - 1)  # largest power of two below n
    return _h(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def audit_path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if m < k:
        return [*audit_path(m, leaves[:k]), mth(leaves[k:])]
    return [*audit_path(m - k, leaves[k:]), mth(leaves[:k])]


@dataclass
class Log:
    name: str
    private: Ed25519PrivateKey

    @classmethod
    def make(cls, name: str, seed: str) -> Log:
        return cls(name, Ed25519PrivateKey.from_private_bytes(_h(seed.encode())))

    @property
    def key_id(self) -> bytes:
        public = self.private.public_key().public_bytes_raw()
        return _h(self.name.encode() + b"\n\x01" + public)[:4]

    @property
    def vkey(self) -> str:
        public = b"\x01" + self.private.public_key().public_bytes_raw()
        return f"{self.name}+{self.key_id.hex()}+{b64(public)}"

    def sign(self, text: str) -> str:
        signature = self.private.sign(text.encode("utf-8"))
        return f"{text}\n\u2014 {self.name} {b64(self.key_id + signature)}\n"


def checkpoint_text(origin: str, leaves: list[bytes]) -> str:
    return f"{origin}\n{len(leaves)}\n{b64(mth(leaves))}\n"


def bundle(extra: bytes | None, index: int, proof: list[bytes], note: str) -> str:
    head = ["c2sp.org/tlog-proof@v1"] + ([f"extra {b64(extra)}"] if extra is not None else [])
    return "\n".join([*head, f"index {index}", *map(b64, proof)]) + "\n\n" + note


def canonical(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record(sha256: str, n: int = 0) -> dict[str, Any]:
    return {"format": "svidok.custody-event/1", "action": "capture",
            "actor": {"component": "svidok.locker.ingest", "version": "0.1.0"},
            "time": f"2026-11-25T01:23:4{n}.123456Z", "sha256": sha256,
            "context": "ab" * 32, "details": {"note": "Свідок — witness"}}


LOG = Log.make("svidok.example/test-locker", "svidok test log")
TARGET = 4  # in a 7-leaf tree: a left subtree leaf next to a ragged right edge


@dataclass
class Case:
    """A 7-entry log whose entry TARGET is about `original`, and files to hand the verifier."""

    dir: Path
    original: Path
    leaves: list[bytes]

    @property
    def extra(self) -> bytes:
        return self.leaves[TARGET]

    def note(self, log: Log = LOG, origin: str | None = None) -> str:
        return log.sign(checkpoint_text(origin or log.name, self.leaves))

    def text(self) -> str:
        return bundle(self.extra, TARGET, audit_path(TARGET, self.leaves), self.note())

    def write(self, content: str | bytes, name: str = "case.tlog-proof") -> Path:
        path = self.dir / name
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
        return path


@pytest.fixture
def case(tmp_path: Path) -> Case:
    original = tmp_path / "video.mp4"
    original.write_bytes(bytes(range(256)) * 9000)  # over 2 MiB: several read chunks
    digest = hashlib.sha256(original.read_bytes()).hexdigest()
    leaves = [canonical(record(digest if i == TARGET else f"{i:064x}", i)) for i in range(7)]
    return Case(tmp_path, original, leaves)


# --- RFC 6962 / 9162 --------------------------------------------------------------------

RFC = vectors("rfc6962_vectors.json")
TREE = [bytes.fromhex(x) for x in RFC["tree"]["leaf_inputs_hex"]]
ROOTS = [bytes.fromhex(x) for x in RFC["tree"]["root_hex_by_size"]]
PROOFS = [(p["leaf_index"], p["tree_size"], [bytes.fromhex(h) for h in p["audit_path_hex"]])
          for p in RFC["inclusion_proofs"] + RFC["derived_all_proofs_8_leaf"]["inclusion"]]


def test_hasher_vectors() -> None:
    for v in RFC["hasher"]:
        if v["kind"] == "leaf":
            data = bytes.fromhex(v["input_hex"]) if "input_hex" in v else v["input_ascii"].encode()
            assert sv.leaf_hash(data).hex() == v["want_hex"]
        elif v["kind"] == "node":
            node = sv.node_hash(v["left_ascii"].encode(), v["right_ascii"].encode())
            assert node.hex() == v["want_hex"]
    assert [mth(TREE[:n]) for n in range(1, 9)] == ROOTS[1:]  # the test's own tree helper


@pytest.mark.parametrize(("index", "size", "path"), PROOFS)
def test_inclusion_vectors_verify(index: int, size: int, path: list[bytes]) -> None:
    sv.verify_inclusion(index, size, sv.leaf_hash(TREE[index]), path, ROOTS[size])
    assert audit_path(index, TREE[:size]) == path


def _rejected(index: int, size: int, path: list[bytes], root: bytes, leaf: bytes) -> str:
    with pytest.raises(sv.Invalid) as caught:
        sv.verify_inclusion(index, size, leaf, path, root)
    return str(caught.value)


@pytest.mark.parametrize(("index", "size", "path"), PROOFS)
def test_inclusion_negative_probes(index: int, size: int, path: list[bytes]) -> None:
    leaf, root = sv.leaf_hash(TREE[index]), ROOTS[size]
    assert "too long" in _rejected(index, size, [*path, path[0] if path else leaf], root, leaf)
    if path:
        assert "too short" in _rejected(index, size, path[:-1], root, leaf)
        assert _rejected(index, size, path[1:], root, leaf)
        short = [*path[:-1], path[-1][:31]]
        assert "32 bytes" in _rejected(index, size, short, root, leaf)
    for other in range(size):
        if other != index:
            _rejected(other, size, path, root, leaf)
    assert "not smaller" in _rejected(size, size, path, root, leaf)
    assert "not smaller" in _rejected(index + size, size, path, root, leaf)
    _rejected(index, size * 2, path, root, leaf)
    if size > 1:
        _rejected(index, size // 2, path, root, leaf)
    flipped = bytes([root[0] ^ 0x01]) + root[1:]
    assert "root" in _rejected(index, size, path, flipped, leaf)
    assert "32 bytes" in _rejected(index, size, path, root[:31], leaf)


# --- signed notes -----------------------------------------------------------------------

NOTES = vectors("signed_note_vectors.json")
PETER = by_name(NOTES, "golang-mod PeterNeumann")


def test_peter_neumann_note_and_vkey() -> None:
    key = sv.parse_vkey(PETER["verifier_key"])
    assert (key.name, key.key_id.hex(), key.public.hex()) == (
        "PeterNeumann", PETER["key_id_hex"], PETER["ed25519_public_hex"])
    assert sv.verify_note(PETER["signed_note"], key) == PETER["text"]


def test_two_signatures_each_key_alone() -> None:
    v = by_name(NOTES, "golang-mod two signatures")
    for vkey in v["verifier_keys"]:
        assert sv.verify_note(v["signed_note"], sv.parse_vkey(vkey)) == v["text"]


def test_c2sp_example_note() -> None:
    v = by_name(NOTES, "C2SP signed-note spec example")
    assert sv.parse_vkey(v["verifier_key"]).key_id.hex() == v["key_id_hex"]
    assert sv.verify_note(v["signed_note"], sv.parse_vkey(v["verifier_key"])) == v["text"]


def test_published_key_pairs_give_their_vkeys() -> None:
    for k in by_name(NOTES, "transparency-dev/formats")["keys"]:
        private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(k["ed25519_seed_hex"]))
        assert Log(k["verifier_key"].split("+")[0], private).vkey == k["verifier_key"]
        assert sv.parse_vkey(k["verifier_key"]).key_id.hex() == k["key_id_type01_hex"]


BAD_VKEYS = [v["vkey"] for v in by_name(NOTES, "golang-mod invalid")["invalid_verifier_keys"]] + [
    "", "PeterNeumann", "PeterNeumann+c74f20a3",
    "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # empty name
    "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space in name
    "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong key ID
    "PeterNeumann+c74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # short key ID
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  # bad base64
    by_name(vectors("checkpoint_vectors.json"), "DERIVED")["witness_cosignature_vkey"],  # 0x04
]


@pytest.mark.parametrize("vkey", BAD_VKEYS)
def test_invalid_vkeys_rejected(vkey: str) -> None:
    with pytest.raises(sv.Invalid):
        sv.parse_vkey(vkey)


MALFORMED = [(n["why"], n["note"])
             for n in by_name(NOTES, "golang-mod malformed")["malformed_notes"]]


@pytest.mark.parametrize(("why", "note"), MALFORMED)
def test_malformed_notes_rejected(why: str, note: str) -> None:
    with pytest.raises(sv.Invalid):
        sv.verify_note(note, sv.parse_vkey(PETER["verifier_key"]))


def test_tampered_signature_and_wrong_key() -> None:
    tampered = by_name(NOTES, "golang-mod known key, bad signature")
    with pytest.raises(sv.Invalid, match="does not match"):
        sv.verify_note(tampered["signed_note"], sv.parse_vkey(tampered["verifier_key"]))
    other = by_name(NOTES, "transparency-dev/formats")["keys"][1]["verifier_key"]
    with pytest.raises(sv.Invalid, match="no signature by the key Known"):
        sv.verify_note(PETER["signed_note"], sv.parse_vkey(other))
    with pytest.raises(sv.Invalid, match="does not match"):  # text changed under the signature
        sv.verify_note(PETER["signed_note"].replace("answer", "Answer"),
                       sv.parse_vkey(PETER["verifier_key"]))


def test_signatures_start_after_the_last_blank_line() -> None:
    quasimodo = by_name(NOTES, "C2SP signed-note opening example")["signed_note"]
    stranger = Log.make("quasimodo.example/salvatore", "not the published key")
    # Parsing succeeds (no "malformed" error); the line is simply not this key's.
    with pytest.raises(sv.Invalid, match="no signature by the key"):
        sv.verify_note(quasimodo, sv.parse_vkey(stranger.vkey))
    text = "first paragraph\n\nsecond paragraph\n"
    assert sv.verify_note(LOG.sign(text), sv.parse_vkey(LOG.vkey)) == text


# --- checkpoints and the derived tlog-proof ---------------------------------------------

CHECKPOINTS = vectors("checkpoint_vectors.json")
DERIVED = by_name(CHECKPOINTS, "DERIVED")


def test_checkpoint_bodies() -> None:
    sumdb = by_name(CHECKPOINTS, "golang/mod sumdb")
    parsed = sv.parse_checkpoint(sumdb["checkpoint_body"])
    assert (parsed.origin, parsed.size, b64(parsed.root)) == (
        sumdb["origin"], sumdb["tree_size"], sumdb["root_hash_b64"])
    for c in by_name(CHECKPOINTS, "transparency-dev/formats")["cases"]:
        with pytest.raises(sv.Invalid) as caught:
            sv.parse_checkpoint(c["body"])
        if c["valid"]:  # valid for the Go parser; only our 32-byte root rule rejects them
            assert "not 32" in str(caught.value)
    root = b64(bytes(32))
    for bad in [f"Log\n007\n{root}\n", f"Log\n1\n{root}\n\nmore\n", f"Log\n+1\n{root}\n"]:
        with pytest.raises(sv.Invalid):
            sv.parse_checkpoint(bad)
    assert sv.parse_checkpoint(f"Log\n1\n{root}\next\n").size == 1


def test_derived_tlog_proof_lower_layers() -> None:
    parsed = sv.parse_bundle(DERIVED["tlog_proof"].encode())
    assert parsed.extra is None
    assert parsed.index == DERIVED["tlog_proof_leaf_index"]
    assert parsed.checkpoint_note == DERIVED["signed_checkpoint"]
    # The Wit1 cosignature line is someone else's signature: ignored, not an error.
    body = sv.verify_note(parsed.checkpoint_note, sv.parse_vkey(DERIVED["log_verifier_key"]))
    assert body == DERIVED["checkpoint_body"]
    checkpoint = sv.parse_checkpoint(body)
    assert checkpoint.root == ROOTS[8]
    leaf = sv.leaf_hash(bytes.fromhex(DERIVED["tlog_proof_leaf_input_hex"]))
    sv.verify_inclusion(parsed.index, checkpoint.size, leaf, parsed.proof, checkpoint.root)


def test_derived_tlog_proof_lacks_the_svidok_record(tmp_path: Path) -> None:
    path = tmp_path / "derived.tlog-proof"
    path.write_text(DERIVED["tlog_proof"], encoding="utf-8")
    result = run(path, "--key", DERIVED["log_verifier_key"])
    assert result.returncode == 1
    assert result.stdout.startswith("INVALID: bundle has no 'extra' line")
    assert run(path, "--key", DERIVED["witness_cosignature_vkey"]).returncode == 2


# --- end to end -------------------------------------------------------------------------

def test_valid_bundle(case: Case) -> None:
    result = run(case.write(case.text()), "--key", LOG.vkey, "--original", case.original)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "VALID"
    rec = json.loads(case.extra)
    for expected in [LOG.name, "tree size:", "7", b64(mth(case.leaves)), "leaf index:",
                     "capture", rec["sha256"], rec["time"], "svidok.locker.ingest",
                     f"{case.original} has this SHA-256"]:
        assert expected in result.stdout


def test_key_file_and_single_leaf_tree(case: Case) -> None:
    leaves = [case.extra]
    path = case.write(bundle(case.extra, 0, [], LOG.sign(checkpoint_text(LOG.name, leaves))))
    key_file = case.write(LOG.vkey + "\n", "log.vkey")
    result = run(path, "--key-file", key_file)
    assert result.returncode == 0, result.stdout
    assert "leaf index:      0" in result.stdout


def test_json_output(case: Case) -> None:
    result = run(case.write(case.text()), "--key", LOG.vkey, "--original", case.original,
                 "--json")
    assert result.returncode == 0
    out = json.loads(result.stdout)
    assert out["valid"] is True
    assert (out["origin"], out["tree_size"], out["index"]) == (LOG.name, 7, TARGET)
    assert out["root"] == b64(mth(case.leaves))
    assert out["record"] == json.loads(case.extra)
    assert out["original"] == {"path": str(case.original), "matches": True}
    bad = run(case.write(case.text().replace("index 4", "index 3")), "--key", LOG.vkey, "--json")
    assert bad.returncode == 1
    assert json.loads(bad.stdout) == {"valid": False, "reason": json.loads(bad.stdout)["reason"]}


def _replace_leaf(case: Case, extra: bytes) -> str:
    leaves = [*case.leaves[:TARGET], extra, *case.leaves[TARGET + 1:]]
    return bundle(extra, TARGET, audit_path(TARGET, leaves),
                  LOG.sign(checkpoint_text(LOG.name, leaves)))


Mutation = Callable[[Case], str]
INVALID_CASES: list[tuple[str, Mutation, str]] = [
    ("tampered extra", lambda c: bundle(c.extra.replace(b"capture", b"captura"), TARGET,
                                        audit_path(TARGET, c.leaves), c.note()), "root hash"),
    ("wrong index", lambda c: c.text().replace("index 4", "index 5"), "root hash"),
    ("index beyond tree", lambda c: c.text().replace("index 4", "index 7"), "not smaller"),
    ("index leading zero", lambda c: c.text().replace("index 4", "index 04"), "leading zeros"),
    ("truncated proof", lambda c: bundle(c.extra, TARGET, audit_path(TARGET, c.leaves)[:-1],
                                         c.note()), "too short"),
    ("extra proof line", lambda c: bundle(c.extra, TARGET, [*audit_path(TARGET, c.leaves),
                                          bytes(32)], c.note()), "too long"),
    ("31-byte proof hash", lambda c: bundle(c.extra, TARGET, [bytes(31)], c.note()), "not 32"),
    ("another key", lambda c: bundle(c.extra, TARGET, audit_path(TARGET, c.leaves),
                                     c.note(Log.make(LOG.name, "impostor"))), "no signature"),
    ("origin is not key name", lambda c: bundle(
        c.extra, TARGET, audit_path(TARGET, c.leaves), c.note(origin="other.example/log")),
     "origin 'other.example/log'"),
    ("signature over other text", lambda c: c.text().replace("\n7\n", "\n8\n"), "not match"),
    ("missing extra", lambda c: bundle(None, TARGET, audit_path(TARGET, c.leaves), c.note()),
     "no 'extra' line"),
    ("extra after index", lambda c: c.text().replace(
        f"extra {b64(c.extra)}\nindex 4", f"index 4\nextra {b64(c.extra)}"), "order"),
    ("extra not base64", lambda c: c.text().replace("extra ", "extra *"), "base64"),
    ("no checkpoint", lambda c: c.text().split("\n\n")[0] + "\n", "no blank line"),
    ("wrong header", lambda c: c.text().replace("@v1", "@v2"), "not a tlog-proof"),
    ("windows line endings", lambda c: c.text().replace("\n", "\r\n"), "carriage returns"),
    ("non-canonical record", lambda c: _replace_leaf(c, json.dumps(json.loads(c.extra),
                                                                  indent=1).encode()),
     "canonical"),
    ("ascii-escaped record", lambda c: _replace_leaf(c, json.dumps(
        json.loads(c.extra), sort_keys=True, separators=(",", ":")).encode()), "canonical"),
    ("duplicate key", lambda c: _replace_leaf(c, c.extra.replace(
        b'{"action"', b'{"action":"open","action"')), "canonical"),
    ("float in record", lambda c: _replace_leaf(c, canonical(
        {**json.loads(c.extra), "details": 1.5})), "floats"),
    ("wrong format", lambda c: _replace_leaf(c, canonical(
        {**json.loads(c.extra), "format": "svidok.custody-event/2"})), "format"),
    ("uppercase sha256", lambda c: _replace_leaf(c, canonical(
        {**json.loads(c.extra), "sha256": "AB" * 32})), "lowercase"),
    ("record not an object", lambda c: _replace_leaf(c, b"[1,2]"), "not a JSON object"),
    ("record not JSON", lambda c: _replace_leaf(c, b"\xff\xfe"), "not UTF-8"),
]


@pytest.mark.parametrize(("label", "mutate", "reason"), INVALID_CASES,
                         ids=[c[0] for c in INVALID_CASES])
def test_invalid_bundles(case: Case, label: str, mutate: Mutation, reason: str) -> None:
    result = run(case.write(mutate(case)), "--key", LOG.vkey)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("INVALID: ")
    assert reason in result.stdout
    assert result.stderr == ""  # never a traceback


@pytest.mark.parametrize("content", [b"", b"\x00\xff" * 300, b"c2sp.org/tlog-proof@v1\n",
                                     b"garbage\n\n\n", b"x" * ((1 << 20) + 5)])
def test_garbage_files(case: Case, content: bytes) -> None:
    result = run(case.write(content), "--key", LOG.vkey)
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout.startswith("INVALID: ")


def test_every_single_bit_flip_is_invalid(case: Case) -> None:
    data, key = case.text().encode(), sv.parse_vkey(LOG.vkey)
    sv.verify_bundle(data, key)
    for i in range(len(data)):
        for bit in range(8):
            flipped = bytearray(data)
            flipped[i] ^= 1 << bit
            with pytest.raises(sv.Invalid):
                sv.verify_bundle(bytes(flipped), key)


def test_original_mismatch(case: Case) -> None:
    other = case.write(b"not the video", "other.bin")
    result = run(case.write(case.text()), "--key", LOG.vkey, "--original", other)
    assert result.returncode == 1
    assert "the original file's SHA-256 is" in result.stdout


def test_usage_errors(case: Case) -> None:
    path = case.write(case.text())
    assert run(case.dir / "missing.tlog-proof", "--key", LOG.vkey).returncode == 2
    assert run(path).returncode == 2  # no key
    assert run(path, "--key", LOG.vkey, "--key-file", path).returncode == 2
    assert run(path, "--key", "not-a-key").returncode == 2
    assert run(path, "--key-file", case.dir / "missing.vkey").returncode == 2
    assert run(path, "--key-file", case.write("a b\n", "two.vkey")).returncode == 2
    result = run(path, "--key", LOG.vkey, "--original", case.dir / "missing.mp4")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_print_checkpoint(case: Case) -> None:
    out = case.dir / "checkpoint.txt"
    assert run(case.write(case.text()), "--print-checkpoint", out).returncode == 0
    assert out.read_text(encoding="utf-8") == case.note()
    assert run(case.write(case.text()), "--print-checkpoint", "-").stdout == case.note()


# --- RFC 3161 timestamps with a throwaway local TSA -------------------------------------

def stamp(tsa: LocalTSA, data: bytes, name: str, digest: str = "-sha256") -> Path:
    """An RFC 3161 reply of the local TSA over ``data``, as ``<name>.tsr``."""
    work = tsa.workdir
    (work / f"{name}.bin").write_bytes(data)
    openssl(["ts", "-query", "-data", f"{name}.bin", digest, "-cert", "-out", f"{name}.tsq"],
            work)
    reply = tsa.reply((work / f"{name}.tsq").read_bytes())
    assert reply is not None
    (work / f"{name}.tsr").write_bytes(reply)
    return work / f"{name}.tsr"


def test_timestamp_over_checkpoint(case: Case, local_tsa: LocalTSA) -> None:
    tsa = local_tsa
    tsr = stamp(tsa, case.note().encode(), "good")
    shown = openssl(["ts", "-reply", "-in", "good.tsr", "-text"], tsa.workdir)
    path = case.write(case.text())
    result = run(path, "--key", LOG.vkey, "--timestamp", tsr)
    assert result.returncode == 0, result.stdout
    when = re.search(r"existed no later than (\S+) ", result.stdout)
    assert when is not None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", when.group(1))
    assert when.group(1)[11:19] in shown  # same clock time as openssl's own reading
    assert f"openssl ts -verify -data checkpoint.txt -in {tsr}" in result.stdout
    as_json = json.loads(run(path, "--key", LOG.vkey, "--timestamp", tsr, "--json").stdout)
    assert as_json["timestamp"]["gen_time"] == when.group(1)
    assert as_json["timestamp"]["tsa_signature_checked"] is False
    # The checkpoint the tool writes out is exactly what the TSA signed.
    checkpoint = case.dir / "checkpoint.txt"
    assert run(path, "--print-checkpoint", checkpoint).returncode == 0
    verified = openssl(["ts", "-verify", "-data", str(checkpoint), "-in", str(tsr),
                        "-CAfile", "ca.crt"], tsa.workdir)
    assert "Verification: OK" in verified


def test_timestamp_rejections(case: Case, local_tsa: LocalTSA) -> None:
    tsa = local_tsa
    path = case.write(case.text())
    other = stamp(tsa, case.note().encode() + b" ", "other")
    sha512 = stamp(tsa, case.note().encode(), "sha512", "-sha512")
    refused = stamp(tsa, case.note().encode(), "sha1", "-sha1")  # not in the TSA's digests
    garbage = case.write(b"\x30\x82\xff\xff garbage", "garbage.tsr")
    truncated = case.write(other.read_bytes()[:-10], "truncated.tsr")
    for tsr, reason in [(other, "other data"), (sha512, "only SHA-256"),
                        (refused, "did not grant"), (garbage, "timestamp:"),
                        (truncated, "timestamp:")]:
        result = run(path, "--key", LOG.vkey, "--timestamp", tsr)
        assert result.returncode == 1, (tsr, result.stdout, result.stderr)
        assert reason in result.stdout
        assert result.stderr == ""
    # The parser meets every damaged token with a verdict, never a traceback.
    token = other.read_bytes()
    for i in range(len(token)):
        damaged = bytearray(token)
        damaged[i] ^= 0x80
        with contextlib.suppress(sv.Invalid):
            sv.read_timestamp(bytes(damaged))
