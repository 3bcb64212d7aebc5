"""Migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pytest import MonkeyPatch
from sqlalchemy import inspect, text

from svidok.db.engine import (
    SCHEMA_REVISION,
    _alembic_config,
    connect,
    current_revision,
    is_current,
    migrate,
)
from svidok.db.schema import hand_built, metadata
from svidok.home import Home, init_home


def _declared(obj: Any, name: str | None, type_: str, reflected: bool,
              compare_to: Any) -> bool:
    table = getattr(getattr(obj, "table", None), "name", None)
    return not hand_built(name, type_, table)


def test_migrated_schema_matches_the_declared_one(home: Home) -> None:
    with home.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _declared})
        diff = compare_metadata(context, metadata)
    assert diff == []
    assert is_current(home.engine)


def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(tmp_path: Path,
                                                             monkeypatch: MonkeyPatch) -> None:
    monkeypatch.delenv("SVIDOK_DATABASE_URL", raising=False)
    home, _ = init_home(tmp_path / "home")
    with home.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30_000


def test_downgrade_and_upgrade_again(home: Home) -> None:
    cfg = _alembic_config(home.engine)
    command.downgrade(cfg, "base")
    assert set(inspect(home.engine).get_table_names()) <= {"alembic_version"}
    migrate(home.engine)
    assert {"items", "originals", "sightings", "batches"} <= set(
        inspect(home.engine).get_table_names())


def test_schema_revision_constant_names_the_newest_migration(home: Home) -> None:
    head = ScriptDirectory.from_config(_alembic_config(home.engine)).get_current_head()
    assert head == SCHEMA_REVISION
    assert current_revision(home.engine) == head


def test_migrate_is_a_no_op_when_current(home: Home) -> None:
    migrate(home.engine)
    migrate(connect(str(home.engine.url.render_as_string(hide_password=False))))
    assert is_current(home.engine)


def test_the_facet_sets_of_an_archive_indexed_before_them_are_filled(home: Home) -> None:
    """Migration 0009: an index made before facet sets existed counts its facets as one
    made after."""
    from svidok.search import SearchDocument, index_documents, search

    def post(item_id: int, language: str, places: tuple[int, ...], channel: str
             ) -> SearchDocument:
        return SearchDocument(
            item_id=item_id, title=None, text="допис", names=(), places=places,
            place_names=(), language=language, kind="message", media_type=None,
            source_id=100, channel=channel, occurred_at=None, dates=(), violations=())

    with home.engine.begin() as conn:
        index_documents(conn, [post(1, "uk", (702320,), "Макіївка онлайн"),
                               post(2, "ru", (702320, 709717), "Донецьк новини"),
                               post(3, "uk", (), "Макіївка онлайн")])
    with home.engine.connect() as conn:
        before = search(conn, "", facets=True).facets
    command.downgrade(_alembic_config(home.engine), "0008")
    assert "search_facet_sets" not in inspect(home.engine).get_table_names()
    migrate(home.engine)
    with home.engine.connect() as conn:
        after = search(conn, "", facets=True).facets
    assert before is not None and before["place"] and after == before
