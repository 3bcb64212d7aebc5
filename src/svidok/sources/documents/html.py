"""HTML pages and news articles: main text, title, byline and date via trafilatura, offline."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from datetime import date

from svidok.sources.documents.model import (
    HEAD_BYTES,
    Document,
    DocumentError,
    DocumentLimits,
    MiB,
    cap_text,
    clean,
    reason,
)
from svidok.sources.documents.text import BOMS, Decoded, decode
from svidok.sources.problems import Problem

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_JSONLD_DATE = re.compile(r'"datePublished"\s*:\s*"([^"]{4,64})"')
# Where pages write their publication date, most specific first.
_DATE_PATHS = (
    "//meta[@property='article:published_time' or @name='article:published_time'"
    " or @itemprop='datePublished' or @name='pubdate' or @name='publishdate'"
    " or @name='publication_date' or @name='date' or @name='dc.date'"
    " or @name='DC.date.issued' or @name='citation_publication_date']/@content",
    "//*[@itemprop='datePublished']/@datetime",
    "//time/@datetime",
)
_BLOCKS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section",
           "article", "blockquote", "pre", "table", "ul", "ol", "dd", "dt", "header",
           "footer", "main", "aside", "nav", "figure", "figcaption", "td", "th")


def _decode_html(data: bytes, truncated: bool) -> Decoded:
    """A byte-order mark, else the charset the page declares, else as plain text."""
    if data.startswith(tuple(bom for bom, _ in BOMS)):
        decoded = decode(data, truncated)
        assert decoded is not None
        return decoded
    declared = _META_CHARSET.search(data[:HEAD_BYTES])
    if declared:
        label = declared.group(1).decode("ascii").lower()
        try:
            codec: str | None = codecs.lookup(label).name
        except LookupError:
            codec = None
        if codec is not None and codec not in ("utf-16", "utf-32") and codec.isascii():
            text = data.decode(codec, errors="replace")
            bad = text.count("\ufffd")
            note = f"HTML decoded as {codec} (declared by the page)"
            if bad:
                note += f"; {bad:,} invalid sequences replaced"
            return Decoded(text, codec, note)
    decoded = decode(data, truncated)
    if decoded is None:
        return Decoded(data.decode("utf-8", errors="replace"), "utf-8",
                        "HTML with NUL bytes; decoded as utf-8 with replacements")
    return decoded


def read_html(data: bytes, name: str, limits: DocumentLimits) -> Document:
    import lxml.etree
    import lxml.html

    if len(data) > limits.max_markup_bytes:
        raise DocumentError(f"{name}: HTML larger than {limits.max_markup_bytes:,} bytes; "
                            "stored, not read")
    decoded = _decode_html(data, False)
    markup = _XML_DECL.sub("", decoded.text.removeprefix("\ufeff"), count=1)
    markup = markup.replace("\x00", "")
    notes: list[str] = [] if decoded.encoding == "utf-8" else [decoded.note]
    problems: list[Problem] = []
    try:
        tree = lxml.html.document_fromstring(markup)
    except (lxml.etree.LxmlError, ValueError) as exc:
        raise DocumentError(f"{name}: the HTML cannot be parsed ({reason(exc)})") from None

    language = _first(tree.xpath("/html/@lang | //html/@lang | //html/@xml:lang"
                                 " | //meta[@http-equiv='content-language']/@content",
                                 namespaces={"xml": "http://www.w3.org/XML/1998/namespace"}))
    extracted = None
    failed = False
    try:
        extracted = _trafilatura(markup)
    except Exception as exc:  # the extractor must not cost the page
        failed = True
        problems.append(Problem("main text", f"the article extractor failed "
                                f"({type(exc).__name__}); the whole page's text is given"))

    title = author = published_text = None
    published: date | None = None
    text, links = "", tuple[str, ...]()
    if extracted is not None:
        title, author = clean(extracted.title), clean(extracted.author)
        if extracted.date:
            try:
                published = date.fromisoformat(extracted.date)
            except ValueError:
                published = None
            else:
                published_text = _date_as_written(tree, markup, extracted.date)
        text, links = _body_text(extracted.body)
    if not text.strip():
        if not failed:
            notes.append("no main text found by trafilatura; the whole page's text is "
                         "given, navigation and boilerplate included")
        text = _page_text(tree)
        title = title or clean(_first(tree.xpath("//title/text()")))
    if published is not None:
        notes.append("publication date as the page claims it; htmldate gives a date, not "
                     "a time")
    return Document(kind="html", title=title, author=author, published=published,
                    published_text=published_text, created=None,
                    text=cap_text(text, limits, notes), language_hint=clean(language, 35),
                    pages=None, links=links, notes=tuple(notes), problems=tuple(problems))


def _trafilatura(markup: str) -> _Extracted | None:
    """Run trafilatura on a string (never a URL, so nothing is fetched), for precision."""
    import trafilatura

    found = trafilatura.bare_extraction(
        markup, url=None, favor_precision=True, include_comments=False,
        include_tables=True, include_links=True, include_images=False,
        with_metadata=True, deduplicate=False,
        # Only the page's structured dates (meta tags, <time>, JSON-LD, URL-like paths):
        # a date somewhere in the text is as likely the event's as the article's.
        date_extraction_params={"extensive_search": False, "original_date": True,
                                "outputformat": "%Y-%m-%d"})
    if found is None or isinstance(found, dict):
        return None
    return _Extracted(found.title, found.author, found.date, found.body)


@dataclass(frozen=True)
class _Extracted:
    title: str | None
    author: str | None
    date: str | None
    body: object  # trafilatura's XML body (an lxml element) or None


def _body_text(body: object) -> tuple[str, tuple[str, ...]]:
    """Plain text of trafilatura's body and the targets of its links (``<ref>``)."""
    import lxml.etree
    from trafilatura.xml import xmltotxt

    if not isinstance(body, lxml.etree._Element):
        return "", ()
    links: dict[str, None] = {}
    for ref in body.iter("ref"):
        target = ref.get("target")
        if target and target.strip():
            links.setdefault(target.strip(), None)
    lxml.etree.strip_tags(body, "ref")  # plain text, not Markdown links
    return xmltotxt(body, False).strip(), tuple(links)


def _date_as_written(tree: object, markup: str, iso: str) -> str:
    """The page's own spelling of the date trafilatura read, else trafilatura's."""
    for xpath in _DATE_PATHS:
        for value in tree.xpath(xpath):  # type: ignore[attr-defined]
            value = str(value).strip()
            if value.startswith(iso):
                return value[:100]
    for match in _JSONLD_DATE.finditer(markup[:4 * MiB]):
        if match.group(1).startswith(iso):
            return match.group(1)
    return iso


def _page_text(tree: object) -> str:
    """Every visible text of the page, a line per block; scripts and styles left out."""
    import lxml.etree

    root = tree
    assert isinstance(root, lxml.etree._Element)
    lxml.etree.strip_elements(root, "script", "style", "noscript", "template",
                              lxml.etree.Comment, lxml.etree.ProcessingInstruction,
                              with_tail=False)
    for element in root.iter(*_BLOCKS):
        element.tail = "\n" + (element.tail or "")
    body = root.find(".//body")
    raw = "".join((body if body is not None else root).itertext())
    lines = (" ".join(line.split()) for line in raw.splitlines())
    return "\n".join(line for line in lines if line)


def _first(values: object) -> str | None:
    if isinstance(values, list) and values:
        return str(values[0])
    return None
