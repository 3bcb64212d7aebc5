"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL comes from SVIDOK_TEST_DATABASE_URL (default: the local test database). Each test
gets a schema of its own, dropped afterwards. Under CI=true an unreachable server fails the
run instead of skipping it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from custody.tsa import LocalTSA
from svidok.home import Home, init_home

PG_URL = os.environ.get("SVIDOK_TEST_DATABASE_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"
DATA = Path(__file__).parent / "data"


def _pg_schema_url(schema: str) -> str:
    joiner = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{joiner}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """'' for the default SQLite file in the data folder, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield ""
        return
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    schema = f"svidok_test_{secrets.token_hex(6)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL is not reachable at {PG_URL}: {exc.orig}"
        if IN_CI:
            pytest.fail(message + " (CI=true: PostgreSQL tests must run)")
        pytest.skip(message)
    try:
        yield _pg_schema_url(schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for a Svidok whose data folder is ``tmp_path/home``, in-process and for
    subprocesses alike."""
    home = tmp_path / "home"
    values = {"SVIDOK_HOME": str(home), "SVIDOK_INGEST_WORKERS": "4"}
    if database_url:
        values["SVIDOK_DATABASE_URL"] = database_url
    else:
        monkeypatch.delenv("SVIDOK_DATABASE_URL", raising=False)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return {**os.environ, **values}


@pytest.fixture
def home(env: dict[str, str]) -> Iterator[Home]:
    """An initialised data folder on the backend under test."""
    opened, _ = init_home(Path(env["SVIDOK_HOME"]), name="test.svidok.local")
    try:
        yield opened
    finally:
        opened.dispose()


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    """A small folder as a documenter might hand it over: a letter, a photo, the same
    photo again in another folder, an empty file, and a nested folder."""
    root = tmp_path / "evidence"
    (root / "letters").mkdir(parents=True)
    (root / "photos" / "reposted").mkdir(parents=True)
    (root / "letters" / "letter-1.txt").write_text(
        "Лист від мешканця: на блокпосту забрали паспорт.\n", encoding="utf-8")
    photo = (DATA / "photo.jpg").read_bytes()
    (root / "photos" / "checkpoint.jpg").write_bytes(photo)
    (root / "photos" / "reposted" / "copy-of-checkpoint.jpg").write_bytes(photo)
    (root / "empty.txt").write_bytes(b"")
    return root


def run_svidok(args: list[str], env: dict[str, str], **kwargs: object
               ) -> subprocess.CompletedProcess[str]:
    """Run the real command in a subprocess, as a user would."""
    done: subprocess.CompletedProcess[str] = subprocess.run(  # type: ignore[call-overload]
        [sys.executable, "-m", "svidok", *args], env=env, text=True, capture_output=True,
        check=False, timeout=300, **kwargs)
    return done


@pytest.fixture(scope="session")
def local_tsa_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTSA]:
    """One TSA for the whole run: making its keys and certificates takes a moment."""
    if shutil.which("openssl") is None:
        message = "the openssl command is needed for a local TSA"
        if IN_CI:
            pytest.fail(message + " (CI=true: timestamp tests must run)")
        pytest.skip(message)
    with LocalTSA(tmp_path_factory.mktemp("tsa")) as tsa:
        yield tsa


@pytest.fixture
def local_tsa(local_tsa_server: LocalTSA) -> Iterator[LocalTSA]:
    """The shared TSA, working and with its request count at zero, whatever the last test
    switched on."""
    local_tsa_server.reset()
    yield local_tsa_server
    local_tsa_server.reset()
