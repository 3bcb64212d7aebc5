"""OCR of images and scanned PDF pages: Tesseract in two passes, the second in one language.

Tesseract reads Ukrainian, Russian and English at once (``-l ukr+rus+eng``), but with all
three it confuses look-alike letters across scripts: measured on our letters, a Russian
«мы» came out «мь» and an English "Dear Sir" as «Оеаг 5іг», while the single right
language read both perfectly. So each image is read twice: a first pass with all three,
lingua (:mod:`svidok.enrich.language`) on what it gave, then a second pass with that one
language. The second is kept unless Tesseract's own mean word confidence drops by more
than :data:`KEEP_TOLERANCE` points (it could, on a page that really mixes languages).
Belarusian or Bulgarian, or no language at all, keep the first pass.

Tesseract runs as a program (``tesseract stdin stdout ... tsv``): no shell, the image on
its standard input, a time limit per call, one OpenMP thread (enrichers already run one
process per core). The TSV output gives the words with their confidence and layout; the
text is rebuilt from it, a line per line and a blank line between paragraphs.

Bad input is bounded before it costs memory: images are read up to :data:`MAX_IMAGE_BYTES`,
their declared size is checked against :data:`MAX_IMAGE_PIXELS` before Pillow decodes them
(a decompression bomb is refused, not expanded), a PDF's image objects are checked the
same way before pypdf decodes them (pypdf itself caps every stream at 75 MB), and a PDF is
read for at most ``max_pages`` pages and :data:`MAX_PDF_SECONDS`. A damaged page or image
of a PDF is a note and the next one is read; :class:`OcrError` is raised when nothing can
be read. Errors and notes never quote the text.

:data:`OCR_VERSION` names Tesseract's version, so an upgrade reads everything again. It is
looked up on first use (a module ``__getattr__``), not when the module is imported.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from svidok.enrich.enricher import Annotation, Artifact, EnrichError, Output, Subject
from svidok.enrich.language import detect_language

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["OCR_VERSION", "OcrEnricher", "OcrError", "OcrResult", "ocr_available",
           "ocr_image", "ocr_pdf_pages"]

OCR_VERSION: str  # "1+tesseract-5.3.0"; see __getattr__ below
_OWN_VERSION = "1"

TESSERACT = "tesseract"
MIXED = "ukr+rus+eng"
SINGLE = {"uk": "ukr", "ru": "rus", "en": "eng"}
KEEP_TOLERANCE = 2.0  # points of Tesseract's 0-100 word confidence
TIMEOUT_SECONDS = 120.0  # one Tesseract call on one image
MAX_IMAGE_BYTES = 64 * 1024 * 1024
# An A4 page scanned at 600 dpi is 35 Mpx; beyond this an image is refused.
MAX_IMAGE_PIXELS = 50_000_000
MAX_FRAMES = 50  # pages of a multi-page TIFF (a fax, a scanner's output)
MAX_IMAGES_PER_PAGE = 16
MIN_SIDE = 24  # pixels: smaller images (bullets, rules, logos) hold no readable line
MAX_PDF_SECONDS = 1800.0


class OcrError(Exception):
    """The image or PDF cannot be read; the message says what failed, never what it holds."""


@dataclass(frozen=True, slots=True)
class OcrResult:
    text: str
    language: str | None  # the language of the pass kept ("uk", "ru", "en"), or lingua's
    first_pass_language: str | None  # what lingua found in the first, mixed pass
    confidence: float | None  # Tesseract's mean word confidence, 0 to 1; None: no words
    pages: int  # images (frames, PDF pages) that were read
    notes: tuple[str, ...] = ()  # what was skipped or refused, and why


@dataclass(frozen=True, slots=True)
class _Pass:
    text: str
    confidence: float | None  # 0-100, Tesseract's scale
    words: int


@dataclass
class _Read:
    """What the images of one item gave, gathered as they are read."""

    texts: list[str] = field(default_factory=list)
    languages: Counter[str] = field(default_factory=Counter)
    first_languages: Counter[str] = field(default_factory=Counter)
    confidence_sum: float = 0.0
    words: int = 0
    pages: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, image: Image) -> None:
        first, kept, first_language, language = _two_passes(_png(image))
        if kept.text:
            self.texts.append(kept.text)
        weight = len(kept.text)
        if language:
            self.languages[language] += weight
        if first_language:
            self.first_languages[first_language] += len(first.text)
        if kept.confidence is not None:
            self.confidence_sum += kept.confidence * kept.words
            self.words += kept.words

    def result(self, separator: str) -> OcrResult:
        return OcrResult(
            text=separator.join(self.texts), language=_most(self.languages),
            first_pass_language=_most(self.first_languages),
            confidence=self.confidence_sum / self.words / 100 if self.words else None,
            pages=self.pages, notes=tuple(self.notes))


def ocr_available() -> bool:
    """Whether Tesseract and its Ukrainian, Russian and English data are installed."""
    return _tesseract_facts()[1]


def ocr_image(data: BinaryIO) -> OcrResult:
    """The text of an image (each page of a multi-page TIFF)."""
    raw = data.read(MAX_IMAGE_BYTES + 1)
    if len(raw) > MAX_IMAGE_BYTES:
        raise OcrError(f"the image is larger than {MAX_IMAGE_BYTES:,} bytes; not read")
    read = _Read()
    for image in _frames(raw, read.notes):
        read.add(image)
        read.pages += 1
    return read.result("\n\n")


def ocr_pdf_pages(open_original: Callable[[], BinaryIO], pages: Sequence[int],
                  max_pages: int = 200) -> OcrResult:
    """The text of the images on the given PDF pages (1-based), in page order."""
    from pypdf import PasswordType, PdfReader

    read = _Read()
    deadline = time.monotonic() + MAX_PDF_SECONDS
    with open_original() as fh:
        try:
            reader = PdfReader(fh, strict=False)
            if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
                raise OcrError("the PDF is encrypted with a password; not read")
            count = len(reader.pages)
        except OcrError:
            raise
        except Exception as exc:  # pypdf raises many kinds on damaged files
            raise OcrError(f"the PDF cannot be opened ({_reason(exc)})") from None
        wanted = sorted({n for n in pages if 1 <= n <= count})
        if len(wanted) > max_pages:
            read.notes.append(f"only the first {max_pages:,} of {len(wanted):,} pages "
                              "without a text layer were read")
            wanted = wanted[:max_pages]
        failed: list[str] = []
        for number in wanted:
            if time.monotonic() > deadline:
                read.notes.append(f"stopped after {MAX_PDF_SECONDS:,.0f} s, before page "
                                  f"{number}")
                break
            images = 0
            try:
                for image in _page_images(reader.pages[number - 1], number, read.notes):
                    read.add(image)
                    images += 1
            except OcrError as exc:
                failed.append(f"page {number}: {exc}")
                continue
            read.pages += 1
            if not images:
                read.notes.append(f"page {number} has no image large enough to read")
    read.notes.extend(failed)
    if failed and not read.pages:
        raise OcrError(f"no page could be read; {failed[0]}")
    return read.result("\n\n")


# -- images -------------------------------------------------------------------------------

def _frames(raw: bytes, notes: list[str]) -> Iterator[Image]:
    """The decoded frames of an image file, each checked against the pixel limit first;
    pages past :data:`MAX_FRAMES` are left unread and ``notes`` says so."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(raw))
    except Image.DecompressionBombError:
        raise OcrError("the image declares more pixels than Pillow allows; refused (a "
                       "decompression bomb?)") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise OcrError(f"the image cannot be read ({_reason(exc)})") from None
    # Only a TIFF's frames are pages; a GIF's or a WebP's are an animation.
    pages = getattr(image, "n_frames", 1) if image.format == "TIFF" else 1
    if pages > MAX_FRAMES:
        notes.append(f"only the first {MAX_FRAMES} of the TIFF's {pages:,} pages were read")
    frames = min(pages, MAX_FRAMES)
    for number in range(frames):
        try:
            image.seek(number)
            _check_size(image.width, image.height)
            image.load()
            frame = ImageOps.exif_transpose(image) if number == 0 else image.copy()
        except OcrError:
            raise
        except Exception as exc:  # decoders raise many kinds on damaged data
            raise OcrError(f"the image cannot be decoded ({_reason(exc)}"
                           f"{f', frame {number + 1}' if frames > 1 else ''})") from None
        yield frame


def _check_size(width: int, height: int) -> None:
    if width * height > MAX_IMAGE_PIXELS:
        raise OcrError(f"the image is {width:,} × {height:,} pixels, more than "
                       f"{MAX_IMAGE_PIXELS:,}; refused (a decompression bomb?)")


def _png(image: Image) -> bytes:
    """Grayscale PNG for Tesseract; transparency is laid on white (scans of stamps and
    screenshots often have an alpha channel that Tesseract reads as black)."""
    from PIL import Image as PilImage

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P"
                                               and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = PilImage.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = PilImage.alpha_composite(white, rgba)
    if image.mode not in ("L", "1"):
        image = image.convert("L")
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


# -- PDF ----------------------------------------------------------------------------------

def _page_images(page: Any, number: int, notes: list[str]) -> Iterator[Image]:
    """The images drawn on a PDF page, each checked against the pixel limit before
    pypdf decodes it; past :data:`MAX_IMAGES_PER_PAGE` they are left and noted."""
    try:
        keys = page.images.keys()
    except Exception as exc:
        raise OcrError(f"its images cannot be listed ({_reason(exc)})") from None
    if len(keys) > MAX_IMAGES_PER_PAGE:
        notes.append(f"page {number}: only the first {MAX_IMAGES_PER_PAGE} of its "
                     f"{len(keys)} images were read")
    for key in keys[:MAX_IMAGES_PER_PAGE]:
        size = _declared_size(page, key)
        if size is not None:
            if min(size) < MIN_SIDE:
                continue
            _check_size(*size)
        try:
            image = page.images[key].image
        except Exception as exc:  # pypdf's limits and damaged streams both land here
            raise OcrError(f"an image cannot be decoded ({_reason(exc)})") from None
        if image is None or min(image.size) < MIN_SIDE:
            continue
        _check_size(image.width, image.height)
        yield image


def _declared_size(page: Any, key: str | list[str]) -> tuple[int, int] | None:
    """Width and height an image XObject declares; None for an inline image (which
    pypdf has already read, with the content stream, under its own limits)."""
    path = [key] if isinstance(key, str) else list(key)
    if path[-1].startswith("~"):
        return None
    try:
        holder = page
        for name in path:
            found = holder["/Resources"].get_object()["/XObject"].get_object()[name]
            holder = found.get_object()
        return int(holder["/Width"]), int(holder["/Height"])
    except Exception as exc:
        raise OcrError(f"an image's size cannot be read ({_reason(exc)})") from None


# -- Tesseract ----------------------------------------------------------------------------

def _two_passes(png: bytes) -> tuple[_Pass, _Pass, str | None, str | None]:
    """(first pass, pass kept, first pass's language, kept pass's language)."""
    first = _tesseract(png, MIXED)
    found = detect_language(first.text).language if first.text else None
    single = SINGLE.get(found or "")
    if single is None:
        return first, first, found, found
    second = _tesseract(png, single)
    if (first.confidence is not None and (second.confidence is None
                                          or second.confidence < first.confidence
                                          - KEEP_TOLERANCE)):
        return first, first, found, found
    return first, second, found, found


def _tesseract(png: bytes, languages: str) -> _Pass:
    args = [TESSERACT, "stdin", "stdout", "-l", languages, "--psm", "3", "tsv"]
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(args, input=png, capture_output=True, timeout=TIMEOUT_SECONDS,
                              env=env, check=False)
    except FileNotFoundError:
        raise OcrError("tesseract is not installed") from None
    except subprocess.TimeoutExpired:
        raise OcrError(f"tesseract took longer than {TIMEOUT_SECONDS:,.0f} s; "
                       "stopped") from None
    if done.returncode != 0:
        # Tesseract's messages name its own trouble (a language missing, a format), never
        # the text it read.
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        why = lines[-1][:160] if lines else "no message"
        raise OcrError(f"tesseract failed (exit {done.returncode}: {why})")
    return _parse_tsv(done.stdout.decode("utf-8", "replace"))


def _parse_tsv(tsv: str) -> _Pass:
    """Text and mean word confidence from Tesseract's TSV: a line per layout line, a blank
    line between blocks and paragraphs."""
    lines: list[list[str]] = []
    line_key: tuple[str, ...] | None = None
    paragraph_key: tuple[str, ...] | None = None
    total = 0.0
    words = 0
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5":
            continue
        word = cells[11].strip()
        if not word:
            continue
        paragraph = tuple(cells[1:4])
        key = tuple(cells[1:5])
        if key != line_key:
            if paragraph_key is not None and paragraph != paragraph_key:
                lines.append([])
            lines.append([])
            line_key, paragraph_key = key, paragraph
        lines[-1].append(word)
        try:
            confidence = float(cells[10])
        except ValueError:
            continue
        if confidence >= 0:
            total += confidence
            words += 1
    text = "\n".join(" ".join(line) for line in lines)
    return _Pass(text, total / words if words else None, words)


_facts_lock = threading.Lock()
_facts: tuple[str, bool] | None = None


def _tesseract_facts() -> tuple[str, bool]:
    """(Tesseract's version or "missing", whether ukr, rus and eng are installed)."""
    global _facts
    with _facts_lock:
        if _facts is None:
            _facts = _ask_tesseract()
        return _facts


def _ask_tesseract() -> tuple[str, bool]:
    if shutil.which(TESSERACT) is None:
        return "missing", False
    try:
        version = subprocess.run([TESSERACT, "--version"], capture_output=True,
                                 timeout=30, check=False)
        listed = subprocess.run([TESSERACT, "--list-langs"], capture_output=True,
                                timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "missing", False
    first = (version.stdout or version.stderr).decode("utf-8", "replace").split("\n")[0]
    number = first.split()[-1] if first.strip() else "unknown"
    installed = set(listed.stdout.decode("utf-8", "replace").split())
    return number, {"ukr", "rus", "eng"} <= installed


def _most(counter: Counter[str]) -> str | None:
    return counter.most_common(1)[0][0] if counter else None


_OBJECT_REPR = re.compile(r"<[^<>]* at 0x[0-9a-fA-F]+>")


def _reason(exc: BaseException) -> str:
    """The exception's kind and a short message without any bytes it may quote, nor the
    object it was reading ("cannot identify image file <_io.BytesIO object at 0x...>")."""
    from svidok.sources.documents.model import reason

    return _OBJECT_REPR.sub("it", reason(exc))


def __getattr__(name: str) -> str:
    if name == "OCR_VERSION":
        return f"{_OWN_VERSION}+tesseract-{_tesseract_facts()[0]}"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- the enricher ----------------------------------------------------------------------------

# Pictures Tesseract is given; a vector drawing or an icon format is not a scan.
OCR_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/tiff", "image/webp",
                             "image/bmp", "image/gif", "image/x-ms-bmp"})
# A photograph of a street gives Tesseract a few "words" it is unsure of: below this mean
# word confidence and this many letters the text is noise, not a reading, and is dropped.
MIN_KEPT_CONFIDENCE = 0.6
MIN_KEPT_LETTERS = 20


class OcrEnricher:
    """Text read from images and from PDF pages without a text layer ("ocr-text")."""

    name = "ocr"
    needs: tuple[str, ...] = ("text",)

    @property
    def version(self) -> str:
        # Tesseract's own version is part of it: a new one reads differently.
        return f"{_OWN_VERSION}+tesseract-{_tesseract_facts()[0]}"

    def accepts(self, subject: Subject) -> bool:
        if subject.blob_path is None:
            return False
        return subject.media_type in OCR_IMAGE_TYPES or bool(subject.ocr_pages)

    def run(self, subject: Subject) -> Output:
        if not ocr_available():
            raise EnrichError("Tesseract with Ukrainian, Russian and English is not "
                              "installed (Debian: tesseract-ocr tesseract-ocr-ukr "
                              "tesseract-ocr-rus)")
        try:
            if subject.ocr_pages:
                found = ocr_pdf_pages(subject.open, subject.ocr_pages)
            else:
                with subject.open() as fh:
                    found = ocr_image(fh)
        except OcrError as exc:
            raise EnrichError(str(exc)) from None
        output = Output(notes=list(found.notes))
        letters = sum(1 for c in found.text if c.isalpha())
        kept = letters >= MIN_KEPT_LETTERS and (found.confidence or 0.0) >= MIN_KEPT_CONFIDENCE
        if kept:
            output.artifacts.append(Artifact("ocr-text", "text/plain; charset=utf-8",
                                             content=found.text))
        elif found.text.strip():
            output.notes.append("what Tesseract read was too little or too unsure to be "
                                "text (a photograph?); not kept")
        output.annotations.append(Annotation(
            "ocr", found.language or "", confidence=found.confidence or 0.0, data={
                "pages": found.pages, "kept": kept, "letters": letters,
                "first_pass_language": found.first_pass_language}))
        return output
