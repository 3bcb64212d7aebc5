"""The item's custody proof: the JSON the page and the API hand out is what the offline
verifier accepts, any change to it is rejected, and the page's script (run in Chromium)
reaches the same verdicts."""

from __future__ import annotations

import base64
import copy
import hashlib
import importlib.util
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Route
from sqlalchemy import delete

from svidok.custody import log
from svidok.custody.note import Signer
from svidok.db.schema import checkpoints
from svidok.home import Home

from .browser import live_server, signed_in_page
from .conftest import HTML, sign_in
from .made_items import make_items

VERIFIER = Path(__file__).resolve().parents[2] / "verifier" / "svidok_verify.py"
Answer = dict[str, Any]


def _load_verifier() -> ModuleType:
    spec = importlib.util.spec_from_file_location("svidok_verify", VERIFIER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["svidok_verify"] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


sv = _load_verifier()


@pytest.fixture
def made(home: Home, tmp_path: Path) -> dict[str, int]:
    return make_items(home, tmp_path / "evidence")


@pytest.fixture
def reader(client: TestClient) -> Iterator[TestClient]:
    assert sign_in(client, "vira").status_code == 303
    yield client


def bundle_of(answer: Answer) -> bytes:
    """The JSON put back together as the C2SP tlog-proof that `svidok log prove` writes."""
    lines = ["c2sp.org/tlog-proof@v1", "extra " + answer["entry"],
             f"index {answer['leaf_index']}", *answer["inclusion_path"]]
    return ("\n".join(lines) + "\n\n" + str(answer["checkpoint"])).encode()


def content_of(client: TestClient, answer: Answer) -> bytes:
    """What the capture names: the original's bytes, or the record of an item without."""
    if answer["record"] is not None:
        return base64.b64decode(answer["record"])
    fetched = client.get(answer["original"]["url"])
    assert fetched.status_code == 200
    return bytes(fetched.content)


def python_verdict(answer: Answer, vkey: str, content: bytes, sha256: str) -> None:
    """The offline verifier's checks, plus the two the page adds; sv.Invalid if any fails."""
    result = sv.verify_bundle(bundle_of(answer), sv.parse_vkey(vkey))
    if result["record"]["sha256"] != sha256 or result["record"]["action"] != "capture":
        raise sv.Invalid("the entry is not this item's capture")
    if hashlib.sha256(content).hexdigest() != sha256:
        raise sv.Invalid("the content does not have the named SHA-256")


# -- changes a server (or anyone between it and the browser) could make ----------------------

def _entry_time(answer: Answer, other: Answer) -> None:
    record = json.loads(base64.b64decode(answer["entry"]))
    record["time"] = record["time"].replace("20", "19", 1)  # still canonical, still a capture
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    answer["entry"] = base64.b64encode(text.encode()).decode()


def _path_hash(answer: Answer, other: Answer) -> None:
    raw = bytearray(base64.b64decode(answer["inclusion_path"][0]))
    raw[7] ^= 0x01
    answer["inclusion_path"][0] = base64.b64encode(bytes(raw)).decode()


def _path_dropped(answer: Answer, other: Answer) -> None:
    answer["inclusion_path"].pop()


def _leaf_index(answer: Answer, other: Answer) -> None:
    answer["leaf_index"] += 1


def _tree_size(answer: Answer, other: Answer) -> None:
    origin, size, rest = answer["checkpoint"].split("\n", 2)
    answer["checkpoint"] = f"{origin}\n{int(size) + 1}\n{rest}"


def _signature(answer: Answer, other: Answer) -> None:
    text, _, line = answer["checkpoint"].rstrip("\n").rpartition("\n")
    dash, name, blob = line.split(" ")
    raw = bytearray(base64.b64decode(blob))
    raw[-1] ^= 0x01
    answer["checkpoint"] = f"{text}\n{dash} {name} {base64.b64encode(bytes(raw)).decode()}\n"


def _other_key(answer: Answer, other: Answer) -> None:
    answer["vkey"] = Signer.generate(answer["vkey"].split("+")[0]).verifier.vkey


def _other_item(answer: Answer, other: Answer) -> None:
    for field in ("entry", "leaf_index", "inclusion_path"):
        answer[field] = copy.deepcopy(other[field])


# Each change, and the step of the page's check that must catch it.
TAMPERING: dict[str, tuple[Callable[[Answer, Answer], None], str]] = {
    "the entry's time": (_entry_time, "inclusion"),
    "a hash of the inclusion path": (_path_hash, "inclusion"),
    "the inclusion path shortened": (_path_dropped, "inclusion"),
    "the leaf index": (_leaf_index, "inclusion"),
    "the checkpoint's tree size": (_tree_size, "signature"),
    "the checkpoint's signature": (_signature, "signature"),
    "the log key": (_other_key, "signature"),
    "another item's entry and proof": (_other_item, "entry"),
}


# -- the JSON, checked in Python -------------------------------------------------------------

@pytest.mark.parametrize("which", ["photo", "places"])
def test_the_proof_is_what_the_offline_verifier_accepts(
        home: Home, made: dict[str, int], reader: TestClient, which: str) -> None:
    item_id = made[which]
    answer = reader.get(f"/items/{item_id}/proof.json").json()
    assert answer["state"] == "ready"
    # The key to trust is the instance's own (what `svidok log key` prints), not the answer's.
    published = log.verifier(home).vkey
    assert answer["vkey"] == published
    item = reader.get(f"/items/{item_id}", headers=HTML)
    assert answer["sha256"] in item.text
    content = content_of(reader, answer)
    # The photo has bytes of its own; a Telegram message is a record read out of its export.
    assert (answer["record"] is None) == (which == "photo")
    python_verdict(answer, published, content, answer["sha256"])
    assert answer["tree_size"] == 5 and answer["checkpoint_id"] == 1
    # The JSON API answers the same.
    assert reader.get(f"/api/v1/items/{item_id}/proof").json() == answer


@pytest.mark.parametrize("change", list(TAMPERING))
def test_any_change_to_the_proof_is_rejected(
        home: Home, made: dict[str, int], reader: TestClient, change: str) -> None:
    answer = reader.get(f"/items/{made['photo']}/proof.json").json()
    other = reader.get(f"/items/{made['places']}/proof.json").json()
    content = content_of(reader, answer)
    sha = answer["sha256"]
    python_verdict(answer, answer["vkey"], content, sha)
    TAMPERING[change][0](answer, other)
    with pytest.raises(sv.Invalid):
        python_verdict(answer, answer["vkey"], content, sha)


def test_other_bytes_than_the_original_are_rejected(
        made: dict[str, int], reader: TestClient) -> None:
    answer = reader.get(f"/items/{made['photo']}/proof.json").json()
    content = bytearray(content_of(reader, answer))
    content[100] ^= 0x01
    with pytest.raises(sv.Invalid):
        python_verdict(answer, answer["vkey"], bytes(content), answer["sha256"])


def test_a_capture_no_checkpoint_covers_yet_is_said_to_be_so(
        home: Home, made: dict[str, int], reader: TestClient) -> None:
    with home.engine.begin() as conn:
        conn.execute(delete(checkpoints))
    answer = reader.get(f"/items/{made['photo']}/proof.json").json()
    assert answer["state"] == "unsigned" and answer["checkpoint"] is None
    assert answer["inclusion_path"] == [] and answer["entry"]  # the entry is logged already
    # Reading never signs a checkpoint.
    assert reader.get(f"/items/{made['photo']}/proof.json").json()["state"] == "unsigned"


def test_no_proof_of_an_item_that_is_not_there(reader: TestClient, made: dict[str, int]
                                               ) -> None:
    assert reader.get("/items/999999/proof.json").status_code == 404
    assert reader.get("/api/v1/items/999999/proof").status_code == 404
    assert reader.get("/items/0/proof.json").status_code == 404


# -- the page's script, in Chromium ----------------------------------------------------------

def _steps(page: Any) -> dict[str, str]:
    found: dict[str, str] = page.eval_on_selector_all(
        "#proof-steps li", "items => Object.fromEntries(items.map("
        "li => [li.dataset.step, li.dataset.outcome]))")
    return found


@pytest.mark.parametrize("which", ["photo", "places"])
def test_the_browser_checks_the_proof_and_says_verified(
        home: Home, made: dict[str, int], which: str) -> None:
    with live_server(home) as url, signed_in_page(home, url) as tab:
        tab.page.goto(f"{url}/items/{made[which]}")
        tab.page.wait_for_selector('#proof-status[data-state="verified"]')
        assert _steps(tab.page) == {step: "ok" for step in (
            "key", "signature", "checkpoint", "entry", "inclusion", "original")}
        assert tab.page.text_content('[data-field="size"]') == "5"
        assert tab.page.text_content('[data-field="key"]') == log.verifier(home).vkey
        assert "Verified" in (tab.page.text_content("#proof-status") or "")
        assert tab.outside == []


@pytest.mark.parametrize("change", list(TAMPERING))
def test_a_tampered_proof_fails_in_the_browser(
        home: Home, made: dict[str, int], client: TestClient, change: str) -> None:
    sign_in(client, "vira")
    other = client.get(f"/items/{made['places']}/proof.json").json()
    tamper, step = TAMPERING[change]

    def altered(route: Route) -> None:
        response = route.fetch()
        answer = response.json()
        tamper(answer, other)
        route.fulfill(response=response, json=answer)

    with live_server(home) as url, signed_in_page(home, url) as tab:
        tab.page.route("**/proof.json", altered)
        tab.page.goto(f"{url}/items/{made['photo']}")
        status = tab.page.wait_for_selector('#proof-status[data-state="failed"]')
        assert status is not None
        assert status.get_attribute("data-failed-step") == step, status.get_attribute(
            "data-reason")
        assert _steps(tab.page)[step] == "bad"


def test_other_bytes_than_the_original_fail_in_the_browser(
        home: Home, made: dict[str, int]) -> None:
    def altered(route: Route) -> None:
        response = route.fetch()
        body = bytearray(response.body())
        body[100] ^= 0x01
        route.fulfill(response=response, body=bytes(body))

    with live_server(home) as url, signed_in_page(home, url) as tab:
        tab.page.route("**/original", altered)
        tab.page.goto(f"{url}/items/{made['photo']}")
        status = tab.page.wait_for_selector('#proof-status[data-state="failed"]')
        assert status is not None and status.get_attribute("data-failed-step") == "original"
        assert _steps(tab.page)["inclusion"] == "ok"


def test_the_page_says_when_no_checkpoint_covers_the_item_yet(
        home: Home, made: dict[str, int]) -> None:
    with home.engine.begin() as conn:
        conn.execute(delete(checkpoints))
    with live_server(home) as url, signed_in_page(home, url) as tab:
        tab.page.goto(f"{url}/items/{made['photo']}")
        status = tab.page.wait_for_selector('#proof-status[data-state="unsigned"]')
        assert status is not None
        assert "not yet in a signed checkpoint" in (status.text_content() or "")


def test_the_api_route_is_in_the_openapi_document(reader: TestClient) -> None:
    document = reader.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/items/{item_id}/proof"]["get"]
    assert "ItemProof" in json.dumps(operation["responses"]["200"])
    assert {"401", "403", "404"} <= set(operation["responses"])
