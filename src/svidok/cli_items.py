"""``svidok items``: list items and show one, with what an importer read into it."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from svidok.cli_common import EXIT_USAGE, JsonOpt, fail, opened
from svidok.cli_review import print_verification, status_cmd, verification_of
from svidok.enrich.views import item_enrichment
from svidok.locker import records
from svidok.output import emit_json, human_bytes, out, safe, table

items_app = typer.Typer(help="Look at stored items.", no_args_is_help=True)
items_app.command("status")(status_cmd)

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
        if item is not None:
            with home.engine.connect() as conn:
                item["enrichment"] = item_enrichment(conn, item["id"])
            item["verification"] = verification_of(home, item["id"])
    if item is None:
        fail(f"no item {ref!r} (give its number, or 8 or more hex digits of its SHA-256)",
             as_json)
    if as_json:
        emit_json(item)
        return
    fields = [[key, item[key]] for key in SHOWN if item.get(key) not in (None, [], 0)]
    out.print(table(f"Item {item['id']}", ["field", "value"], fields))
    print_verification(item["verification"])
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
    _print_enrichment(item["enrichment"])


def _print_enrichment(found: dict[str, Any]) -> None:
    hidden = ("ocr-pages", "note", "language-segment")
    shown = [n for n in found["annotations"] if n["kind"] not in hidden]
    if shown:
        out.print(table("Suggested by enrichers (machines suggest, people decide)",
                        ["kind", "value", "as written", "confidence", "state"], [
            [n["kind"], _label(n), _written(n), f"{n['confidence']:.2f}", n["state"]]
            for n in shown]))
    segments = [n for n in found["annotations"] if n["kind"] == "language-segment"]
    if segments:
        out.print(safe("Languages by part of the text: " + ", ".join(
            f"{n['value']} ({n['start']}–{n['end']})" for n in segments)))
    if found["artifacts"]:
        out.print(table("Derived artifacts", ["role", "type", "size", "at", "sha256"], [
            [a["role"], a["media_type"], human_bytes(a["size"]),
             "" if a["position_ms"] is None else f"{a['position_ms'] / 1000:.0f} s",
             a["sha256"][:16]] for a in found["artifacts"]]))
    if found["duplicates"]:
        out.print(table("Looks like", ["item", "how", "distance", "grade"], [
            [d["item"], d["method"], d["distance"], d["grade"]] for d in found["duplicates"]]))
    notes = [n for n in found["annotations"] if n["kind"] == "note"]
    if notes:
        out.print(table("Notes of the enrichers", ["enricher", "what happened"],
                        [[n["enricher"], n["value"]] for n in notes]))
    failed = [r for r in found["runs"] if r["state"] == "failed"]
    if failed:
        out.print(table("Enrichers that failed", ["enricher", "version", "what failed"], [
            [r["enricher"], r["version"], r["error"]] for r in failed]))


def _label(note: dict[str, Any]) -> str:
    data = note["data"] or {}
    if note["kind"] == "place" and data.get("name"):
        return f"{data['name']} ({data.get('oblast') or data.get('country')}; " \
               f"GeoNames {note['value']})"
    if note["kind"] == "date" and data.get("precision"):
        return f"{note['value']} ({data['precision']})"
    if note["kind"] == "violation" and data.get("label"):
        return f"{data['label']} ({note['value']})"
    if note["kind"] == "name" and data.get("kind"):
        return f"{note['value']} ({data['kind']})"
    return str(note["value"])


def _written(note: dict[str, Any]) -> str:
    """The words of the text the suggestion rests on."""
    data = note["data"] or {}
    if note["kind"] == "violation":
        return ", ".join(str(w[2]) for w in data.get("words", ()))
    return str(data.get("text", ""))
