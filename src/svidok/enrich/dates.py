"""Dates a text mentions, each with its precision and the anchor a missing year came from.

Two layers, rules first:

1. The project's own grammar (:mod:`svidok.enrich.date_rules`) reads explicit dates, vague
   ones and ranges in uk, ru and en: «23 червня 2022 року», «наприкінці червня», «с 1 по 15
   марта», "since February", «весной 2022», 23.06.2022, plus the fixed relative words
   («позавчора», "last week") that dateparser misses or gets wrong. Neighbouring matches
   join into a range («з 1 березня» + «по 15 квітня 2022»).
2. dateparser, only where it adds something: counted relative phrases ("three days ago",
   «два тижні тому») and month names the rules left unused. It is slow (about 0.5 ms a
   sentence with a language hint, 20 times that without), so it sees only the short
   sentence around such a trigger, at most :data:`MAX_DATEPARSER_WINDOWS` of them per text,
   always with the language and the anchor as its base. It is never given a whole text, so
   its English false positives ("we" as Wednesday, "may", "two hours") cannot come up
   except inside a trigger's sentence, and a result must overlap the trigger to count.

A missing year is the latest one that puts the date not after the anchor (the document's or
message's date): a day compares as itself, anything else by the first of its month, so
"late December" on 2023-01-05 is 2022-12-21..2022-12-31. Without an anchor, mentions that
need one (no year, or relative) are left out: a date must not depend on the day the
enricher ran. Only the first :data:`MAX_CHARS` characters of a text are read.
"""

from __future__ import annotations

import bisect
import calendar
import heapq
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Literal

from svidok.enrich import date_rules
from svidok.enrich.date_rules import SEASON_MONTHS, Found, Grammar, Point
from svidok.enrich.enricher import Annotation, Output, Subject

DATES_VERSION = "1"
LANGUAGES = ("uk", "ru", "en")
MAX_CHARS = 1_000_000  # about 1 s of rules; a longer text is read up to here only
MAX_DATEPARSER_WINDOWS = 16  # sentences handed to dateparser per text
_WINDOW = 160  # characters either side of a trigger, cut at a sentence end

Precision = Literal["day", "month", "year", "range", "since", "until"]


@dataclass(frozen=True, slots=True)
class DateMention:
    start: int  # offsets into the given text
    end: int
    text: str
    first: date | None  # None only for "until X"
    last: date | None  # None for an open "since X"
    precision: Precision
    anchor: date | None  # where a missing year or a relative phrase was taken from
    how: str  # "rule" or "dateparser"


def find_dates(text: str, language: str | None, anchor: date | None = None) -> list[DateMention]:
    """Every date the text mentions, in text order, none overlapping another.

    ``language`` is "uk", "ru" or "en"; anything else (None, "be") tries all three.
    """
    languages = (language,) if language in LANGUAGES else LANGUAGES
    g = date_rules.grammar(languages)
    text = text[:MAX_CHARS]
    found = _joined(g, text, _chosen(
        date_rules.find_day_ranges(g, text) + date_rules.find_points(g, text)
        + date_rules.find_relative(g, text)))
    out = [m for f in found if (m := _resolve(f, text, anchor)) is not None]
    if anchor is not None:
        taken = [(f.start, f.end) for f in found]
        out += _from_dateparser(g, text, languages, anchor, taken)
        out.sort(key=lambda m: m.start)
    return out


def _chosen(candidates: list[Found]) -> list[Found]:
    """The longest matches that do not overlap, in text order."""
    candidates.sort(key=lambda f: (f.start - f.end, f.start))
    spans: list[tuple[int, int]] = []  # chosen so far, sorted and disjoint
    taken: list[Found] = []
    for f in candidates:
        i = bisect.bisect_left(spans, (f.end, f.end))
        if i and spans[i - 1][1] > f.start:
            continue
        spans.insert(i, (f.start, f.end))
        taken.append(f)
    return sorted(taken, key=lambda f: f.start)


def _joined(g: Grammar, text: str, found: list[Found]) -> list[Found]:
    out: list[Found] = []
    for f in found:
        prev = out[-1] if out else None
        if prev and f.start - prev.end <= 12 and date_rules.joinable(
                g, prev, f, text[prev.end:f.start]):
            out[-1] = Found(prev.start, f.end, "range", prev.lo, f.hi, prev.pre)
        else:
            out.append(f)
    return [f for f in out if f.kind != "bare"]


# Resolving a rule match into dates


def _span(p: Point, year: int) -> tuple[date, date] | None:
    """The first and last day of the point in that year; None if there is no such day."""
    if not 1900 <= year <= 2100:
        return None
    try:
        if p.part == "year":
            return date(year, 1, 1), date(year, 12, 31)
        assert p.month is not None
        if p.part == "day":
            assert p.day is not None
            day = date(year, p.month, p.day)
            return day, day
        if p.part in SEASON_MONTHS:
            # Winter 2022 is December 2021 to February 2022: the winter that ends in 2022.
            first = date(year - 1, 12, 1) if p.part == "winter" else date(year, p.month, 1)
            end_month = 2 if p.part == "winter" else p.month + 2
            return first, date(year, end_month, calendar.monthrange(year, end_month)[1])
        days = calendar.monthrange(year, p.month)[1]
        low, high = date_rules.MONTH_PARTS.get(p.part, (1, days))
        return date(year, p.month, low), date(year, p.month, min(high, days))
    except ValueError:  # «31 лютого», a 13th month in 23.13.2022
        return None


def _year_before(p: Point, anchor: date) -> int | None:
    """The latest year that puts the point not after the anchor (a day compares as itself,
    anything else by the first of its month); None if no year in nine has such a day."""
    for year in range(anchor.year + 1, anchor.year - 9, -1):
        span = _span(p, year)
        if span is None:
            continue
        ref = span[0] if p.part == "day" else span[0].replace(day=1)
        if ref <= anchor:
            return year
    return None


def _resolve(f: Found, text: str, anchor: date | None) -> DateMention | None:
    def mention(first: date | None, last: date | None, precision: Precision,
                used: date | None) -> DateMention:
        return DateMention(f.start, f.end, text[f.start:f.end], first, last, precision, used,
                           "rule")

    if f.kind == "relative":
        back = None if anchor is None else _relative(f.back, anchor)
        return None if back is None else mention(*back, anchor)
    lo, hi = f.lo, f.hi
    assert lo is not None and hi is not None
    if f.kind != "range":
        point = lo
        year, used = point.year, None
        if year is None:
            if anchor is None or (year := _year_before(point, anchor)) is None:
                return None
            used = anchor
        span = _span(point, year)
        if span is None:
            return None
        if f.kind == "since":
            return mention(span[0], None, "since", used)
        if f.kind == "until":
            return mention(None, span[1], "until", used)
        precision: Precision = ("day" if point.part == "day" else "month"
                                if point.part == "month" else "year"
                                if point.part == "year" else "range")
        return mention(span[0], span[1], precision, used)
    lo_year, hi_year, used = lo.year, hi.year, None
    if lo_year is None and hi_year is None:
        if anchor is None or (lo_year := _year_before(lo, anchor)) is None:
            return None
        used = anchor
    if lo_year is None:
        assert hi_year is not None
        lo_span, hi_span = _span(lo, hi_year), _span(hi, hi_year)
        if lo_span and hi_span and lo_span[0] > hi_span[1]:  # «з 25 грудня по 5 січня 2023»
            lo_span = _span(lo, hi_year - 1)
    else:
        lo_span = _span(lo, lo_year)
        hi_span = _span(hi, lo_year if hi_year is None else hi_year)
        if hi_year is None and lo_span and hi_span and hi_span[1] < lo_span[0]:
            hi_span = _span(hi, lo_year + 1)
    if lo_span is None or hi_span is None or lo_span[0] > hi_span[1]:
        return None
    return mention(lo_span[0], hi_span[1], "range", used)


def _relative(back: tuple[str, int], anchor: date) -> tuple[date, date, Precision] | None:
    unit, count = back
    try:
        if unit in ("day", "week"):  # "two weeks ago" is a day, as dateparser reads it
            day = anchor - timedelta(days=count * (7 if unit == "week" else 1))
            return day, day, "day"
        if unit == "weekday":  # the latest such day before the anchor (count: Monday 0)
            day = anchor - timedelta(days=(anchor.weekday() - count - 1) % 7 + 1)
            return day, day, "day"
        if unit == "calendar-week":  # Monday to Sunday, that many weeks before the anchor's
            monday = anchor - timedelta(days=anchor.weekday() + 7 * count)
            return monday, monday + timedelta(days=6), "range"
        if unit == "month":
            month = anchor.year * 12 + anchor.month - 1 - count
            first = date(month // 12, month % 12 + 1, 1)
            return first, first.replace(day=calendar.monthrange(first.year, first.month)[1]), \
                "month"
        return date(anchor.year - count, 1, 1), date(anchor.year - count, 12, 31), "year"
    except (ValueError, OverflowError):  # "999 years ago" from an early anchor
        return None


# dateparser, on the few sentences where it can add something

_COUNTED = {
    "uk": r"(?:дн\w*|день|тижн\w*|тиждень|місяц\w*|місяць|рок\w*|рік)\s+тому",
    "ru": r"(?:дн\w*|день|недел\w+|месяц\w*|год\w*|лет)\s+назад",
    "en": r"(?:days?|weeks?|months?|years?)\s+ago"
          r"|(?:last|past)\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)",
}
# Words dateparser reads as dates that, alone, are not (reported for the English article).
_NOT_DATES = frozenset(
    ("we", "may", "march", "sat", "sun", "second", "mon", "tue", "wed", "thu", "fri", "now"))
_SENTENCE_END = re.compile(r"[.!?;\n]")
_DAY_NUMBER = re.compile(r"(?<!\d)\d\d?(?!\d)")


@lru_cache(maxsize=8)
def _counted(languages: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("(?<!\\w)(?:" + "|".join(_COUNTED[lang] for lang in languages)
                      + ")(?!\\w)", re.IGNORECASE)


def _window(text: str, start: int, end: int) -> tuple[int, int]:
    low = max(0, start - _WINDOW)
    ends = list(_SENTENCE_END.finditer(text, low, start))
    low = ends[-1].end() if ends else low
    after = _SENTENCE_END.search(text, end, min(len(text), end + _WINDOW))
    return low, after.start() if after else min(len(text), end + _WINDOW)


def _masked(text: str, low: int, high: int, spans: list[tuple[int, int]]) -> str:
    chars = list(text[low:high])
    for start, end in spans[max(0, bisect.bisect_left(spans, (low, low)) - 1):]:
        if start >= high:
            break
        for i in range(max(start, low), min(end, high)):
            chars[i - low] = " "
    return "".join(chars)


def _search(window: str, languages: tuple[str, ...], base: datetime) -> list[tuple[str, datetime]]:
    from dateparser.search import search_dates  # 0.3 s to import: only once a text needs it

    settings = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": "past"}
    try:
        found = search_dates(window, languages=list(languages), settings=settings)
    except Exception:  # a third-party parser's failure costs one sentence, not the text
        return []
    return list(found or [])


def _from_dateparser(g: Grammar, text: str, languages: tuple[str, ...], anchor: date,
                     taken: list[tuple[int, int]]) -> list[DateMention]:
    spans = sorted(taken)

    def free(start: int, end: int) -> bool:
        i = bisect.bisect_left(spans, (end, end))
        return i == 0 or spans[i - 1][1] <= start

    counted = _counted(languages)
    triggers = heapq.merge(
        ((m.start(), m.end(), True) for m in counted.finditer(text)
         if free(m.start(), m.end())),
        ((m.start(), m.end(), False) for m in g.month.finditer(text)
         if free(m.start(), m.end())))
    out: list[DateMention] = []
    windows: set[tuple[int, int]] = set()
    base = datetime(anchor.year, anchor.month, anchor.day)
    for t_start, t_end, is_count in triggers:
        if len(windows) >= MAX_DATEPARSER_WINDOWS:
            break
        low, high = _window(text, t_start, t_end)
        if (low, high) in windows:
            continue
        if not is_count and _DAY_NUMBER.search(text, low, high) is None:
            continue  # a month is kept only with its day, and this sentence has no number
        windows.add((low, high))
        # What the rules read is blanked out (offsets kept), so dateparser neither reports
        # it again nor swallows a trigger into a phrase that overlaps it.
        window = _masked(text, low, high, spans)
        results = _search(window, languages, base)
        cursor = 0
        for phrase, when in results:
            found_at = window.find(phrase, cursor)
            if found_at < 0:
                continue
            cursor = found_at + len(phrase)
            at, end = low + found_at, low + cursor
            if not free(at, end) or phrase.casefold() in _NOT_DATES:
                continue
            # Only what a trigger is part of: a counted phrase, or a month with its day (a
            # bare month dateparser would set to the anchor's day).
            if not (counted.search(phrase) or (
                    g.month.search(phrase) and _DAY_NUMBER.search(phrase))):
                continue
            has_year = re.search(r"(?<!\d)(?:19|20)\d\d(?!\d)", phrase) is not None
            day = when.date()
            out.append(DateMention(at, end, phrase, day, day, "day",
                                   None if has_year else anchor, "dateparser"))
            bisect.insort(spans, (at, end))
    return out


# -- the enricher ----------------------------------------------------------------------------

class DatesEnricher:
    """Dates the text mentions; a missing year comes from the item's own date."""

    name = "dates"
    version = DATES_VERSION
    needs: tuple[str, ...] = ("language",)

    def accepts(self, subject: Subject) -> bool:
        return bool(subject.text)

    def run(self, subject: Subject) -> Output:
        assert subject.text is not None
        # The day the message was posted or the letter sent: "late June" is the June
        # before it. A file that does not say is anchored at its capture: what it tells
        # happened before it was collected.
        anchor_from, moment = (("occurred", subject.occurred_at)
                               if subject.occurred_at is not None
                               else ("captured", subject.captured_at))
        anchor = moment.date() if moment is not None else None
        output = Output()
        text = subject.text_up_to(MAX_CHARS, output, "dates")
        for m in find_dates(text, subject.language, anchor):
            output.annotations.append(Annotation(
                "date", f"{m.first.isoformat() if m.first else ''}/"
                        f"{m.last.isoformat() if m.last else ''}",
                m.start, m.end, 0.9 if m.how == "rule" else 0.7, data={
                    "text": m.text, "precision": m.precision, "how": m.how,
                    "anchor": m.anchor.isoformat() if m.anchor else None,
                    "anchor_from": anchor_from if m.anchor else None}))
        return output
