"""Verification status: each change a custody event in the same transaction, shown in the
item's history; who may change it; what is refused; the CLI and the API do the same."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from conftest import run_svidok
from svidok.cases.verification import NOTE_MAX, document, set_status
from svidok.custody import log
from svidok.custody.events import Actor, CustodyEvent, append, digest
from svidok.custody.proofs import events_of
from svidok.db.schema import artifacts, items, verification_decisions
from svidok.home import Home
from svidok.locker.ingest import IngestOptions, ingest

from .conftest import HTML, form_token, sign_in

HTMX = {**HTML, "hx-request": "true"}
STATUSES = ["unverified", "in_progress", "verified", "disputed", "false"]


def stored_item(home: Home, tmp_path: Path, name: str = "letter.txt",
                text: str = "Лист: на блокпосту забрали паспорт.\n") -> dict[str, Any]:
    folder = tmp_path / f"in-{name}"
    folder.mkdir()
    (folder / name).write_text(text, encoding="utf-8")
    report = ingest(home, [folder], IngestOptions(collector="someone"))
    (outcome,) = [o for o in report.outcomes if o.item_id]
    with home.engine.connect() as conn:
        row = conn.execute(select(items).where(items.c.id == outcome.item_id)).one()
    return dict(row._mapping)


def decisions_count(home: Home) -> int:
    with home.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(
            verification_decisions)).scalar_one())


def verify_events(home: Home, sha256: str) -> list[dict[str, Any]]:
    with home.engine.connect() as conn:
        return [e.body for e in events_of(conn, sha256) if e.action == "verify"]


def post_status(client: TestClient, item_id: int, status: str, note: str = "",
                headers: dict[str, str] | None = None, token: str | None = None) -> Any:
    page = client.get(f"/items/{item_id}", headers=HTML)
    fields = {"status": status, "note": note,
              "csrf_token": form_token(page.text) if token is None else token}
    return client.post(f"/items/{item_id}/status", data=fields, headers=headers or HTMX)


def test_a_status_change_is_a_custody_event_shown_in_the_history(
        client: TestClient, home: Home, tmp_path: Path) -> None:
    item = stored_item(home, tmp_path)
    item_id, sha = item["id"], item["sha256"]
    assert sign_in(client, "olena").status_code == 303

    page = client.get(f"/items/{item_id}", headers=HTML)
    assert page.status_code == 200
    assert 'id="status-form"' in page.text and 'id="history"' in page.text
    form = page.text.split('id="status-form"', 1)[1].split("</form>", 1)[0]
    assert re.findall(r'<option value="([a-z_]+)"', form) == STATUSES
    assert 'name="note"' in form and 'type="submit"' in form
    assert f'hx-post="/items/{item_id}/status"' in form
    assert 'data-status="unverified"' in page.text  # the default, before anyone decides

    answer = post_status(client, item_id, "verified", "Matches the channel's original post.")
    assert answer.status_code == 200
    assert 'id="review"' in answer.text and 'hx-swap-oob="true"' in answer.text
    assert '<tr class="event event-verify" data-action="verify" data-status="verified">' \
        in answer.text

    # The decision and its event, written together.
    (event,) = verify_events(home, sha)
    assert event["actor"]["user"] == "olena" and event["actor"]["component"] == "svidok.web"
    assert event["details"] == {"item": item_id, "status": "verified", "from": "unverified"}
    assert "Matches" not in json.dumps(event)  # the note is committed to by hash only
    with home.engine.connect() as conn:
        row = conn.execute(select(verification_decisions)).one()
    assert row.note == "Matches the channel's original post." and row.decided_by == "olena"
    assert row.context == event["context"] == digest(document(
        item_id, sha, "verified", "unverified", row.note, "olena", row.decided_at))

    # The item page: the status, and the history newest first with its log indexes.
    page = client.get(f"/items/{item_id}", headers=HTML)
    assert 'data-status="verified"' in page.text and "Matches the channel" in page.text
    history = page.text.split('id="history"', 1)[1]
    actions = re.findall(r'data-action="([a-z]+)"', history)
    assert actions == ["verify", "capture"]
    indexes = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', history)]
    assert indexes == sorted(indexes, reverse=True) and indexes[0] == row.event_seq

    # The log, with the new event, still verifies end to end.
    log.checkpoint(home)
    report = log.check(home)
    assert report.problems == [], report.problems


def test_the_history_shows_sightings_enrichment_and_derived_artifacts(
        client: TestClient, home: Home, tmp_path: Path) -> None:
    item = stored_item(home, tmp_path)
    stored_item(home, tmp_path, name="copy.txt")  # the same bytes again: a sighting
    now = datetime.now(UTC)
    derived = "ab" * 32
    with home.engine.begin() as conn:
        append(conn, [CustodyEvent("metadata", Actor("svidok.enrich"), now, item["sha256"],
                                   details={"enrichers": "text,language"}),
                      CustodyEvent("derive", Actor("svidok.enrich.text"), now, derived,
                                   previous=item["sha256"], details={"role": "text"}),
                      # Another item's derive of the same bytes is not this item's history.
                      CustodyEvent("derive", Actor("svidok.enrich.text"), now, derived,
                                   previous="cd" * 32, details={"role": "text"})])
        conn.execute(insert(artifacts).values(
            item_id=item["id"], enricher="text", version="1", role="text", sha256=derived,
            media_type="text/plain", size=3, content="abc", created_at=now))
    set_status(home.engine, item["id"], "in_progress", "checking the place", decided_by="olena")
    sign_in(client, "vira")
    page = client.get(f"/items/{item['id']}", headers=HTML)
    history = page.text.split('id="history"', 1)[1]
    assert re.findall(r'data-action="([a-z]+)"', history) == [
        "verify", "derive", "metadata", "sighting", "capture"]
    assert 'data-status="in_progress"' in history and "checking the place" in history


@pytest.mark.parametrize(("name", "may"), [("admin", True), ("olena", True),
                                           ("taras", False), ("vira", False)])
def test_only_roles_holding_items_status_may_change_it(
        client: TestClient, home: Home, tmp_path: Path, name: str, may: bool) -> None:
    item = stored_item(home, tmp_path)
    sign_in(client, name)
    page = client.get(f"/items/{item['id']}", headers=HTML)
    assert page.status_code == 200 and 'id="history"' in page.text
    assert ('id="status-form"' in page.text) is may
    answer = post_status(client, item["id"], "disputed", "two sources disagree",
                         headers=HTML)
    if may:
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/items/{item['id']}#review"
        assert decisions_count(home) == 1
    else:
        assert answer.status_code == 403
        assert decisions_count(home) == 0 and verify_events(home, item["sha256"]) == []


def test_bad_values_a_long_note_and_a_missing_token_are_refused(
        client: TestClient, home: Home, tmp_path: Path) -> None:
    item = stored_item(home, tmp_path)
    sign_in(client, "olena")
    for status in ("confirmed", "", "VERIFIED", "verified'--"):
        answer = post_status(client, item["id"], status)
        assert answer.status_code == 422, status
        assert "unknown status" in answer.text and 'id="review"' in answer.text
    assert post_status(client, item["id"], "false", "x" * (NOTE_MAX + 1)).status_code == 422
    assert post_status(client, item["id"], "false", "bad\x00note").status_code == 422
    assert post_status(client, item["id"], "false", token="").status_code == 403
    assert post_status(client, item["id"], "false", token="forged").status_code == 403
    assert client.post(f"/items/{item['id']}/status", data={"status": "false"},
                       headers=HTML).status_code == 403
    token = form_token(client.get(f"/items/{item['id']}", headers=HTML).text)
    assert post_status(client, 999_999, "false", token=token).status_code == 404
    assert decisions_count(home) == 0 and verify_events(home, item["sha256"]) == []
    # The longest note is kept whole.
    assert post_status(client, item["id"], "false", "y" * NOTE_MAX).status_code == 200
    assert decisions_count(home) == 1


def test_decisions_chain_and_the_same_decision_twice_records_nothing(
        home: Home, tmp_path: Path) -> None:
    item = stored_item(home, tmp_path)
    first = set_status(home.engine, item["id"], "in_progress", "asking the author",
                       decided_by="olena")
    again = set_status(home.engine, item["id"], "in_progress", " asking the author ",
                       decided_by="admin")
    assert first.changed and not again.changed
    second = set_status(home.engine, item["id"], "verified", None, decided_by="admin")
    assert second.decision.previous_status == "in_progress"
    events = verify_events(home, item["sha256"])
    assert len(events) == 2 and decisions_count(home) == 2
    assert "previous" not in events[0]
    assert events[1]["previous"] == first.decision.context  # each names the one before


def test_the_command_line_records_the_same_event_and_shows_the_status(
        home: Home, env: dict[str, str], tmp_path: Path) -> None:
    item = stored_item(home, tmp_path)
    done = run_svidok(["items", "status", str(item["id"]), "disputed", "--note",
                       "the date does not match", "--by", "olena", "--json"], env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["decision"]["status"] == "disputed"
    (event,) = verify_events(home, item["sha256"])
    assert event["actor"] == {"component": "svidok.cli", "user": "olena",
                              "version": event["actor"]["version"]}
    shown = run_svidok(["items", "show", str(item["id"]), "--json"], env)
    verification = json.loads(shown.stdout)["verification"]
    assert verification["status"] == "disputed"
    assert verification["note"] == "the date does not match"
    human = run_svidok(["items", "show", str(item["id"])], env)
    assert "Verification: disputed, by olena" in human.stdout
    assert run_svidok(["items", "status", str(item["id"]), "fake"], env).returncode == 2
    assert run_svidok(["items", "status", "999999", "verified"], env).returncode == 1
    assert len(verify_events(home, item["sha256"])) == 1


def test_the_api_changes_the_status_and_lists_the_history(
        client: TestClient, home: Home, tmp_path: Path) -> None:
    item = stored_item(home, tmp_path)
    sign_in(client, "olena")
    token = form_token(client.get(f"/items/{item['id']}", headers=HTML).text)
    url = f"/api/v1/items/{item['id']}/status"
    assert client.post(url, json={"status": "verified"}).status_code == 403  # no CSRF header
    headers = {"x-csrf-token": token}
    # Every value refused is a 422 in FastAPI's shape, naming it: FastAPI's own checks
    # (status, length) and the note's control characters alike.
    for body, field in (({"status": "sure"}, "status"),
                        ({"status": "false", "note": "z" * (NOTE_MAX + 1)}, "note"),
                        ({"status": "false", "note": "bad\x00note"}, "note")):
        refused = client.post(url, json=body, headers=headers)
        assert refused.status_code == 422, body
        assert [d["loc"] for d in refused.json()["detail"]] == [["body", field]], body
    # Unverified already, and nothing to say: the item's state refuses it (a sentence).
    already = client.post(url, json={"status": "unverified"}, headers=headers)
    assert already.status_code == 409 and "already unverified" in already.json()["detail"]
    answer = client.post(url, json={"status": "verified", "note": "seen the original"},
                         headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["changed"] and answer.json()["decision"]["status"] == "verified"
    history = client.get(f"/api/v1/items/{item['id']}/history").json()
    assert history["status"] == "verified"
    assert [e["action"] for e in history["events"]] == ["verify", "capture"]
    assert history["events"][0]["note"] == "seen the original"
    assert history["events"][0]["log_index"] == answer.json()["decision"]["log_index"]
    assert client.get("/api/v1/items/999999/history").status_code == 404
    sign_in(client, "vira")
    assert client.get(f"/api/v1/items/{item['id']}/history").status_code == 200
    assert client.post(url, json={"status": "false"}, headers=headers).status_code == 403
