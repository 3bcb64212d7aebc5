"""The data folder: one place a person can read, holding records, originals and settings.

    svidok-data/
      svidok.toml        settings (instance name, optional database URL, ...)
      svidok.sqlite3     records, when no database URL is configured
      blobs/sha256/ab/<sha256>      originals, read-only
      blobs/tmp/         partial writes; emptied at the start of every ingest
      locks/             advisory locks so two ingests do not work on one folder at once
      keys/log.key       the custody log's signing key (mode 0600); never leaves the folder
"""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, insert, select

from svidok.config import Settings, load_settings
from svidok.custody.note import valid_key_name
from svidok.db import connect, migrate
from svidok.db.schema import instance
from svidok.locker.blobs import FilesystemBlobStore


class HomeError(Exception):
    """The data folder is missing, not initialised or busy; the message says what to do."""


@dataclass
class Home:
    settings: Settings
    engine: Engine
    blobs: FilesystemBlobStore

    _instance_name: str = field(default="", init=False, repr=False)

    @property
    def instance_name(self) -> str:
        # Written once by 'svidok init' and never changed (it names the log's signing key),
        # so read once: every page shows it.
        if not self._instance_name:
            with self.engine.connect() as conn:
                name = conn.execute(select(instance.c.name)).scalar_one_or_none()
            self._instance_name = name or ""
        return self._instance_name

    @contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """Hold an exclusive advisory lock for a job that must not run twice at once."""
        path = self.settings.home / "locks" / f"{name}.lock"
        path.parent.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise HomeError(
                    f"another '{name}' is running on {self.settings.home}; "
                    "wait for it to finish and try again"
                ) from None
            yield
        finally:
            os.close(fd)  # closing releases the lock, and so does the kernel on kill -9

    def dispose(self) -> None:
        self.engine.dispose()


def _write_config(settings: Settings, name: str) -> None:
    text = (
        "# Svidok settings for this data folder. Environment variables SVIDOK_<KEY> override.\n"
        f'instance_name = "{name}"\n'
        '# database_url = "postgresql+psycopg://user@127.0.0.1:5432/svidok"\n'
        "# ingest_workers = 8\n"
    )
    tmp = settings.config_file.with_suffix(".toml.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(settings.config_file)


def init_home(home: Path, name: str | None = None) -> tuple[Home, bool]:
    """Create the data folder (or bring an existing one up to date); True if it was new."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    settings = load_settings(home)
    created = not settings.config_file.exists()
    if created:
        chosen = name or f"svidok-{secrets.token_hex(4)}"
        if not valid_key_name(chosen):
            raise HomeError(f"{chosen!r} cannot name a Svidok instance: the name signs the "
                            "custody log, so it has no spaces and no '+' "
                            "(for example 'svidok.example.org/kharkiv')")
        _write_config(settings, chosen)
        settings = load_settings(home)
    opened = open_home(home, _must_exist=False)
    with opened.engine.begin() as conn:
        if conn.execute(select(instance.c.id)).first() is None:
            conn.execute(
                insert(instance).values(
                    id=1,
                    name=settings.instance_name or name or f"svidok-{secrets.token_hex(4)}",
                    created_at=datetime.now(UTC),
                )
            )
    from svidok.custody.log import LogError, set_up  # the log needs a Home: import late

    try:
        set_up(opened)
    except LogError as exc:
        opened.dispose()
        raise HomeError(str(exc)) from None
    return opened, created


def open_home(home: Path | None = None, *, _must_exist: bool = True) -> Home:
    settings = load_settings(home)
    if _must_exist and not settings.config_file.exists():
        raise HomeError(
            f"no Svidok data folder at {settings.home}; create one with "
            f"'svidok --home {settings.home} init' or set SVIDOK_HOME"
        )
    engine = connect(settings.effective_database_url, settings.busy_timeout_ms)
    migrate(engine)
    blobs = FilesystemBlobStore(settings.blobs_dir, fsync=settings.fsync)
    blobs.create()
    return Home(settings=settings, engine=engine, blobs=blobs)
