"""C2SP signed notes and checkpoints against the published golang/mod, C2SP and
transparency-dev vectors (tests/data/transparency, see PROVENANCE.md)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from svidok.custody.note import CheckpointBody, NoteError, Signer, Verifier, open_note

DATA = Path(__file__).parents[1] / "data" / "transparency"
NOTES: list[dict[str, Any]] = json.loads((DATA / "signed_note_vectors.json").read_text())[
    "vectors"]
CHECKPOINTS: list[dict[str, Any]] = json.loads(
    (DATA / "checkpoint_vectors.json").read_text())["vectors"]


def vector(group: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    return next(v for v in group if v["name"].startswith(prefix))


def test_signing_reproduces_the_published_note_byte_for_byte() -> None:
    v = vector(NOTES, "golang-mod PeterNeumann")
    signer = Signer.parse(v["signer_key_go_format"])
    assert signer.seed.hex() == v["ed25519_seed_hex"]
    assert signer.skey == v["signer_key_go_format"]
    assert signer.verifier.vkey == v["verifier_key"]
    assert signer.verifier.key_id.hex() == v["key_id_hex"]
    assert signer.sign(v["text"]) == v["signed_note"]  # Ed25519 is deterministic
    assert open_note(v["signed_note"], [Verifier.parse(v["verifier_key"])]) == v["text"]


def test_each_of_two_signers_opens_the_note_alone() -> None:
    v = vector(NOTES, "golang-mod two signatures")
    enoch = Signer("EnochRoot", bytes.fromhex(v["enoch_ed25519_seed_hex"]))
    assert enoch.verifier.vkey == v["verifier_keys"][1]
    for vkey in v["verifier_keys"]:
        assert open_note(v["signed_note"], [Verifier.parse(vkey)]) == v["text"]


def test_published_key_pairs() -> None:
    for pair in vector(NOTES, "transparency-dev/formats published")["keys"]:
        signer = Signer.parse(pair["signer_key_go_format"])
        assert signer.verifier.vkey == pair["verifier_key"]
        assert signer.verifier.key_id.hex() == pair["key_id_type01_hex"]


@pytest.mark.parametrize("bad", [k["vkey"] for k in vector(
    NOTES, "golang-mod invalid verifier keys")["invalid_verifier_keys"]] + [
    "", "PeterNeumann", "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "PeterNeumann+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"])
def test_invalid_verifier_keys_are_refused(bad: str) -> None:
    with pytest.raises(NoteError):
        Verifier.parse(bad)


@pytest.mark.parametrize("case", vector(NOTES, "golang-mod malformed notes")["malformed_notes"],
                         ids=lambda c: c["why"])
def test_malformed_notes_are_refused(case: dict[str, str]) -> None:
    key = Verifier.parse(vector(NOTES, "golang-mod malformed notes")["verifier_key"])
    with pytest.raises(NoteError):
        open_note(case["note"], [key])


def test_a_known_key_with_a_bad_signature_rejects_the_whole_note() -> None:
    v = vector(NOTES, "golang-mod known key, bad signature")
    with pytest.raises(NoteError, match="does not verify"):
        open_note(v["signed_note"], [Verifier.parse(v["verifier_key"])])


def test_the_c2sp_example_and_the_last_blank_line_rule() -> None:
    example = vector(NOTES, "C2SP signed-note spec example")
    assert open_note(example["signed_note"],
                     [Verifier.parse(example["verifier_key"])]) == example["text"]
    poem = vector(NOTES, "C2SP signed-note opening example")
    # Its text has a blank line of its own; the split must not happen there.
    with pytest.raises(NoteError, match="no signature by a known key"):
        open_note(poem["signed_note"], [Verifier.parse(example["verifier_key"])])


def test_no_more_than_100_signature_lines() -> None:
    v = vector(NOTES, "golang-mod PeterNeumann")
    line = v["signed_note"].split("\n\n", 1)[1]
    with pytest.raises(NoteError, match="more than 100"):
        open_note(v["text"] + "\n" + line * 101, [Verifier.parse(v["verifier_key"])])


def test_names_that_cannot_sign() -> None:
    for name in ("", "a b", "a+b", "tab\there"):
        with pytest.raises(NoteError):
            Signer(name, bytes(32))


def test_checkpoint_bodies() -> None:
    body = vector(CHECKPOINTS, "golang/mod sumdb tree note body")
    parsed = CheckpointBody.parse(body["checkpoint_body"])
    assert (parsed.origin, parsed.size) == (body["origin"], body["tree_size"])
    assert base64.b64encode(parsed.root).decode() == body["root_hash_b64"]
    assert parsed.text() == body["checkpoint_body"]
    for case in vector(CHECKPOINTS, "transparency-dev/formats checkpoint body")["cases"]:
        lines = case["body"].split("\n")
        root_ok = case["valid"] and len(base64.b64decode(lines[2])) == 32
        if root_ok:
            assert CheckpointBody.parse(case["body"]).size == case["size"]
        else:  # refused, and so are roots that are not SHA-256 sized ("bananas")
            with pytest.raises(NoteError):
                CheckpointBody.parse(case["body"])


def test_a_signed_checkpoint_with_a_witness_cosignature() -> None:
    v = vector(CHECKPOINTS, "DERIVED")
    text = open_note(v["signed_checkpoint"], [Verifier.parse(v["log_verifier_key"])])
    assert text == v["checkpoint_body"]  # the cosignature line, by an unknown key, is skipped
    assert CheckpointBody.parse(text).size == 8


def test_extension_lines_are_allowed_but_not_empty() -> None:
    root = base64.b64encode(bytes(range(32))).decode()
    assert CheckpointBody.parse(f"Log\n5\n{root}\nextra line\n").size == 5
    for bad in (f"Log\n5\n{root}\n\nextra\n", f"Log\n05\n{root}\n", f"Log\n5\n{root}",
                f"Log\n18446744073709551616\n{root}\n"):
        with pytest.raises(NoteError):
            CheckpointBody.parse(bad)
