"""``svidok items``: list items and show one, with what an importer read into it."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from svidok.cli_common import EXIT_USAGE, JsonOpt, fail, opened
from svidok.locker import records
from svidok.output import emit_json, human_bytes, out, safe, table

items_app = typer.Typer(help="Look at stored items.", no_args_is_help=True)

SHOWN = ("id", "state", "kind", "error", "warning", "sha256", "record_sha256", "media_type",
         "size", "original_name", "root", "rel_path", "rel_path_bytes", "parent_id",
         "previous_id", "next_versions", "children", "source_key", "importer", "occurred_at",
         "mtime_ns", "ctime_ns", "atime_ns", "collector", "note", "captured_at", "host",
         "svidok_version", "batch_id", "blob_path")


@items_app.command("list")
def items_list(
    state: Annotated[str | None, typer.Option(
        help="Only items in this state: pending, stored, failed or skipped.")] = None,
    batch: Annotated[int | None, typer.Option(help="Only items of this batch.")] = None,
    kind: Annotated[str | None, typer.Option(
        help="Only this kind: file, media, chat, message, email, attachment, "
             "web-response, document ...")] = None,
    parent: Annotated[int | None, typer.Option(
        help="Only the children of this item (the messages of an export).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: JsonOpt = False,
) -> None:
    """List items, newest first."""
    if state is not None and state not in records.ITEM_STATES:
        fail(f"unknown state {state!r}; use one of {', '.join(records.ITEM_STATES)}",
             as_json, EXIT_USAGE)
    with opened(as_json) as home:
        rows, total = records.list_items(home, state=state, batch=batch, kind=kind,
                                         parent=parent, limit=limit, offset=offset)
    if as_json:
        emit_json({"total": total, "offset": offset, "items": rows})
        return
    # Narrow terminals: the path column takes what the others leave, so they stay short.
    out.print(table(f"Items {offset + 1}–{offset + len(rows)} of {total}",
                    ["id", "kind", "in", "type", "size", "path", "captured (UTC)"],
                    [[r["id"], r["kind"] if r["state"] == "stored"
                      else f"{r['kind']} ({r['state']})", r["parent_id"],
                      (r["media_type"] or "").removeprefix("application/"),
                      human_bytes(r["size"]) if r["size"] is not None else "",
                      r["rel_path"], (r["captured_at"] or "")[:16].replace("T", " ")]
                     for r in rows]))


@items_app.command("show")
def items_show(
    ref: Annotated[str, typer.Argument(help="Item id, or 8 or more hex digits of its SHA-256.")],
    as_json: JsonOpt = False,
) -> None:
    """Show one item with its capture context, what was read into it, and its sightings."""
    with opened(as_json) as home:
        item = records.find_item(home, ref)
    if item is None:
        fail(f"no item {ref!r} (give its number, or 8 or more hex digits of its SHA-256)",
             as_json)
    if as_json:
        emit_json(item)
        return
    fields = [[key, item[key]] for key in SHOWN if item.get(key) not in (None, [], 0)]
    out.print(table(f"Item {item['id']}", ["field", "value"], fields))
    if item["record"]:
        out.print(table("Read from its container", ["field", "value"], [
            [key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)]
            for key, value in item["record"].items()]))
    if item["children"]:
        out.print(safe(f"{item['children']} items inside it: svidok items list --parent "
                       f"{item['id']}"))
    if item["sightings"]:
        out.print(table("Seen again", ["when (UTC)", "batch", "path", "collector"], [
            [s["seen_at"][:19], s["batch_id"], f"{s['root']}/{s['rel_path']}", s["collector"]]
            for s in item["sightings"]]))
