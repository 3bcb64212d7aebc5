"""The enrichers Svidok runs, in one place: a new one is a module and a line here.

The order is the order they run in where their needs leave it open; each runs after the
enrichers it ``needs`` (text and OCR before language, language before places...).
"""

from __future__ import annotations

from svidok.enrich.dates import DatesEnricher
from svidok.enrich.enricher import Enricher
from svidok.enrich.fingerprints import FingerprintsEnricher
from svidok.enrich.language import LanguageEnricher
from svidok.enrich.media import MediaEnricher
from svidok.enrich.names import NamesEnricher
from svidok.enrich.ocr import OcrEnricher
from svidok.enrich.places import PlacesEnricher
from svidok.enrich.text import TextEnricher
from svidok.enrich.violations import ViolationsEnricher


def enrichers() -> list[Enricher]:
    """A fresh instance of each registered enricher (heavy data loads lazily, on first use)."""
    return [TextEnricher(), OcrEnricher(), LanguageEnricher(), PlacesEnricher(),
            DatesEnricher(), NamesEnricher(), ViolationsEnricher(), MediaEnricher(),
            FingerprintsEnricher()]
