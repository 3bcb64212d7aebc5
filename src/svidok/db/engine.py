"""Engines for the embedded (SQLite) and scale (PostgreSQL) modes, and schema migration."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest migration. Kept here so that a command on an up-to-date database need not
# import Alembic (a third of a second); a test checks it against the migrations folder.
SCHEMA_REVISION = "0009"


class DatabaseError(Exception):
    """The database cannot be reached, opened or migrated; the message says what to do."""


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's BEGIN below decide transactions, not pysqlite's own guesswork.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        # FULL: a committed record survives power loss, not only a killed process.
        cur.execute("PRAGMA synchronous=FULL")
        # 64 MiB of page cache (the default is 2 MiB): an import of a million messages
        # inserts into indexes whose keys do not arrive in order ("message 10" sorts
        # before "message 9"), and with the default cache every insert read pages back.
        cur.execute("PRAGMA cache_size=-65536")
        # Checkpoint the write-ahead log at 40 MiB rather than 4: an import commits 5 MB
        # a transaction, and a checkpoint (with its fsync of the database) after every
        # one took a tenth of the import.
        cur.execute("PRAGMA wal_autocheckpoint=10000")
        cur.close()

    return on_connect


def _postgres_settings(dbapi_conn: Any, _record: Any) -> None:
    # JIT compiles any query the planner costs high, such as a search for common words
    # ranking thousands of hits: 10 ms of compiling for a query of 50. Svidok's queries are
    # short; none gains from it.
    with dbapi_conn.cursor() as cur:
        cur.execute("SET jit = off")
    dbapi_conn.commit()


def connect(url: str, busy_timeout_ms: int = 30_000) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout_ms))

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")

        return engine
    if url.startswith("postgresql"):
        engine = create_engine(url, pool_pre_ping=True)
        event.listen(engine, "connect", _postgres_settings)
        return engine
    raise DatabaseError(f"unsupported database URL scheme in {url.split(':', 1)[0]!r}")


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == SCHEMA_REVISION


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there."""
    try:
        if is_current(engine):
            return
        from alembic import command

        command.upgrade(_alembic_config(engine), "head")
        from svidok.search.facet_sets import forget

        forget(engine)  # facet values numbered anew are read anew
    except SQLAlchemyError as exc:
        raise DatabaseError(_explain(engine, exc)) from exc


def _explain(engine: Engine, exc: SQLAlchemyError) -> str:
    cause = getattr(exc, "orig", None) or exc
    first_line = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
    if engine.dialect.name == "sqlite":
        where = Path(engine.url.database or "")
        folder = where.parent if where.parent.exists() else Path(".")
        if shutil.disk_usage(folder).free == 0:
            return (f"the disk holding the database {where} is full; free space "
                    "and run the command again")
        return f"could not open the SQLite database {where}: {first_line}"
    return (f"could not open or migrate the database ({type(cause).__name__}: {first_line}); "
            "check SVIDOK_DATABASE_URL and that the server is running")
