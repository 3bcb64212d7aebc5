"""Plain text: the encoding decided by a rule a person can follow, and said in the notes."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from svidok.sources.documents.model import (
    Document,
    DocumentError,
    DocumentLimits,
    cap_text,
)

# UTF-32 first: its little-endian mark begins with UTF-16's.
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # the codec's name
    note: str  # how it was chosen, for the notes


def decode(data: bytes, truncated: bool) -> Decoded | None:
    """Decode bytes of unknown encoding; None when they are not text.

    The rule, in order: a byte-order mark decides; else strict UTF-8; else, as the text
    is not UTF-8, it is read as Windows-1251 and as KOI8-U and the reading with more
    lower-case Cyrillic letters wins. That works because real text is mostly lower case
    and each of the two encodings puts its lower-case letters where the other has capitals.
    A text with no Cyrillic letters either way, or whose non-ASCII letters mostly sit inside
    words of ASCII letters ("Témoin"), is read as Windows-1252 (Western).
    """
    for bom, codec in BOMS:
        if data.startswith(bom):
            decoder = codecs.getincrementaldecoder(codec)(errors="replace")
            text = decoder.decode(data[len(bom):], final=not truncated)
            bad = text.count("\ufffd")
            name = codec.removesuffix("-le").removesuffix("-be")
            note = f"text decoded as {name} (byte-order mark)"
            if bad:
                note += f"; {bad:,} invalid sequences replaced"
            return Decoded(text, name, note)
    if b"\x00" in data:
        return None  # binary, or UTF-16 without a byte-order mark: not supported
    try:
        text = codecs.getincrementaldecoder("utf-8")(errors="strict").decode(
            data, final=not truncated)
        return Decoded(text, "utf-8", "text decoded as utf-8")
    except UnicodeDecodeError:
        pass
    cp1251 = data.decode("cp1251", errors="replace")
    koi8 = data.decode("koi8_u")  # defines all 256 bytes
    score_1251, score_koi8 = _lower_cyrillic(cp1251), _lower_cyrillic(koi8)
    if score_1251 == score_koi8 == 0 or _western(data):
        text = data.decode("cp1252", errors="replace")
        return Decoded(text, "cp1252", "text is not utf-8 and has no Cyrillic letters; "
                        "decoded as windows-1252 (a guess)")
    if score_koi8 > score_1251:
        return Decoded(koi8, "koi8_u", "text is not utf-8; decoded as koi8-u (more "
                        "lower-case Cyrillic letters than as windows-1251)")
    why = ("more lower-case Cyrillic letters than as koi8-u" if score_1251 > score_koi8
           else "koi8-u reads it equally well")
    return Decoded(cp1251, "cp1251", f"text is not utf-8; decoded as windows-1251 ({why})")


_WORD = re.compile(rb"[A-Za-z\x80-\xff]+")


def _western(data: bytes) -> bool:
    """In legacy Cyrillic text whole words are bytes above 127; in Western text (é, ü, ß)
    they sit inside words of ASCII letters. True when the second kind of word is commoner.
    """
    mixed = cyrillic = 0
    for word in _WORD.findall(data[:1024 * 1024]):
        high = sum(1 for byte in word if byte > 127)
        if high == len(word):
            cyrillic += high > 1
        elif high:
            mixed += 1
    return mixed > cyrillic


def _lower_cyrillic(text: str) -> int:
    return sum(1 for ch in text if "\u0430" <= ch <= "\u045f" or ch in "ґ")


def _is_binary(text: str) -> bool:
    """Control characters other than tab, line breaks and form feed in more than 1% of the
    first 64 KiB (and more than three): random bytes have about 10%, text almost none, and
    one stray control character does not make a short note binary."""
    sample = text[:65536]
    return len(_CONTROL.findall(sample)) > max(len(sample) / 100, 3)


def read_text(data: bytes, name: str, limits: DocumentLimits) -> Document:
    truncated = len(data) > limits.max_markup_bytes
    data = data[:limits.max_markup_bytes]
    decoded = decode(data, truncated)
    if decoded is None or _is_binary(decoded.text):
        raise DocumentError(f"{name} is binary data, not a document of a supported kind "
                            "(HTML, PDF, DOCX or text)")
    notes = [decoded.note]
    if truncated:
        notes.append(f"only the first {limits.max_markup_bytes:,} bytes were read")
    text = decoded.text.removeprefix("\ufeff").replace("\r\n", "\n")
    text = cap_text(text, limits, notes)
    return Document(kind="text", title=None, author=None, published=None,
                    published_text=None, created=None, text=text, language_hint=None,
                    pages=None, links=(), notes=tuple(notes), problems=())
