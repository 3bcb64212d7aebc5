"""``svidok search``: find items by words, in any script, filtered and counted by facets."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from svidok.cli_common import EXIT_USAGE, JsonOpt, fail, opened
from svidok.output import emit_json, out, safe, table
from svidok.search import (
    FACETS,
    Filters,
    Results,
    SearchError,
    SearchQueryError,
    facet_label,
    find,
    place_named,
)


def _day(value: str | None, option: str, as_json: bool) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} takes a date as YYYY-MM-DD, not {value!r}", as_json, EXIT_USAGE)


def _place(value: str | None, as_json: bool) -> int | None:
    if value is None:
        return None
    found = place_named(value)
    if found is None:
        fail(f"no place named {value!r} in the gazetteer; give its GeoNames id instead",
             as_json, EXIT_USAGE)
    return found


def search_cmd(
    query: Annotated[str, typer.Argument(
        help='Words (all required), "a phrase", -excluded. A place in any script finds '
             "the others (Макіївка finds Makiivka).")],
    language: Annotated[str | None, typer.Option("--lang", help="Only items in this "
                                                 "language (uk, ru, en ...).")] = None,
    place: Annotated[str | None, typer.Option(
        "--place", metavar="ID|NAME", help="Only items naming this place.")] = None,
    violation: Annotated[str | None, typer.Option(
        "--violation", metavar="ID", help="Only items suggested as this violation type.")
    ] = None,
    kind: Annotated[str | None, typer.Option(
        "--kind", help="Only this kind: message, email, document, file ...")] = None,
    media_type: Annotated[str | None, typer.Option("--media-type", metavar="TYPE")] = None,
    source: Annotated[int | None, typer.Option(
        "--source", metavar="ITEM", help="Only items read out of this file: the export, "
        "mailbox or archive at the top ('svidok items show' names it).")] = None,
    channel: Annotated[str | None, typer.Option(
        "--channel", metavar="NAME", help="Only messages of this chat or channel, by name.")
    ] = None,
    date_from: Annotated[str | None, typer.Option(
        "--from", metavar="DATE", help="Happened or speaks of a day on or after this.")
    ] = None,
    date_to: Annotated[str | None, typer.Option(
        "--to", metavar="DATE", help="Happened or speaks of a day on or before this.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    offset: Annotated[int, typer.Option(min=0, max=100_000)] = 0,
    facets: Annotated[bool, typer.Option(
        "--facets", help="Count the hits by source, channel, kind, type, language, place, "
                         "year and violation.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Search the text, titles, names and places of enriched items."""
    filters = Filters(
        language=language, place=_place(place, as_json), violation=violation, kind=kind,
        media_type=media_type, source_id=source, channel=channel,
        date_from=_day(date_from, "--from", as_json), date_to=_day(date_to, "--to", as_json))
    with opened(as_json) as home:
        try:
            with home.engine.connect() as conn:
                results = find(conn, query, filters, limit=limit, offset=offset,
                               facets=facets)
        except SearchQueryError as exc:
            fail(str(exc), as_json, EXIT_USAGE)
        except SearchError as exc:
            fail(str(exc), as_json)
    if as_json:
        emit_json(_as_json(results, offset))
    else:
        _print(results, offset)


def _as_json(results: Results, offset: int) -> dict[str, Any]:
    return {"total": results.total, "offset": offset,
            "hits": [{"item_id": h.item_id, "rank": round(h.rank, 6), "title": h.title,
                      "kind": h.kind, "language": h.language,
                      "occurred_at": h.occurred_at, "snippet": h.snippet,
                      "marks": [list(m) for m in h.marks]} for h in results.hits],
            "facets": None if results.facets is None else {
                facet: [{"value": v, "label": facet_label(facet, v), "count": n}
                        for v, n in values]
                for facet, values in results.facets.items()},
            "facets_capped": results.facets_capped}


def _print(results: Results, offset: int) -> None:
    if not results.hits:
        out.print(f"No items found ({results.total} in all).")
    else:
        out.print(table(f"Items {offset + 1}–{offset + len(results.hits)} of {results.total}",
                        ["item", "kind", "lang", "when (UTC)", "what happened"],
                        [[h.item_id, h.kind, h.language,
                          "" if h.occurred_at is None else f"{h.occurred_at:%Y-%m-%d %H:%M}",
                          (h.title + " — " if h.title else "") + h.snippet]
                         for h in results.hits]))
    if results.facets is None:
        return
    capped = " (counted over the first hits only)" if results.facets_capped else ""
    for facet in FACETS:
        values = results.facets.get(facet) or []
        if values:
            out.print(safe(f"{facet}{capped}: " + ", ".join(
                f"{_shown(facet, v)} ({n:,})" for v, n in values)))


def _shown(facet: str, value: str) -> str:
    label = facet_label(facet, value)
    return value if label == value else f"{label} [{value}]"
