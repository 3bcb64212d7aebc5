"""Upload jobs as records: each web upload's state, from receiving to done or failed.

    receiving -> queued -> running -> done
         \\          \\         \\---> failed
          `----------`----------> failed (interrupted: the server stopped)

A job belongs to the server process that received it (host, pid and a random id chosen
when the app starts), because its files wait in that machine's data folder. When an app
starts, jobs of this host left unfinished by a process that is gone are marked failed and
interrupted, their batch's unstored files recorded as failed, and staging folders that no
live job needs are removed (:func:`recover`).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, Engine, insert, select, update

from svidok.db.schema import items, upload_jobs
from svidok.home import Home

ACTIVE: Final = ("receiving", "queued", "running")
INTERRUPTED: Final = ("the server stopped before this upload was finished; nothing of it "
                      "that was not yet stored was kept: upload those files again")
ABANDONED: Final = ("the upload was stopped before this file was stored; its copy is gone: "
                    "upload it again")


def _now() -> datetime:
    return datetime.now(UTC)


def staging_root(home: Home) -> Path:
    """Where uploads wait to be ingested: inside the data folder, on the same disk."""
    return home.settings.home / "staging" / "uploads"


def job_folder(home: Home, job_id: int) -> Path:
    return staging_root(home) / f"job-{int(job_id)}"


@dataclass(frozen=True)
class StagedFile:
    name: str  # the name the browser sent, cleaned for showing (svidok.web.upload_stream)
    staged: str  # its path inside the job's folder: files/<n>/<safe name>
    size: int


@dataclass(frozen=True)
class Job:
    id: int
    user_id: int
    collector: str
    state: str
    interrupted: bool
    phase: str | None
    done: int
    total: int
    files: list[StagedFile]
    note: str | None
    tz: str | None
    message: str | None
    result: dict[str, Any]
    batch_id: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    host: str = ""
    pid: int = 0
    owner: str = ""

    @property
    def final(self) -> bool:
        return self.state in ("done", "failed")

    def as_json(self) -> dict[str, Any]:
        """What the API and the job page show; never where the files wait."""
        return {"id": self.id, "state": self.state, "interrupted": self.interrupted,
                "phase": self.phase, "done": self.done, "total": self.total,
                "files": [{"name": f.name, "size": f.size} for f in self.files],
                "note": self.note, "tz": self.tz, "message": self.message,
                "result": self.result or None, "batch": self.batch_id,
                "collector": self.collector, "created_at": self.created_at.isoformat(),
                "started_at": self.started_at.isoformat() if self.started_at else None,
                "finished_at": self.finished_at.isoformat() if self.finished_at else None}


def _job(row: Any) -> Job:
    files = [StagedFile(**f) for f in json.loads(row.files)] if row.files else []
    return Job(row.id, row.user_id, row.collector, row.state, bool(row.interrupted),
               row.phase, int(row.done), int(row.total), files, row.note, row.tz,
               row.message, json.loads(row.result) if row.result else {}, row.batch_id,
               row.created_at, row.started_at, row.finished_at, row.host, row.pid, row.owner)


def create_job(engine: Engine, user_id: int, collector: str, owner: str) -> int:
    with engine.begin() as conn:
        new_id = conn.execute(insert(upload_jobs).values(
            user_id=user_id, collector=collector, state="receiving", interrupted=False,
            done=0, total=0, host=socket.gethostname(), pid=os.getpid(), owner=owner,
            created_at=_now())).inserted_primary_key
    assert new_id is not None
    return int(new_id[0])


def mark_received(engine: Engine, job_id: int, files: list[StagedFile], note: str | None,
                  tz: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(update(upload_jobs).where(upload_jobs.c.id == job_id,
                                               upload_jobs.c.state == "receiving")
                     .values(state="queued", files=json.dumps(
                         [f.__dict__ for f in files], ensure_ascii=False), note=note, tz=tz,
                         total=len(files), phase="queued"))


def fail_job(engine: Engine, job_id: int, message: str, *, interrupted: bool = False
             ) -> None:
    with engine.begin() as conn:
        conn.execute(update(upload_jobs).where(upload_jobs.c.id == job_id)
                     .values(state="failed", interrupted=interrupted, message=message,
                             phase=None, finished_at=_now()))


def finish_job(engine: Engine, job_id: int, result: dict[str, Any], message: str | None
               ) -> None:
    with engine.begin() as conn:
        conn.execute(update(upload_jobs).where(upload_jobs.c.id == job_id)
                     .values(state="done", result=json.dumps(result, ensure_ascii=False),
                             message=message, phase=None, finished_at=_now()))


def set_progress(engine: Engine, job_id: int, **values: Any) -> None:
    allowed = {"phase", "done", "total", "batch_id"}
    assert set(values) <= allowed
    with engine.begin() as conn:
        conn.execute(update(upload_jobs).where(upload_jobs.c.id == job_id).values(**values))


def get_job(conn: Connection, job_id: int) -> Job | None:
    row = conn.execute(select(upload_jobs).where(upload_jobs.c.id == job_id)).first()
    return _job(row) if row is not None else None


def list_jobs(conn: Connection, user_id: int | None, limit: int = 10) -> list[Job]:
    """Newest first; ``user_id`` None lists everyone's."""
    query = select(upload_jobs).order_by(upload_jobs.c.id.desc()).limit(limit)
    if user_id is not None:
        query = query.where(upload_jobs.c.user_id == user_id)
    return [_job(r) for r in conn.execute(query)]


def claim_next(engine: Engine) -> Job | None:
    """Take the oldest queued job this host received, marking it running; None if none.

    One UPDATE naming the state it expects, so two workers (two server processes) never
    take one job. One statement, not a read then a write: on SQLite a transaction that
    reads first and then writes fails at once with "database is locked" when another
    writer came in between, where a first write waits its turn (busy_timeout)."""
    host = socket.gethostname()
    oldest = (select(upload_jobs.c.id).where(upload_jobs.c.state == "queued",
                                             upload_jobs.c.host == host)
              .order_by(upload_jobs.c.id).limit(1).scalar_subquery())
    with engine.begin() as conn:
        taken = conn.execute(update(upload_jobs).where(
            upload_jobs.c.id == oldest, upload_jobs.c.state == "queued")
            .values(state="running", started_at=_now(), phase="starting", done=0)
            .returning(upload_jobs.c.id)).first()
        if taken is None:
            return None
        return get_job(conn, taken.id)


def abandon_batch(engine: Engine, batch_id: int) -> int:
    """Files of an upload's batch still pending when it stopped can never be stored: their
    staged copies are gone. Recorded as failed, with why."""
    with engine.begin() as conn:
        done = conn.execute(update(items).where(items.c.batch_id == batch_id,
                                                items.c.state == "pending")
                            .values(state="failed", error=ABANDONED, updated_at=_now()))
    return int(done.rowcount or 0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie answers signals but serves nothing: a worker of 'svidok serve --workers'
    # killed with its supervisor waits as one until whoever adopted it reaps it.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc to ask: alive, as the signal said
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def recover(home: Home, owner: str) -> list[int]:
    """Mark this host's unfinished jobs whose server is gone as interrupted, and remove
    staging folders no live job needs. Returns the ids marked. ``owner`` is the starting
    app's own id: a job of this very process id but another owner belongs to an earlier
    process (a container restarts with the same pid)."""
    host, me = socket.gethostname(), os.getpid()
    marked = []
    with home.engine.connect() as conn:
        rows = conn.execute(select(upload_jobs.c.id, upload_jobs.c.pid, upload_jobs.c.owner,
                                   upload_jobs.c.batch_id)
                            .where(upload_jobs.c.state.in_(ACTIVE),
                                   upload_jobs.c.host == host)).all()
    live = set()
    for row in rows:
        gone = row.owner != owner and (row.pid == me or not _alive(row.pid))
        if not gone:
            live.add(row.id)
            continue
        fail_job(home.engine, row.id, INTERRUPTED, interrupted=True)
        if row.batch_id is not None:
            abandon_batch(home.engine, row.batch_id)
        marked.append(row.id)
    root = staging_root(home)
    if root.is_dir():
        for entry in root.iterdir():
            job_id = entry.name.removeprefix("job-")
            if not (job_id.isdigit() and int(job_id) in live):
                remove(entry)
    return marked


def remove(path: Path) -> None:
    """Remove a staging folder or file; never follows a link out of it."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.exists():
        shutil.rmtree(path, ignore_errors=True)
