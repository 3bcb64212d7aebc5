"""Uploads: streamed into staging, ingested by a background job as ``svidok ingest`` does,
with the uploader as collector; export ZIPs unpacked safely; refusals leave nothing behind;
a job a stopped server left shows as interrupted."""

from __future__ import annotations

import errno
import io
import json
import os
import stat
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from svidok.access import add_user
from svidok.custody.contexts import check_contexts
from svidok.db.schema import batches, items, upload_jobs
from svidok.home import Home
from svidok.locker.upload_jobs import Job, create_job, get_job, staging_root
from svidok.locker.uploads import run_job
from svidok.web import upload_stream, upload_worker
from svidok.web.app import create_app
from svidok.web.upload_stream import safe_name

from .conftest import HTML, PASSWORD, form_token, sign_in

PHOTO = (Path(__file__).parents[1] / "data" / "photo.jpg").read_bytes()


@pytest.fixture(autouse=True)
def no_enrichment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Enrichment loads language models (seconds); the job's enrich step is the same call
    # as 'svidok ingest --enrich', which the enrich tests cover.
    monkeypatch.setenv("SVIDOK_UPLOAD_ENRICH", "false")


@pytest.fixture
def uploader(client: TestClient) -> Iterator[TestClient]:
    """The client signed in as taras (documenter); waits for the upload worker at the end,
    so no job outlives its data folder."""
    assert sign_in(client, "taras").status_code == 303
    yield client
    worker = client.app.state.upload_worker  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    while not worker.idle() and time.monotonic() < deadline:
        time.sleep(0.05)


def token(client: TestClient) -> str:
    return form_token(client.get("/upload", headers=HTML).text)


def send(client: TestClient, files: list[tuple[str, bytes]], json_answer: bool = False,
         **fields: str) -> Any:
    data = {"csrf_token": token(client), **fields}
    headers = {"accept": "application/json"} if json_answer else HTML
    return client.post("/upload", data=data, headers=headers,
                       files=[("files", (name, body, "application/octet-stream"))
                              for name, body in files])


def multipart(parts: list[tuple[str, str | None, bytes]]) -> tuple[bytes, dict[str, str]]:
    """A body as a browser builds it, in this order; a part with a file name is a file."""
    boundary = "svidokboundary"
    body = b""
    for name, filename, value in parts:
        disposition = f'form-data; name="{name}"' + (
            f'; filename="{filename}"' if filename is not None else "")
        body += (f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n").encode()
        body += value + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, {"content-type": f"multipart/form-data; boundary={boundary}"}


def job_id_of(answer: Any) -> int:
    if answer.status_code == 303:
        return int(answer.headers["location"].rsplit("/", 1)[1])
    assert answer.status_code == 202, answer.text
    return int(answer.json()["job"])


def wait(client: TestClient, job_id: int, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(f"/api/v1/uploads/{job_id}").json()
        if job["state"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def item_rows(home: Home, *where: Any) -> list[Any]:
    with home.engine.connect() as conn:
        return list(conn.execute(select(items).where(*where).order_by(items.c.id)))


def staging_is_empty(home: Home) -> bool:
    root = staging_root(home)
    return not root.exists() or not any(root.iterdir())


def zipped(members: dict[str, bytes], *, links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return buffer.getvalue()


def telegram_export() -> dict[str, bytes]:
    messages = [{"id": n, "type": "message", "date": "2024-03-01T10:00:00",
                 "date_unixtime": str(1_709_280_000 + 60 * n), "from": "Kharkiv news",
                 "from_id": "channel1001", "text": f"Повідомлення {n}: блокпост біля мосту"}
                for n in (1, 2, 3)]
    messages[1]["photo"] = "photos/photo_2@01-03-2024_10-02-00.jpg"
    result = {"name": "Kharkiv news", "type": "public_channel", "id": 1001,
              "messages": messages}
    return {"ChatExport_2024-03-01/result.json": json.dumps(result, ensure_ascii=False,
                                                            indent=1).encode(),
            "ChatExport_2024-03-01/photos/photo_2@01-03-2024_10-02-00.jpg": PHOTO}


# -- the page and one file ---------------------------------------------------------------


def test_an_uploaded_file_becomes_an_item_with_the_uploader_as_collector(
        uploader: TestClient, home: Home) -> None:
    page = uploader.get("/upload", headers=HTML)
    assert page.status_code == 200
    for marker in ('id="drop-zone"', 'id="upload-input"', 'multiple', 'id="upload-progress"',
                   'id="upload-results"', 'src="/static/js/upload.js"',
                   'data-csrf-token="'):
        assert marker in page.text, marker
    assert 'href="/upload"' in page.text  # the navigation offers it to a documenter
    assert uploader.get("/static/js/upload.js").status_code == 200

    answer = send(uploader, [("лист від Олени.txt", "Лист: забрали паспорт.\n".encode())],
                  note="handed over in person")
    assert answer.status_code == 303  # the form without scripts: to the job's page
    job_id = job_id_of(answer)
    job = wait(uploader, job_id)
    assert job["state"] == "done", job
    (item,) = item_rows(home, items.c.state == "stored")
    assert item.collector == "taras" and item.note == "handed over in person"
    assert item.original_name == item.rel_path == "лист від Олени.txt"
    assert job["result"]["items"] == [{"id": item.id, "name": "лист від Олени.txt",
                                       "state": "stored", "media_type": item.media_type,
                                       "size": item.size}]
    with home.engine.connect() as conn:
        assert check_contexts(conn) == (1, [])  # the capture event commits to the collector

    shown = uploader.get(f"/upload/jobs/{job_id}", headers=HTML)
    assert 'id="upload-job"' in shown.text and 'data-state="done"' in shown.text
    assert f'href="/items/{item.id}"' in shown.text and "hx-trigger" not in shown.text
    assert staging_is_empty(home)

    # The same bytes again, under another name, sent by the script: already in the locker.
    again = send(uploader, [("copy.txt", "Лист: забрали паспорт.\n".encode())],
                 json_answer=True)
    assert again.status_code == 202 and again.json()["url"].startswith("/upload/jobs/")
    job = wait(uploader, job_id_of(again))
    assert [(i["id"], i["state"]) for i in job["result"]["items"]] == [(item.id, "sighting")]
    partial = uploader.get(again.json()["url"], headers={**HTML, "hx-request": "true"})
    assert "Already in the locker" in partial.text and f'href="/items/{item.id}"' in partial.text
    assert len(item_rows(home, items.c.state == "stored")) == 1


def test_a_job_is_polled_until_it_ends(uploader: TestClient, home: Home) -> None:
    job_id = create_job(home.engine, 3, "taras", "someone")  # taras is user 3
    partial = uploader.get(f"/upload/jobs/{job_id}", headers={**HTML, "hx-request": "true"})
    assert 'data-state="queued"' in partial.text
    assert f'hx-get="/upload/jobs/{job_id}"' in partial.text
    assert 'hx-trigger="every 1s"' in partial.text
    assert "<html" not in partial.text  # the section alone, for htmx


def test_files_named_to_escape_are_staged_under_safe_names(
        uploader: TestClient, home: Home) -> None:
    assert safe_name("../../etc/passwd", 1) == "passwd"
    assert safe_name("C:\\Users\\x\\photo.jpg", 1) == "photo.jpg"
    assert safe_name("..", 4) == "file-4" and safe_name("", 2) == "file-2"
    assert safe_name("evil\u202egpj.exe", 1) == "evilgpj.exe"
    assert safe_name("a\x00b\nc.txt", 1) == "abc.txt"
    long = safe_name("я" * 300 + ".jpeg", 1)
    assert long.endswith(".jpeg") and len(long.encode()) <= 200
    job = wait(uploader, job_id_of(send(uploader, [("../../../outside.txt", b"x\n")])))
    assert job["state"] == "done"
    (item,) = item_rows(home, items.c.state == "stored")
    assert item.original_name == "outside.txt" and ".." not in item.root
    assert Path(item.root).is_relative_to(staging_root(home))
    assert not (staging_root(home).parent.parent / "outside.txt").exists()


# -- export archives -----------------------------------------------------------------------


def test_a_telegram_export_zip_is_imported_as_a_channel_with_its_messages(
        uploader: TestClient, home: Home) -> None:
    archive = zipped(telegram_export())
    job = wait(uploader, job_id_of(send(uploader, [("ChatExport_2024-03-01.zip", archive)])))
    assert job["state"] == "done", job
    (chat,) = item_rows(home, items.c.kind == "chat")
    assert chat.source_key == "telegram:1001" and chat.collector == "taras"
    messages = item_rows(home, items.c.kind == "message", items.c.parent_id == chat.id)
    assert len(messages) == 3
    (read,) = job["result"]["imports"]
    assert read["importer"].startswith("telegram/") and read["state"] == "finished"
    assert read["name"] == "ChatExport_2024-03-01.zip/ChatExport_2024-03-01/result.json"
    # The archive itself is kept too: the bytes exactly as they were handed over.
    (kept,) = item_rows(home, items.c.original_name == "ChatExport_2024-03-01.zip")
    assert kept.state == "stored" and kept.size == len(archive)
    photo = item_rows(home, items.c.media_type == "image/jpeg", items.c.state == "stored")
    assert photo, "the message's photo is stored"
    assert staging_is_empty(home)


HOSTILE = {
    "zip-slip": ({"export/result.json": b"{}", "../../evil.txt": b"owned"}, None,
                 "outside the folder"),
    "absolute": ({"/etc/cron.d/evil": b"owned"}, None, "outside the folder"),
    "drive": ({"C:/evil.txt": b"owned"}, None, "outside the folder"),
    "symlink": ({"export/result.json": b"{}"}, {"export/photos": "/etc"}, "symbolic link"),
    "bomb": ({"export/zeros.bin": bytes(20 * 1024 * 1024)}, None, "ZIP bomb"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_hostile_archive_is_refused_with_a_clear_message_and_nothing_is_ingested(
        uploader: TestClient, home: Home, kind: str) -> None:
    members, links, said = HOSTILE[kind]
    job = wait(uploader, job_id_of(send(uploader, [
        ("notes.txt", b"a good file beside it\n"), ("export.zip", zipped(members, links=links))])))
    assert job["state"] == "failed" and said in job["message"], job
    assert "export.zip" in job["message"] and "nothing was unpacked" in job["message"]
    assert item_rows(home) == [] and staging_is_empty(home)
    assert not (home.settings.home / "evil.txt").exists()
    page = uploader.get(f"/upload/jobs/{job['id']}", headers=HTML)
    assert 'data-state="failed"' in page.text and said in page.text


def test_an_archive_unpacking_beyond_the_cap_is_refused(uploader: TestClient,
                                                        home: Home) -> None:
    home.settings = replace(home.settings, upload_unpack_max_bytes=1000)
    job = wait(uploader, job_id_of(send(uploader, [
        ("export.zip", zipped({f"part-{n}.txt": os.urandom(400) for n in range(4)}))])))
    assert job["state"] == "failed" and "upload_unpack_max_bytes" in job["message"]
    assert item_rows(home) == [] and staging_is_empty(home)


# -- refusals that keep nothing ------------------------------------------------------------


def test_an_upload_over_the_size_cap_is_refused_and_leaves_nothing(
        uploader: TestClient, home: Home) -> None:
    home.settings = replace(home.settings, upload_max_bytes=1000)
    # Within the declared length's slack: refused while streaming, at byte 1001.
    answer = send(uploader, [("a.bin", os.urandom(600)), ("b.bin", os.urandom(600))],
                  json_answer=True)
    assert answer.status_code == 413 and "upload_max_bytes" in answer.json()["detail"]
    # Refused by its declared length before a byte is read.
    big = send(uploader, [("c.bin", os.urandom(2 * 1024 * 1024))], json_answer=True)
    assert big.status_code == 413
    assert item_rows(home) == [] and staging_is_empty(home)
    with home.engine.connect() as conn:
        states = set(conn.scalars(select(upload_jobs.c.state)))
    assert states == {"failed"}


def test_a_full_disk_while_streaming_removes_the_partial_file(
        uploader: TestClient, home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[int] = []
    real = upload_stream._write_chunk

    def filling(fd: int, data: bytes) -> None:
        # Some bytes reach the disk, then it is full.
        real(fd, data[:65536])
        written.append(65536)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(upload_stream, "_write_chunk", filling)
    answer = send(uploader, [("video.mp4", os.urandom(3 * 1024 * 1024))], json_answer=True)
    assert answer.status_code == 507 and "disk" in answer.json()["detail"]
    assert written, "part of the file was written before the disk filled"
    assert staging_is_empty(home) and item_rows(home) == []
    with home.engine.connect() as conn:
        (job,) = conn.execute(select(upload_jobs)).all()
    assert job.state == "failed" and "full" in job.message


def test_without_the_token_or_with_it_after_the_files_nothing_is_kept(
        uploader: TestClient, home: Home) -> None:
    files = [("files", ("a.txt", b"text\n", "text/plain"))]
    assert uploader.post("/upload", files=files, headers=HTML).status_code == 403
    assert uploader.post("/upload", data={"csrf_token": "forged"}, files=files,
                         headers=HTML).status_code == 403
    # The token after the file comes too late: nothing is kept before it is checked.
    body, headers = multipart([("files", "a.txt", b"text"),
                               ("csrf_token", None, token(uploader).encode())])
    assert uploader.post("/upload", content=body, headers={**HTML, **headers}
                         ).status_code == 403
    # Cut off mid-way: no closing boundary.
    body, headers = multipart([("csrf_token", None, token(uploader).encode()),
                               ("files", "a.txt", b"text")])
    cut = uploader.post("/upload", content=body[:-30], headers={**HTML, **headers})
    assert cut.status_code == 400 and "cut off" in cut.text
    assert item_rows(home) == [] and staging_is_empty(home)


def test_bad_fields_are_refused(uploader: TestClient, home: Home) -> None:
    one = [("a.txt", b"text\n")]
    assert send(uploader, one, json_answer=True, tz="Mars/Olympus").status_code == 422
    assert send(uploader, one, json_answer=True, note="n" * 2001).status_code == 422
    # A browser sends an empty part for a file input left empty: no file chosen.
    body, headers = multipart([("csrf_token", None, token(uploader).encode()),
                               ("files", "", b"")])
    empty = uploader.post("/upload", content=body,
                          headers={**headers, "accept": "application/json"})
    assert empty.status_code == 400 and "at least one file" in empty.json()["detail"]
    body, headers = multipart([("csrf_token", None, token(uploader).encode()),
                               ("secret", None, b"x")])
    assert uploader.post("/upload", content=body, headers=headers).status_code == 400
    assert uploader.post("/upload", data={"csrf_token": token(uploader)},
                         headers={"accept": "application/json"}).status_code == 415
    assert item_rows(home) == [] and staging_is_empty(home)


# -- who may -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["olena", "vira"])
def test_roles_without_items_upload_are_refused(client: TestClient, home: Home,
                                                name: str) -> None:
    sign_in(client, name)
    assert client.get("/upload", headers=HTML).status_code == 403
    assert 'href="/upload"' not in client.get("/", headers=HTML).text
    token = form_token(client.get("/", headers=HTML).text)
    answer = client.post("/upload", data={"csrf_token": token}, headers=HTML,
                         files=[("files", ("a.txt", b"text\n", "text/plain"))])
    assert answer.status_code == 403
    assert client.post("/api/v1/uploads", headers={"x-csrf-token": token},
                       files=[("files", ("a.txt", b"t\n", "text/plain"))]).status_code == 403
    assert item_rows(home) == [] and staging_is_empty(home)


def test_a_job_is_seen_by_its_uploader_and_administrators_only(
        uploader: TestClient, home: Home) -> None:
    add_user(home.engine, "petro", "documenter", PASSWORD)
    job_id = job_id_of(send(uploader, [("a.txt", b"text\n")]))
    wait(uploader, job_id)
    sign_in(uploader, "petro")
    assert uploader.get(f"/upload/jobs/{job_id}", headers=HTML).status_code == 404
    assert uploader.get(f"/api/v1/uploads/{job_id}").status_code == 404
    sign_in(uploader, "admin")
    assert uploader.get(f"/upload/jobs/{job_id}", headers=HTML).status_code == 200


def test_the_api_uploads_and_reports_the_job(uploader: TestClient, home: Home) -> None:
    headers = {"x-csrf-token": token(uploader)}
    answer = uploader.post("/api/v1/uploads", headers=headers,
                           files=[("files", ("photo.jpg", PHOTO, "image/jpeg"))])
    assert answer.status_code == 202, answer.text
    assert answer.json()["state"] in ("queued", "running", "done")  # the worker is quick
    job = wait(uploader, answer.json()["id"])
    assert job["state"] == "done" and job["files"] == [{"name": "photo.jpg",
                                                        "size": len(PHOTO)}]
    (item,) = job["result"]["items"]
    assert item["media_type"] == "image/jpeg" and item["state"] == "stored"
    assert uploader.post("/api/v1/uploads", files=[("files", ("b.txt", b"b", "text/plain"))]
                         ).status_code == 403  # a session needs the CSRF header
    # A field refused is a 422 in FastAPI's shape, naming it, as every 422 of the API.
    for fields, name in (({"tz": "Mars/Olympus"}, "tz"), ({"note": "bad\x00note"}, "note")):
        refused = uploader.post("/api/v1/uploads", headers=headers, data=fields,
                                files=[("files", ("c.txt", b"c", "text/plain"))])
        assert refused.status_code == 422, refused.text
        (problem,) = refused.json()["detail"]
        assert problem["loc"] == ["body", name] and problem["msg"] and problem["type"]


# -- a server that stopped ---------------------------------------------------------------


def test_the_apps_shutdown_waits_for_the_running_job_and_starts_no_other(
        client: TestClient, home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    started, finished = threading.Event(), threading.Event()
    def slow(home_: Home, job: Job, *, stop: threading.Event | None = None) -> None:
        started.set()
        assert stop is not None
        stop.wait(30)  # running until the app shuts down, and a moment beyond
        time.sleep(0.2)
        run_job(home_, job, stop=stop)
        finished.set()

    monkeypatch.setattr(upload_worker, "run_job", slow)
    with TestClient(create_app(home), follow_redirects=False) as served:
        sign_in(served, "taras")
        first = job_id_of(send(served, [("a.txt", b"first\n")], json_answer=True))
        assert started.wait(30)
        second = job_id_of(send(served, [("b.txt", b"second\n")], json_answer=True))
        worker = served.app.state.upload_worker  # type: ignore[attr-defined]
    # Leaving the block shut the app down: the running job ended first, the queued one
    # was not started (the next start marks it interrupted).
    assert finished.is_set() and worker.idle()
    with home.engine.connect() as conn:
        jobs = {n: get_job(conn, n) for n in (first, second)}
    assert {n: j.state for n, j in jobs.items() if j} == {first: "done", second: "queued"}


def test_a_job_left_running_by_a_stopped_server_is_marked_interrupted(
        client: TestClient, home: Home) -> None:
    now = datetime.now(UTC)
    with home.engine.begin() as conn:
        batch = conn.execute(insert(batches).returning(batches.c.id).values(
            state="running", roots="[]", host="here", svidok_version="0", started_at=now,
            unchanged=0)).scalar_one()
        conn.execute(insert(items).values(
            batch_id=batch, state="pending", kind="file", original_name="half.bin",
            root="/staging", rel_path="half.bin", rel_path_bytes=b"half.bin", host="here",
            svidok_version="0", updated_at=now))
    job_id = create_job(home.engine, 3, "taras", "a-server-long-gone")  # this pid, gone
    with home.engine.begin() as conn:
        conn.execute(upload_jobs.update().where(upload_jobs.c.id == job_id)
                     .values(state="running", batch_id=batch))
    leftover = staging_root(home) / f"job-{job_id}" / "files" / "1"
    leftover.mkdir(parents=True)
    (leftover / "half.bin").write_bytes(b"part of a file")
    (staging_root(home) / "job-999").mkdir()  # a folder no job owns

    with TestClient(create_app(home), follow_redirects=False) as restarted:
        sign_in(restarted, "taras")
        job = restarted.get(f"/api/v1/uploads/{job_id}").json()
        assert job["state"] == "failed" and job["interrupted"] is True
        assert "stopped" in job["message"]
        page = restarted.get(f"/upload/jobs/{job_id}", headers=HTML)
        assert 'data-state="failed"' in page.text and "interrupted" in page.text
    assert staging_is_empty(home)
    (half,) = item_rows(home, items.c.original_name == "half.bin")
    assert half.state == "failed" and "upload it again" in half.error
    with home.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(items).where(
            items.c.state == "stored")).scalar_one() == 0


def test_a_server_process_left_as_a_zombie_counts_as_gone() -> None:
    # A worker of 'svidok serve --workers' killed with its supervisor is a zombie until
    # whoever adopted it reaps it; its jobs must still be marked interrupted.
    from svidok.locker.upload_jobs import _alive

    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        deadline = time.monotonic() + 10
        while (Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert not _alive(pid)
        assert _alive(os.getpid())
    finally:
        os.waitpid(pid, 0)
    assert not _alive(pid)
