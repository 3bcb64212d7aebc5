"""``svidok imports``: what importers read out of containers, and what they could not."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from sqlalchemy import func, select

from svidok.cli_common import EXIT_USAGE, JsonOpt, fail, opened
from svidok.db.schema import import_problems, imports
from svidok.locker.report import ImportOutcome
from svidok.output import emit_json, err, out, safe, table
from svidok.sources.importer import ImportOptions
from svidok.sources.importers import FORMATS
from svidok.sources.whatsapp import DateOrder

imports_app = typer.Typer(help="What importers read out of exports, mailboxes and archives.",
                          no_args_is_help=True)


def reading_options(read_as: str | None, tz: str | None, date_order: str | None,
                    as_json: bool) -> ImportOptions:
    """``--as``, ``--tz`` and ``--date-order``, checked before anything is stored."""
    if read_as is not None and read_as not in FORMATS:
        fail(f"unknown format {read_as!r} for --as; use one of {', '.join(FORMATS)}",
             as_json, EXIT_USAGE)
    zone = None
    if tz is not None:
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            fail(f"unknown time zone {tz!r} for --tz; give an IANA name such as "
                 "Europe/Kyiv or UTC", as_json, EXIT_USAGE)
    order = None
    if date_order is not None:
        try:
            order = DateOrder(date_order)
        except ValueError:
            fail(f"--date-order takes {' or '.join(o.value for o in DateOrder)}, not "
                 f"{date_order!r}", as_json, EXIT_USAGE)
    return ImportOptions(tz=zone, date_order=order, forced=read_as)


def print_imports(outcomes: list[ImportOutcome]) -> None:
    if not outcomes:
        return
    out.print(table("Read from containers", [
        "import", "path", "read as", "new", "versions", "seen", "media", "problems"], [
        [o.import_id, o.rel_path, o.importer, o.items, o.versions, o.sightings, o.files,
         o.problems] for o in outcomes]))
    for o in outcomes:
        if o.error:
            err.print(safe(f"Could not read {o.rel_path}: {o.error}"), style="red")
        for where, what in o.first_problems[:5]:
            err.print(safe(f"{o.rel_path}, {where}: {what}"), style="yellow")
        if o.problems > 5:
            err.print(safe(f"... {o.problems - 5} more in {o.rel_path}: svidok imports show "
                           f"{o.import_id}"), style="yellow")


def _row(r: Any) -> dict[str, Any]:
    data = dict(r._mapping)
    data.pop("rel_path_bytes", None)
    for key, value in data.items():
        if isinstance(value, datetime):
            data[key] = value.isoformat()
    data["options"] = json.loads(data["options"]) if data.get("options") else {}
    return data


@imports_app.command("list")
def imports_list(
    batch: Annotated[int | None, typer.Option(help="Only imports of this batch.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List import runs, newest first."""
    with opened(as_json) as home, home.engine.connect() as conn:
        query = select(imports).order_by(imports.c.id.desc()).limit(limit)
        count = select(func.count()).select_from(imports)
        if batch is not None:
            query = query.where(imports.c.batch_id == batch)
            count = count.where(imports.c.batch_id == batch)
        rows = [_row(r) for r in conn.execute(query)]
        total = int(conn.execute(count).scalar_one())
    if as_json:
        emit_json({"total": total, "imports": rows})
        return
    out.print(table(f"Imports ({len(rows)} of {total})", [
        "id", "path", "read as", "state", "new", "versions", "seen", "problems"], [
        [r["id"], r["rel_path"], r["importer"], r["state"], r["items"],
         r["versions"], r["sightings"], r["problems"]] for r in rows]))


@imports_app.command("show")
def imports_show(
    import_id: Annotated[int, typer.Argument(help="The import's id (svidok imports list).")],
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many problems.")] = 1000,
    as_json: JsonOpt = False,
) -> None:
    """One import run, with the parts it could not read."""
    with opened(as_json) as home, home.engine.connect() as conn:
        found = conn.execute(select(imports).where(imports.c.id == import_id)).first()
        if found is None:
            fail(f"no import {import_id}: see svidok imports list", as_json)
        problems = [{"where": p.location, "message": p.message} for p in conn.execute(
            select(import_problems).where(import_problems.c.import_id == import_id)
            .order_by(import_problems.c.id).limit(limit))]
    data = _row(found) | {"problem_list": problems}
    if as_json:
        emit_json(data)
        return
    out.print(table(f"Import {import_id}", ["field", "value"], [
        [k, v] for k, v in data.items() if k != "problem_list" and v not in (None, {})]))
    if problems:
        out.print(table("Could not be read", ["where", "what happened"],
                        [[p["where"], p["message"]] for p in problems]))
    if data["problems"] > len(problems):
        out.print(f"{data['problems'] - len(problems)} more problems were counted but not "
                  "listed.")

