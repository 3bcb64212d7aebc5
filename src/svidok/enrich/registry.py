"""The enrichers Svidok runs, in one place: a new one is a module and a line here."""

from __future__ import annotations

from svidok.enrich.enricher import Enricher


def enrichers() -> list[Enricher]:
    """A fresh instance of each registered enricher (heavy data loads lazily, on first use)."""
    return []
