"""OCR of photographed letters and scanned PDFs: read once in all three languages, then
again in the language found; bombs and damaged files refused with a reason that quotes
nothing; long TIFFs and crowded PDF pages read in part, with a note saying so."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pytest
from media_samples import bomb_png
from PIL import Image

from made_documents import image_bomb_pdf
from svidok.enrich.enricher import Subject
from svidok.enrich.ocr import (
    MAX_FRAMES,
    OCR_IMAGE_TYPES,
    OcrEnricher,
    OcrError,
    ocr_available,
    ocr_image,
    ocr_pdf_pages,
)

OCR = Path(__file__).parent.parent / "data" / "ocr"


def opener(path: Path) -> Callable[[], BinaryIO]:
    return lambda: path.open("rb")


def test_tesseract_and_its_languages_are_installed() -> None:
    assert ocr_available(), "install tesseract-ocr with -ukr, -rus and -eng (make setup)"


@pytest.mark.parametrize(("letter", "language", "words"), [
    ("letter_uk.jpg", "uk", ["затримали на блокпосту біля Макіївки", "вручили повістку"]),
    ("letter_ru.jpg", "ru", ["В конце июня", "вручили повестку и сразу отвезли в военкомат"]),
    ("letter_en.jpg", "en", ["stopped at a checkpoint near Luhansk", "took his passport"]),
])
def test_a_photographed_letter_is_read_in_its_own_language(letter: str, language: str,
                                                           words: list[str]) -> None:
    with (OCR / letter).open("rb") as fh:
        found = ocr_image(fh)
    assert found.language == language and found.pages == 1
    assert found.confidence is not None and found.confidence > 0.8
    flat = " ".join(found.text.split())
    for phrase in words:
        assert phrase in flat


def test_the_pages_of_a_scan_without_a_text_layer_are_read_in_order() -> None:
    found = ocr_pdf_pages(opener(OCR / "scanned_ru_en.pdf"), [1, 2])
    assert found.pages == 2
    flat = " ".join(found.text.split())
    assert flat.index("военкомат") < flat.index("checkpoint near Luhansk")
    only_second = ocr_pdf_pages(opener(OCR / "scanned_ru_en.pdf"), [2, 7])  # 7: no such page
    assert only_second.pages == 1 and "военкомат" not in only_second.text


def test_a_long_tiff_is_read_in_part_and_says_so() -> None:
    page = Image.open(OCR / "letter_en.jpg").convert("L")
    blank = Image.new("L", page.size, 255)
    out = io.BytesIO()
    page.save(out, "TIFF", save_all=True, append_images=[blank] * MAX_FRAMES)
    out.seek(0)
    found = ocr_image(out)
    assert found.pages == MAX_FRAMES
    assert f"only the first {MAX_FRAMES} of the TIFF's {MAX_FRAMES + 1} pages were read" in (
        found.notes)
    assert "checkpoint near Luhansk" in " ".join(found.text.split())


@pytest.mark.parametrize(("make", "reason"), [
    (lambda: bomb_png(100_000, 100_000), "refused"),
    (lambda: io.BytesIO(b"\xff\xd8\xff\xe0 WITNESS-NAME " * 50), "cannot be"),
    (lambda: io.BytesIO(b"WITNESS-NAME " * 50), "cannot be read"),
])
def test_bombs_and_damaged_images_are_refused_without_quoting_them(
        make: Callable[[], io.BytesIO], reason: str) -> None:
    with pytest.raises(OcrError) as raised:
        ocr_image(make())
    assert reason in str(raised.value)
    assert "WITNESS" not in str(raised.value) and " at 0x" not in str(raised.value)


def test_a_pdf_whose_image_is_a_bomb_is_refused_before_it_is_decoded(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(image_bomb_pdf(100_000, 100_000))
    with pytest.raises(OcrError, match=r"100,000 × 100,000 pixels.*decompression bomb"):
        ocr_pdf_pages(opener(bomb), [1])


# -- the enricher ----------------------------------------------------------------------------

def subject(path: Path, media_type: str, ocr_pages: tuple[int, ...] = ()) -> Subject:
    return Subject(1, "file", media_type, path.name, path.stat().st_size, "0" * 64, None,
                   None, None, blob_path=str(path), ocr_pages=ocr_pages)


def test_the_enricher_keeps_the_reading_and_its_facts() -> None:
    enricher = OcrEnricher()
    found = enricher.run(subject(OCR / "letter_uk.jpg", "image/jpeg"))
    (artifact,) = found.artifacts
    assert artifact.role == "ocr-text" and "Макіївки" in artifact.content  # type: ignore[operator]
    (facts,) = found.annotations
    assert facts.kind == "ocr" and facts.value == "uk"
    assert facts.data is not None and facts.data["kept"] is True
    assert enricher.version.startswith("1+tesseract-5")


def test_the_enricher_reads_images_and_pdf_pages_without_text_only() -> None:
    enricher = OcrEnricher()
    assert "image/jpeg" in OCR_IMAGE_TYPES and "image/svg+xml" not in OCR_IMAGE_TYPES
    assert enricher.accepts(subject(OCR / "letter_uk.jpg", "image/jpeg"))
    assert not enricher.accepts(subject(OCR / "scanned_ru_en.pdf", "application/pdf"))
    assert enricher.accepts(subject(OCR / "scanned_ru_en.pdf", "application/pdf", (1, 2)))


def test_a_photograph_without_writing_gives_no_text(tmp_path: Path) -> None:
    # Smooth shapes and noise, as a street photograph: whatever Tesseract makes of it is
    # too little and too unsure to be kept as text.
    photo = tmp_path / "street.jpg"
    Image.effect_noise((640, 480), 60).convert("RGB").save(photo, quality=80)
    found = OcrEnricher().run(subject(photo, "image/jpeg"))
    assert found.artifacts == []
    (facts,) = found.annotations
    assert facts.data is not None and facts.data["kept"] is False
