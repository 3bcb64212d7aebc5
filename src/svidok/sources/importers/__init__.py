"""The importers, registered in this one place; the best score for a file wins.

Adding a format is one module with a class following :class:`svidok.sources.importer.
Importer`, and one line below. Order breaks ties: an earlier importer wins an equal score.
"""

from __future__ import annotations

from svidok.sources.importer import Container, Importer
from svidok.sources.importers.documents import DocumentImporter
from svidok.sources.importers.email import EmailImporter, MboxImporter
from svidok.sources.importers.telegram import TelegramImporter
from svidok.sources.importers.web_archive import WaczImporter, WarcImporter
from svidok.sources.importers.whatsapp import WhatsAppImporter

IMPORTERS: tuple[Importer, ...] = (
    TelegramImporter(),
    WhatsAppImporter(),
    MboxImporter(),
    EmailImporter(),
    WarcImporter(),
    WaczImporter(),
    DocumentImporter(),
)
BY_NAME: dict[str, Importer] = {imp.name: imp for imp in IMPORTERS}
# What --as takes: every importer's name, and "file" for no importer at all.
FORMATS: tuple[str, ...] = (*BY_NAME, "file")


def choose(container: Container, forced: str | None = None,
           named: bool = False) -> Importer | None:
    """The importer for ``container``, or None to keep it as a plain file.

    With ``forced`` only that importer is considered; it reads a file named on the command
    line (``named``) even when it does not recognise it, since the user said what it is.
    """
    if forced == "file":
        return None
    if forced is not None:
        importer = BY_NAME[forced]
        return importer if named or importer.score(container) > 0 else None
    best: Importer | None = None
    best_score = 0
    for importer in IMPORTERS:
        score = importer.score(container)
        if score > best_score:
            best, best_score = importer, score
    return best
