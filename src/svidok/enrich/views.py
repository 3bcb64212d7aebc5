"""What enrichment found about one item, for ``svidok items show`` and the web app."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select

from svidok.db.schema import (
    artifacts,
    duplicate_links,
    enrichments,
    fingerprints,
    item_annotations,
)

# Built once, as every item page reads them (see svidok.access.sessions).
_ANNOTATIONS = select(item_annotations) \
    .where(item_annotations.c.item_id == bindparam("item_id")) \
    .order_by(item_annotations.c.kind, item_annotations.c.start, item_annotations.c.id)
# Not the content: a transcript or OCR text can be long, and is read apart.
_ARTIFACTS = select(artifacts.c.role, artifacts.c.sha256, artifacts.c.media_type,
                    artifacts.c.size, artifacts.c.position_ms, artifacts.c.enricher,
                    artifacts.c.version) \
    .where(artifacts.c.item_id == bindparam("item_id")).order_by(artifacts.c.id)
_LINKS = select(duplicate_links).where(or_(
    duplicate_links.c.item_a == bindparam("item_id"),
    duplicate_links.c.item_b == bindparam("item_id"))).order_by(duplicate_links.c.distance)


def item_enrichment(conn: Connection, item_id: int) -> dict[str, Any]:
    """Everything: the runs, findings, artifacts, fingerprints and duplicate links."""
    runs = [{"enricher": r.enricher, "version": r.version, "state": r.state,
             "error": r.error, "finished_at": r.finished_at.isoformat()}
            for r in conn.execute(select(enrichments).where(enrichments.c.item_id == item_id)
                                  .order_by(enrichments.c.id))]
    prints: dict[str, int] = dict(conn.execute(select(fingerprints.c.algorithm, func.count())
                               .where(fingerprints.c.item_id == item_id)
                               .group_by(fingerprints.c.algorithm)).all())
    found = item_findings(conn, item_id)
    return {"runs": runs, "annotations": found["annotations"], "artifacts": found["artifacts"],
            "fingerprints": {k: int(v) for k, v in prints.items()},
            "duplicates": found["duplicates"]}


def item_findings(conn: Connection, item_id: int) -> dict[str, Any]:
    """What an item page shows of it: ``annotations``, ``artifacts`` and ``duplicates``."""
    notes = [{"id": n.id, "kind": n.kind, "value": n.value, "start": n.start, "end": n.end,
              "confidence": n.confidence / 1000, "state": n.state, "enricher": n.enricher,
              "version": n.version, "data": json.loads(n.data) if n.data else None}
             for n in conn.execute(_ANNOTATIONS, {"item_id": item_id})]
    derived = [{"role": a.role, "sha256": a.sha256, "media_type": a.media_type,
                "size": a.size, "position_ms": a.position_ms, "enricher": a.enricher,
                "version": a.version}
               for a in conn.execute(_ARTIFACTS, {"item_id": item_id})]
    links = [{"item": r.item_b if r.item_a == item_id else r.item_a, "method": r.method,
              "distance": r.distance, "grade": r.grade}
             for r in conn.execute(_LINKS, {"item_id": item_id})]
    return {"annotations": notes, "artifacts": derived, "duplicates": links}
