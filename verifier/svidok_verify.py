#!/usr/bin/env python3
"""Check a Svidok custody proof (a c2sp.org/tlog-proof@v1 bundle) without Svidok.

    python3 svidok_verify.py BUNDLE --key VKEY [--original FILE] [--timestamp FILE.tsr] [--json]
    python3 svidok_verify.py BUNDLE --key-file FILE ...
    python3 svidok_verify.py BUNDLE --print-checkpoint OUT     (write the checkpoint note out)

Prints VALID or "INVALID: <reason>". Exit status: 0 valid, 1 invalid, 2 usage error.
Needs Python 3.11+ and the `cryptography` package; uses no network. See docs/verify.md.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover - depends on the expert's machine
    sys.stderr.write("svidok_verify needs the 'cryptography' package: pip install cryptography\n")
    raise SystemExit(2) from None

HEADER = "c2sp.org/tlog-proof@v1"
RECORD_FORMAT = "svidok.custody-event/1"
MAX_BUNDLE = 1 << 20  # a proof is a few KiB; refusing more keeps hostile input cheap
MAX_SIGNATURES = 100  # the cap golang.org/x/mod/sumdb/note applies
ED25519_TYPE = 0x01
OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_TST_INFO = "1.2.840.113549.1.9.16.1.4"
OID_SHA256 = "2.16.840.1.101.3.4.2.1"
DECIMAL = re.compile(r"0|[1-9][0-9]*")
HEX64 = re.compile(r"[0-9a-f]{64}")


class Invalid(Exception):
    """The evidence does not check out; the message is the reason shown to the user."""


class UsageError(Exception):
    """Bad arguments or an unreadable file: exit status 2, not a verdict on the evidence."""


def b64decode(text: str, what: str) -> bytes:
    # Round-tripping rejects alternative spellings (stray bits, missing padding), so one set
    # of bytes has exactly one accepted text form, as Go's base64.StdEncoding.Strict() does.
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise Invalid(f"{what} is not canonical standard base64")
    return raw


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def parse_decimal(text: str, what: str) -> int:
    # The length test comes first: int() refuses strings of thousands of digits.
    if len(text) > 20 or not DECIMAL.fullmatch(text) or int(text) >= 1 << 64:
        raise Invalid(f"{what} {text!r} is not a decimal number without leading zeros (< 2^64)")
    return int(text)


# --- RFC 6962 / RFC 9162 Merkle tree ------------------------------------------------------

def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> None:
    """RFC 9162 section 2.1.3.2 with a 0-based index; raises Invalid on any mismatch."""
    if index >= size:
        raise Invalid(f"leaf index {index} is not smaller than the tree size {size}")
    if any(len(h) != 32 for h in [leaf, root, *proof]):
        raise Invalid("a hash in the inclusion proof is not 32 bytes long")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        # sn reaches 0 at the root: hashes left over mean a padded proof, not a valid one.
        if sn == 0:
            raise Invalid(f"inclusion proof is too long for index {index} in a tree of {size}")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:  # skip levels where this node has no right sibling
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Invalid(f"inclusion proof is too short for index {index} in a tree of {size}")
    if r != root:
        raise Invalid("inclusion proof does not lead to the checkpoint's root hash")


# --- C2SP signed note ---------------------------------------------------------------------

@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    public: bytes


def valid_key_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def parse_vkey(vkey: str) -> VerifierKey:
    """Parse `<name>+<hex8 key id>+<base64(0x01 || Ed25519 public key)>`."""
    parts = vkey.strip().split("+", 2)  # base64 may itself contain '+'
    if len(parts) != 3:
        raise Invalid("verifier key must look like <name>+<8 hex digits>+<base64 key>")
    name, hex_id, key_b64 = parts
    if not valid_key_name(name):
        raise Invalid("verifier key name is empty or contains whitespace")
    if not re.fullmatch(r"[0-9a-fA-F]{8}", hex_id):
        raise Invalid("verifier key ID is not 8 hexadecimal digits")
    key = b64decode(key_b64, "verifier key")
    if not key or key[0] != ED25519_TYPE:
        kind = f"0x{key[0]:02x}" if key else "missing"
        raise Invalid(f"verifier key type {kind} is not supported (only Ed25519, 0x01)")
    if len(key) != 33:
        raise Invalid(f"verifier key holds {len(key) - 1} bytes; an Ed25519 key has 32")
    key_id = hashlib.sha256(name.encode("utf-8") + b"\n" + key).digest()[:4]
    if key_id.hex() != hex_id.lower():
        raise Invalid(f"verifier key ID {hex_id} does not match its key (expected {key_id.hex()})")
    return VerifierKey(name, key_id, key[1:])


def verify_note(note: str, key: VerifierKey) -> str:
    """Check a signed note against one key and return its text (with final newline)."""
    if any((c < " " and c != "\n") or c == "\x7f" for c in note):
        raise Invalid("signed note contains control characters")
    if not note.endswith("\n"):
        raise Invalid("signed note does not end with a newline")
    # The text itself may contain blank lines, so the signatures begin after the last one.
    split = note.rfind("\n\n")
    if split < 0:
        raise Invalid("signed note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise Invalid("signed note has no signature lines")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise Invalid(f"signed note has more than {MAX_SIGNATURES} signature lines")
    public = Ed25519PublicKey.from_public_bytes(key.public)
    verified = False
    for line in lines:
        fields = line.split(" ")
        if len(fields) != 3 or fields[0] != "\u2014" or not valid_key_name(fields[1]):
            raise Invalid(f"malformed signature line {line[:60]!r}")
        sig = b64decode(fields[2], "signature")
        if len(sig) < 5:
            raise Invalid("signature line is too short to hold a key ID and a signature")
        if fields[1] != key.name or sig[:4] != key.key_id:
            continue  # someone else's signature (a witness, say): not ours to judge
        try:
            public.verify(sig[4:], text.encode("utf-8"))
        except InvalidSignature:
            raise Invalid(f"the signature by {key.name} does not match the checkpoint") from None
        verified = True
    if not verified:
        raise Invalid(f"the checkpoint carries no signature by the key {key.name}+"
                      f"{key.key_id.hex()}")
    return text


# --- C2SP tlog-checkpoint and tlog-proof --------------------------------------------------

@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes


def parse_checkpoint(text: str) -> Checkpoint:
    lines = text.split("\n")[:-1]  # the text ends in "\n"
    if len(lines) < 3:
        raise Invalid("checkpoint has fewer than three lines (origin, size, root hash)")
    if not lines[0]:
        raise Invalid("checkpoint origin line is empty")
    size = parse_decimal(lines[1], "checkpoint tree size")
    root = b64decode(lines[2], "checkpoint root hash")
    if len(root) != 32:
        raise Invalid(f"checkpoint root hash is {len(root)} bytes, not 32")
    if any(not line for line in lines[3:]):
        raise Invalid("checkpoint has an empty extension line")
    return Checkpoint(lines[0], size, root)


@dataclass(frozen=True)
class Bundle:
    extra: bytes | None
    index: int
    proof: list[bytes]
    checkpoint_note: str  # verbatim, signature lines included


def parse_bundle(data: bytes) -> Bundle:
    """Parse c2sp.org/tlog-proof@v1: header, optional extra, index, hashes, blank, checkpoint."""
    if len(data) > MAX_BUNDLE:
        raise Invalid(f"bundle is larger than {MAX_BUNDLE} bytes; a real proof is a few KiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("bundle is not UTF-8 text") from None
    if "\r" in text:
        raise Invalid("bundle contains carriage returns; it may have been converted to Windows "
                      "line endings - use the file exactly as exported")
    # Proof lines are never empty, so the first blank line ends the proof.
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise Invalid(f"first line is not {HEADER!r}; this is not a tlog-proof bundle")
    if not sep:
        raise Invalid("bundle has no blank line between the proof and the checkpoint")
    pos, extra = 1, None
    if pos < len(lines) and lines[pos].startswith("extra "):
        extra = b64decode(lines[pos][len("extra ") :], "extra line")
        pos += 1
    if pos >= len(lines) or not lines[pos].startswith("index "):
        raise Invalid("bundle has no 'index <n>' line after the header (and optional extra line)")
    index = parse_decimal(lines[pos][len("index ") :], "leaf index")
    proof = []
    for n, line in enumerate(lines[pos + 1 :], 1):
        if line.startswith(("extra ", "index ")):
            raise Invalid(f"unexpected {line.split()[0]!r} line inside the inclusion proof "
                          "(the order is: extra, index, hashes)")
        h = b64decode(line, f"inclusion proof hash {n}")
        if len(h) != 32:
            raise Invalid(f"inclusion proof hash {n} is {len(h)} bytes, not 32")
        proof.append(h)
    return Bundle(extra, index, proof, note)


# --- Svidok custody record ----------------------------------------------------------------

def _no_float(text: str) -> Any:
    raise Invalid(f"record contains a non-integer number ({text}); floats are not allowed")


def check_record(extra: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(extra.decode("utf-8"), parse_float=_no_float, parse_constant=_no_float)
    except UnicodeDecodeError:
        raise Invalid("record (extra line) is not UTF-8") from None
    except (ValueError, RecursionError) as exc:
        raise Invalid(f"record (extra line) is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise Invalid("record (extra line) is not a JSON object")
    try:
        canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        same = canonical.encode("utf-8") == extra
    except UnicodeEncodeError:
        same = False  # a lone surrogate escape has no UTF-8 form
    if not same:
        raise Invalid("record is not in canonical JSON form (sorted keys, no spaces, "
                      "non-ASCII as UTF-8, no duplicate keys); Svidok never writes that")
    if obj.get("format") != RECORD_FORMAT:
        raise Invalid(f"record format is {obj.get('format')!r}, expected {RECORD_FORMAT!r}")
    if not isinstance(obj.get("sha256"), str) or not HEX64.fullmatch(obj["sha256"]):
        raise Invalid("record sha256 is not 64 lowercase hexadecimal digits")
    for field, kind in (("action", str), ("time", str), ("actor", dict)):
        if not isinstance(obj.get(field), kind):
            raise Invalid(f"record field {field!r} is missing or has the wrong type")
    return obj


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:  # streamed: originals can be many gigabytes
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# --- RFC 3161 timestamp (minimal DER reading; the TSA signature is left to openssl) -------

def _tlv(buf: bytes, pos: int) -> tuple[int, bytes, int]:
    if pos + 2 > len(buf):
        raise Invalid("timestamp: DER data is truncated")
    tag, length, pos = buf[pos], buf[pos + 1], pos + 2
    if tag & 0x1F == 0x1F:
        raise Invalid("timestamp: multi-byte DER tags are not supported")
    if length & 0x80:
        n = length & 0x7F
        if not 1 <= n <= 4 or pos + n > len(buf):
            raise Invalid("timestamp: unsupported or truncated DER length (BER is not accepted)")
        length, pos = int.from_bytes(buf[pos : pos + n], "big"), pos + n
    if pos + length > len(buf):
        raise Invalid("timestamp: a DER value runs past the end of its container")
    return tag, buf[pos : pos + length], pos + length


def _items(buf: bytes) -> list[tuple[int, bytes]]:
    out, pos = [], 0
    while pos < len(buf):
        tag, value, pos = _tlv(buf, pos)
        out.append((tag, value))
    return out


def _take(items: list[tuple[int, bytes]], i: int, tag: int, what: str) -> bytes:
    if i >= len(items) or items[i][0] != tag:
        raise Invalid(f"timestamp: {what} is missing or malformed")
    return items[i][1]


def _oid(raw: bytes) -> str:
    if not raw or raw[-1] & 0x80:
        raise Invalid("timestamp: malformed object identifier")
    values, v = [], 0
    for byte in raw:
        v = (v << 7) | (byte & 0x7F)
        if not byte & 0x80:
            values.append(v)
            v = 0
    top = min(values[0] // 40, 2)
    return ".".join(str(x) for x in [top, values[0] - 40 * top, *values[1:]])


def read_timestamp(tsr: bytes) -> tuple[str, bytes, str]:
    """Return (hash algorithm OID, hashed message, genTime) from a DER TimeStampResp."""
    tag, resp, end = _tlv(tsr, 0)
    if tag != 0x30 or end != len(tsr):
        raise Invalid("timestamp: file is not a DER RFC 3161 TimeStampResp")
    parts = _items(resp)
    status_info = _items(_take(parts, 0, 0x30, "PKIStatusInfo"))
    status = int.from_bytes(_take(status_info, 0, 0x02, "PKIStatus"), "big", signed=True)
    if status not in (0, 1):
        raise Invalid(f"timestamp: the TSA did not grant the request (PKIStatus {status})")
    token = _items(_take(parts, 1, 0x30, "timeStampToken"))
    if _oid(_take(token, 0, 0x06, "token content type")) != OID_SIGNED_DATA:
        raise Invalid("timestamp: token is not CMS SignedData")
    signed = _items(_take(_items(_take(token, 1, 0xA0, "token content")), 0, 0x30, "SignedData"))
    encap = _items(_take(signed, 2, 0x30, "encapContentInfo"))
    if _oid(_take(encap, 0, 0x06, "eContentType")) != OID_TST_INFO:
        raise Invalid("timestamp: signed content is not a TSTInfo")
    octets = _take(_items(_take(encap, 1, 0xA0, "eContent")), 0, 0x04, "eContent")
    tst = _items(_take(_items(octets), 0, 0x30, "TSTInfo"))
    imprint = _items(_take(tst, 2, 0x30, "messageImprint"))
    algorithm = _oid(_take(_items(_take(imprint, 0, 0x30, "hashAlgorithm")), 0, 0x06, "OID"))
    hashed = _take(imprint, 1, 0x04, "hashedMessage")
    raw_time = _take(tst, 4, 0x18, "genTime").decode("ascii", "replace")
    m = re.fullmatch(r"(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\.\d+)?Z", raw_time)
    if not m:
        raise Invalid(f"timestamp: genTime {raw_time!r} is not a UTC GeneralizedTime")
    y, mo, d, h, mi, s, frac = m.groups()
    return algorithm, hashed, f"{y}-{mo}-{d}T{h}:{mi}:{s}{frac or ''}Z"


# --- putting it together ------------------------------------------------------------------

def verify_bundle(data: bytes, key: VerifierKey) -> dict[str, Any]:
    """Run every check on a bundle; return what was proven or raise Invalid."""
    bundle = parse_bundle(data)
    if bundle.extra is None:
        raise Invalid("bundle has no 'extra' line; a Svidok bundle must carry the custody "
                      "record there, without it the leaf hash cannot be recomputed")
    checkpoint = parse_checkpoint(verify_note(bundle.checkpoint_note, key))
    if checkpoint.origin != key.name:
        raise Invalid(f"checkpoint origin {checkpoint.origin!r} is not the verifier key's "
                      f"name {key.name!r}; the key belongs to another log")
    record = check_record(bundle.extra)
    verify_inclusion(bundle.index, checkpoint.size, leaf_hash(bundle.extra), bundle.proof,
                     checkpoint.root)
    return {"valid": True, "origin": checkpoint.origin, "tree_size": checkpoint.size,
            "root": b64(checkpoint.root), "index": bundle.index,
            "leaf_hash": leaf_hash(bundle.extra).hex(), "record": record,
            "checkpoint_sha256": hashlib.sha256(bundle.checkpoint_note.encode()).hexdigest()}


def check_timestamp(tsr: bytes, result: dict[str, Any]) -> dict[str, Any]:
    algorithm, hashed, gen_time = read_timestamp(tsr)
    if algorithm != OID_SHA256:
        raise Invalid(f"timestamp: hash algorithm {algorithm} is not supported (only SHA-256)")
    if hashed.hex() != result["checkpoint_sha256"]:
        raise Invalid("timestamp: the token was issued for other data, not this checkpoint")
    return {"gen_time": gen_time, "covers_checkpoint": True, "tsa_signature_checked": False}


def shown(value: Any) -> str:
    # Record strings are the log operator's words: escape anything that could steer a terminal.
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if text.isprintable() else repr(text)


def report(result: dict[str, Any], bundle_path: str, tsr_path: str | None) -> str:
    rec = result["record"]
    rows = [("log origin", result["origin"]), ("tree size", result["tree_size"]),
            ("checkpoint root", result["root"]), ("leaf index", result["index"]),
            ("leaf hash (hex)", result["leaf_hash"]),
            *[(f"record {k}", rec[k]) for k in ("action", "sha256", "time", "actor",
                                                 "purpose", "context") if k in rec]]
    if result.get("original"):
        rows.append(("original file", f"{result['original']['path']} has this SHA-256"))
    out = ["VALID", *[f"  {name + ':':<17}{shown(value)}" for name, value in rows],
           f"Proven: the log {shown(result['origin'])} signed a tree of {result['tree_size']} "
           f"entries that holds this record at index {result['index']}."]
    if result.get("timestamp"):
        out += [f"Timestamp: the checkpoint existed no later than "
                f"{result['timestamp']['gen_time']} (the token's digest matches it).",
                "The TSA's signature is not checked here. To check it:",
                f"  python3 svidok_verify.py {bundle_path} --print-checkpoint checkpoint.txt",
                f"  openssl ts -verify -data checkpoint.txt -in {tsr_path} -CAfile tsa-ca.pem"]
    return "\n".join(out)


def read_file(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(MAX_BUNDLE + 1)  # enough to tell "too large" apart
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="svidok_verify.py", description="Check a Svidok custody proof "
        "(c2sp.org/tlog-proof@v1) offline. Exit status: 0 VALID, 1 INVALID, 2 usage error.")
    p.add_argument("bundle", help="the .tlog-proof bundle file")
    keys = p.add_mutually_exclusive_group()
    keys.add_argument("--key", help="the log's verifier key (name+keyid+base64)")
    keys.add_argument("--key-file", help="a file holding the verifier key on one line")
    p.add_argument("--original", help="the original file; checks its SHA-256 against the record")
    p.add_argument("--timestamp", help="an RFC 3161 token (.tsr) over the checkpoint note")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--print-checkpoint", metavar="OUT", help="write the bundle's checkpoint "
                   "note byte for byte to OUT ('-' for stdout) and stop; verifies nothing")
    args = p.parse_args(argv)
    if args.print_checkpoint is None and args.key is None and args.key_file is None:
        p.error("give the verifier key with --key or --key-file")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        data = read_file(args.bundle, "bundle")
        if args.print_checkpoint is not None:
            note = parse_bundle(data).checkpoint_note.encode("utf-8")
            if args.print_checkpoint == "-":
                sys.stdout.buffer.write(note)
            else:
                Path(args.print_checkpoint).write_bytes(note)
            return 0
        if args.key_file is not None:
            lines = read_file(args.key_file, "key file").decode("utf-8", "replace").split()
            if len(lines) != 1:
                raise UsageError(f"key file {args.key_file} must hold exactly one key")
            args.key = lines[0]
        try:
            key = parse_vkey(args.key)
        except Invalid as exc:
            raise UsageError(str(exc)) from None
        result = verify_bundle(data, key)
        if args.original is not None:
            try:
                actual = file_sha256(args.original)
            except OSError as exc:
                raise UsageError(f"cannot read original {args.original}: {exc}") from None
            if actual != result["record"]["sha256"]:
                raise Invalid(f"the original file's SHA-256 is {actual}, but the record names "
                              f"{result['record']['sha256']}")
            result["original"] = {"path": args.original, "matches": True}
        if args.timestamp is not None:
            tsr = read_file(args.timestamp, "timestamp")
            result["timestamp"] = check_timestamp(tsr, result)
    except (UsageError, OSError) as exc:  # OSError: writing --print-checkpoint
        sys.stderr.write(f"svidok_verify.py: error: {exc}\n")
        return 2
    except Invalid as exc:
        print(json.dumps({"valid": False, "reason": str(exc)}) if args.json
              else f"INVALID: {exc}")
        return 1
    print(json.dumps(result, ensure_ascii=False, sort_keys=True) if args.json
          else report(result, args.bundle, args.timestamp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
