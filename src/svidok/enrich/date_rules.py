"""The project's own date grammar: month names in every inflection, modifiers, ranges.

dateparser reads explicit dates well but gives nothing (or the wrong thing) for what
documenters' sources mostly say: «наприкінці червня», «с 1 по 15 марта 2022 года», "since
February", «весной 2022». Those are matched here by regular expressions built from small
vocabularies for uk, ru and en, and turned into :class:`Found` values that still may lack a
year: the year is filled in afterwards from the text around (the other end of a range) or
from the anchor (:mod:`svidok.enrich.dates`), so this module knows nothing about anchors.

Every Cyrillic word is matched case-insensitively; English month names must be capitalised,
because "may", "march" and "sat" are ordinary words. A bare month or a bare year counts only
after a preposition or a modifier («у червні», "in 2022"), because «лютий» is also an
adjective and a lone number is rarely a year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Parts a point can stand for; the modifiers split a month into thirds.
MONTH_PARTS = {"early": (1, 10), "mid": (11, 20), "late": (21, 31)}
SEASON_MONTHS = {"spring": 3, "summer": 6, "autumn": 9, "winter": 12}


@dataclass(frozen=True, slots=True)
class Point:
    """One end of a mention: a day, a month (or a third of one), a season or a year."""

    year: int | None
    month: int | None  # None for a whole year; the first month for a season
    day: int | None
    part: str  # "day", "month", "early", "mid", "late", "year" or a season name


@dataclass(frozen=True, slots=True)
class Found:
    """A rule match before its missing years are known."""

    start: int
    end: int
    kind: str  # "point", "range", "since", "until", "relative" (to the anchor), or "bare" (a
    # month with no preposition or year, which only counts as the start of a range)
    lo: Point | None
    hi: Point | None
    pre: str = ""  # the preposition's kind ("between" ranges need "and" to join)
    back: tuple[str, int] = ("day", 0)  # "relative": the unit and how many back


def _inflect(stem: str, endings: str) -> list[str]:
    return [stem + e for e in endings.split(",")]


_UK_EN = "ень,ня,ні,нем,ню"
_RU_SOFT = "ь,я,е,ю,ем,ём"
_RU_HARD = ",а,е,у,ом"
_MONTH_FORMS: dict[str, list[list[str]]] = {
    "uk": [
        _inflect("січ", _UK_EN), _inflect("лют", "ий,ого,ому,ім,им"), _inflect("берез", _UK_EN),
        _inflect("квіт", _UK_EN), _inflect("трав", _UK_EN), _inflect("черв", _UK_EN),
        _inflect("лип", _UK_EN), _inflect("серп", _UK_EN), _inflect("верес", _UK_EN),
        _inflect("жовт", _UK_EN), _inflect("листопад", ",а,і,ом,у"), _inflect("груд", _UK_EN),
    ],
    "ru": [
        _inflect("январ", _RU_SOFT), _inflect("феврал", _RU_SOFT), _inflect("март", _RU_HARD),
        _inflect("апрел", _RU_SOFT), ["май", "мая", "мае"], _inflect("июн", _RU_SOFT),
        _inflect("июл", _RU_SOFT), _inflect("август", _RU_HARD), _inflect("сентябр", _RU_SOFT),
        _inflect("октябр", _RU_SOFT), _inflect("ноябр", _RU_SOFT), _inflect("декабр", _RU_SOFT),
    ],
    # Abbreviations too ("Jun. 5"); capitalised or upper case only (see the module doc).
    "en": [
        [form for word in words.split(",") for form in (word, word.upper())]
        + [abbr + "." for abbr in words.split(",")[1:]]
        for words in ("January,Jan", "February,Feb", "March,Mar", "April,Apr", "May",
                      "June,Jun", "July,Jul", "August,Aug", "September,Sep,Sept",
                      "October,Oct", "November,Nov", "December,Dec")
    ],
}

_SEASON_FORMS = {
    "uk": {"spring": "навесні,весною,весна,весни,весну,весні",
           "summer": "влітку,улітку,літом,літо,літа,літі",
           "autumn": "восени,восені,осінню,осінь,осені",
           "winter": "взимку,узимку,зимою,зима,зими,зиму,зимі"},
    "ru": {"spring": "весной,весна,весны,весну,весне", "summer": "летом,лето,лета,лету,лете",
           "autumn": "осенью,осень,осени", "winter": "зимой,зима,зимы,зиму,зиме"},
    "en": {"spring": "spring", "summer": "summer", "autumn": "autumn,fall", "winter": "winter"},
}
# These say "in that season" by themselves; other season words need a year or a preposition.
_SEASON_ADVERBS = frozenset((
    "навесні", "весною", "влітку", "улітку", "літом", "восени", "осінню", "взимку", "узимку",
    "зимою", "весной", "летом", "осенью", "зимой"))

# Prepositions by what they make of the date after them.
_PREPOSITIONS = {
    "uk": {"in": "у,в,на,під,протягом,впродовж,упродовж", "since": "з,із,зі,від,починаючи з",
           "until": "до,по", "between": "між"},
    "ru": {"in": "в,во,на,под,в течение,на протяжении", "since": "с,со,от,начиная с",
           "until": "до,по,к", "between": "между"},
    "en": {"in": "in,during,throughout,at,on,around,this,last", "since": "since,from,starting",
           "until": "until,till,by,through,up to", "between": "between"},
}
_MODIFIERS = {
    "uk": {"late": "наприкінці,кінці,кінця,кінець,кінцю,останніх числах,останні числа",
           "early": "початку,початок,перших числах,перші числа",
           "mid": "середині,середини,середина,середину,посередині"},
    "ru": {"late": "конце,конца,конец,концу,последних числах,последних чисел,последние числа",
           "early": "начале,начала,начало,началу,первых числах,первых чисел,первые числа",
           "mid": "середине,середины,середина,середину,посередине"},
    "en": {"late": "late,the end of,end of", "early": "early,the beginning of,beginning of,"
           "the start of,start of", "mid": "mid,the middle of,middle of"},
}
_YEAR_WORDS = {"uk": "року,рік,році,р.,рр.", "ru": "года,году,год,г.,гг.", "en": ""}
_CONNECTORS = {"uk": "по,до,і,й,та", "ru": "по,до,и", "en": "to,through,until,till,and"}
_AND_WORDS = frozenset(("and", "і", "й", "та", "и"))

# Relative phrases, read here because dateparser misses «на прошлой неделе» and «тиждень
# тому», reads "the day before yesterday" as yesterday, and costs about 1 ms a sentence:
# (unit, how many back). "day" and "week" count days back from the anchor; "calendar-week",
# "month" and "year" name the whole calendar week, month or year that many before the anchor's.
Back = tuple[str, int]
_RELATIVE: dict[str, dict[str, Back]] = {
    "uk": {"сьогодні": ("day", 0), "вчора": ("day", 1), "учора": ("day", 1),
           "позавчора": ("day", 2), "минулого тижня": ("calendar-week", 1),
           "на минулому тижні": ("calendar-week", 1), "минулого місяця": ("month", 1),
           "минулого року": ("year", 1), "торік": ("year", 1), "позаторік": ("year", 2)},
    "ru": {"сегодня": ("day", 0), "вчера": ("day", 1), "позавчера": ("day", 2),
           "на прошлой неделе": ("calendar-week", 1), "в прошлом месяце": ("month", 1),
           "в прошлом году": ("year", 1), "прошлого года": ("year", 1),
           "в позапрошлом году": ("year", 2)},
    "en": {"today": ("day", 0), "yesterday": ("day", 1), "the day before yesterday": ("day", 2),
           "last week": ("calendar-week", 1), "last month": ("month", 1),
           "last year": ("year", 1)},
}
# "last Monday", «минулого понеділка», «в прошлую среду»: the latest such day before the
# anchor (unit "weekday", the count is the day, Monday 0). dateparser reads the English ones
# only, and the day without "last" («у понеділок») may mean the next one: left alone.
_LAST_WEEKDAY = {
    "uk": ["минулого понеділка,у минулий понеділок,в минулий понеділок,минулий понеділок",
           "минулого вівторка,у минулий вівторок,в минулий вівторок,минулий вівторок",
           "минулої середи,у минулу середу,в минулу середу,минулу середу",
           "минулого четверга,у минулий четвер,в минулий четвер,минулий четвер",
           "минулої п'ятниці,у минулу п'ятницю,в минулу п'ятницю,минулу п'ятницю",
           "минулої суботи,у минулу суботу,в минулу суботу,минулу суботу",
           "минулої неділі,у минулу неділю,в минулу неділю,минулу неділю"],
    "ru": ["в прошлый понедельник,прошлого понедельника", "в прошлый вторник,прошлого вторника",
           "в прошлую среду,прошлой среды", "в прошлый четверг,прошлого четверга",
           "в прошлую пятницу,прошлой пятницы", "в прошлую субботу,прошлой субботы",
           "в прошлое воскресенье,прошлого воскресенья"],
    "en": ["last Monday", "last Tuesday", "last Wednesday", "last Thursday", "last Friday",
           "last Saturday", "last Sunday"],
}
# «два тижні тому», «три дня назад», "two weeks ago": number, unit, ago-word.
_NUMBERS = {  # 1 to 10, a comma between numbers and a slash between forms of one
    "uk": "один/одна/одну,два/дві,три,чотири,п'ять,шість,сім,вісім,дев'ять,десять",
    "ru": "один/одна/одну,два/две,три,четыре,пять,шесть,семь,восемь,девять,десять",
    "en": "a/an/one,two,three,four,five,six,seven,eight,nine,ten",
}
_UNITS = {
    "uk": {"day": "день,дні,днів", "week": "тиждень,тижні,тижнів",
           "month": "місяць,місяці,місяців", "year": "рік,роки,років"},
    "ru": {"day": "день,дня,дней", "week": "неделю,недели,недель",
           "month": "месяц,месяца,месяцев", "year": "год,года,лет"},
    "en": {"day": "day,days", "week": "week,weeks", "month": "month,months",
           "year": "year,years"},
}
_AGO = {"uk": "тому", "ru": "назад", "en": "ago"}
# Units that say "one" without a number («тиждень тому», «неделю назад»); a plural alone
# («днів тому») means a number came before it that the rules do not know.
_SINGULAR_UNITS = frozenset(["день", "тиждень", "місяць", "рік", "неделю", "месяц", "год"])
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'"})


def _alternation(words: list[str]) -> str:
    # Longest first, so «наприкінці» is not read as a shorter word inside it.
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(set(words), key=len,
                                                                          reverse=True))


def _split(csv: str) -> list[str]:
    return [w for w in csv.split(",") if w]


@dataclass(frozen=True, slots=True)
class Grammar:
    point: re.Pattern[str]
    day_range: re.Pattern[str]
    relative: re.Pattern[str]
    month: re.Pattern[str]  # any month name: what dateparser's leftover windows look for
    months: dict[str, int]  # folded form -> month number
    seasons: dict[str, str]
    prepositions: dict[str, str]  # folded preposition -> "in", "since", "until", "between"
    modifiers: dict[str, str]
    relatives: dict[str, tuple[str, int]]
    counted: re.Pattern[str]  # «два тижні тому»
    numbers: dict[str, int]
    units: dict[str, str]
    connectors: frozenset[str]


def _fold(text: str) -> str:
    return " ".join(text.casefold().replace("ё", "е").split())


@lru_cache(maxsize=8)
def grammar(languages: tuple[str, ...]) -> Grammar:
    """The compiled grammar for these languages (all three when the language is unknown)."""
    months: dict[str, int] = {}
    cyr_months: list[str] = []
    en_months: list[str] = []
    seasons: dict[str, str] = {}
    preps: dict[str, str] = {}
    mods: dict[str, str] = {}
    relatives: dict[str, tuple[str, int]] = {}
    numbers: dict[str, int] = {}
    units: dict[str, str] = {}
    agos: list[str] = []
    year_words: list[str] = []
    connectors: list[str] = []
    for lang in languages:
        for number, forms in enumerate(_MONTH_FORMS[lang], start=1):
            (en_months if lang == "en" else cyr_months).extend(forms)
            months.update((_fold(f).rstrip("."), number) for f in forms)
        for season, csv in _SEASON_FORMS[lang].items():
            seasons.update((w, season) for w in _split(csv))
        for kind, csv in _PREPOSITIONS[lang].items():
            preps.update((w, kind) for w in _split(csv))
        for part, csv in _MODIFIERS[lang].items():
            mods.update((w, part) for w in _split(csv))
        relatives.update(_RELATIVE[lang])
        relatives.update((_fold(form).translate(_APOSTROPHES), ("weekday", day))
                         for day, csv in enumerate(_LAST_WEEKDAY[lang]) for form in _split(csv))
        numbers.update((form, n) for n, forms in enumerate(_split(_NUMBERS[lang]), start=1)
                       for form in forms.split("/"))
        for unit, csv in _UNITS[lang].items():
            units.update((w, unit) for w in _split(csv))
        agos.append(_AGO[lang])
        year_words += _split(_YEAR_WORDS[lang])
        connectors += _split(_CONNECTORS[lang])
    month_parts = []
    if cyr_months:
        month_parts.append(_alternation(cyr_months))
    if en_months:
        month_parts.append(f"(?-i:{_alternation(en_months)})")
    month = "(?:" + "|".join(month_parts) + ")"
    year_word = f"(?:\\s*(?:{_alternation(year_words)})(?!\\w))?" if year_words else ""
    year = f"(?:19|20)\\d\\d(?!\\d){year_word}"
    day = r"(?:[12]\d|3[01]|0?[1-9])(?:-?го|-?е|st|nd|rd|th)?"
    def pre(name: str) -> str:
        return f"(?:(?P<{name}>{_alternation(list(preps))})\\s+)?(?:the\\s+)?"

    def conn(name: str) -> str:
        return f"(?:\\s*[-–—]\\s*|\\s+(?P<{name}>{_alternation(connectors)})\\s+(?:the\\s+)?)"

    # A match starts a word: the lookahead fails fast on spaces, which Python's re would
    # otherwise try every alternative at (2.5 s a million spaces, 0.1 s with it).
    start = r"(?=\w)(?<![\w.,:/])(?<!\d[-–])"
    point = (
        f"{start}{pre('pre')}(?:"
        f"(?P<mod>{_alternation(list(mods))})[\\s-]*(?:of\\s+)?(?P<mm>{month})"
        f"(?:,?\\s+(?:of\\s+)?(?P<my>{year}))?"
        f"|(?P<d>{day})\\s*(?:of\\s+)?(?P<dm>{month})(?:,?\\s+(?P<dy>{year}))?"
        + (f"|(?P<em>{month})\\s+(?:the\\s+)?(?P<ed>{day})(?:,?\\s+(?P<ey>{year}))?"
           if en_months else "")
        + f"|(?P<m>{month})(?:,?\\s+(?:of\\s+)?(?P<y>{year}))?"
        f"|(?P<nd>\\d\\d?)(?P<sep>[./])(?P<nm>\\d\\d?)(?P=sep)(?P<ny>\\d{{4}}|\\d\\d)"
        f"(?![\\d.,/]\\d|\\d){year_word}"
        r"|(?P<iy>(?:19|20)\d\d)-(?P<im>\d\d)-(?P<id>\d\d)(?![\d.,/]\d|\d)"
        f"|(?P<s>{_alternation(list(seasons))})(?:\\s+(?:of\\s+)?(?P<sy>{year}))?"
        f"|(?P<yy>(?:19|20)\\d\\d(?!\\d))(?P<yw>{year_word})"
        r")(?!\w)"
    )
    day_range = (
        f"{start}{pre('pre')}(?P<d1>{day}){conn('conn')}(?P<d2>{day})\\s*(?:of\\s+)?"
        f"(?P<m>{month})(?:,?\\s+(?P<y>{year}))?"
        + (f"|{start}{pre('pre2')}(?P<em>{month})\\s+(?P<e1>{day})"
           f"{conn('conn2')}(?P<e2>{day})(?:,?\\s+(?P<ey>{year}))?"
           if en_months else "")
        + r"(?!\w)"
    )
    relative = (f"(?=\\w)(?<!\\w)(?:{_alternation(list(relatives))})(?!\\w)"
                .replace("'", "['’ʼ`]"))
    said = _alternation(list(numbers)).replace("'", "['’ʼ`]")
    counted = (f"(?=\\w)(?<![\\w.,])(?:(?P<n>\\d{{1,3}}|{said})\\s+)?"
               f"(?P<u>{_alternation(list(units))})\\s+(?:{_alternation(agos)})(?!\\w)")
    return Grammar(
        point=re.compile(point, re.IGNORECASE),
        day_range=re.compile(day_range, re.IGNORECASE),
        relative=re.compile(relative, re.IGNORECASE),
        counted=re.compile(counted, re.IGNORECASE), numbers=numbers, units=units,
        month=re.compile(f"(?=\\w)(?<!\\w){month}(?!\\w)", re.IGNORECASE),
        months=months, seasons=seasons, prepositions=preps, modifiers=mods,
        relatives=relatives, connectors=frozenset(connectors) - _AND_WORDS,
    )


def _year(text: str | None) -> int | None:
    return int(text[:4]) if text else None


def _day(text: str) -> int:
    return int(re.match(r"\d+", text).group())  # type: ignore[union-attr]


def _point(g: Grammar, m: re.Match[str]) -> Point | None:
    months = g.months
    if m["mod"]:
        return Point(_year(m["my"]), months[_fold(m["mm"]).rstrip(".")], None,
                     g.modifiers[_fold(m["mod"])])
    if m["d"]:
        return Point(_year(m["dy"]), months[_fold(m["dm"]).rstrip(".")], _day(m["d"]), "day")
    if m.groupdict().get("em"):
        return Point(_year(m["ey"]), months[_fold(m["em"]).rstrip(".")], _day(m["ed"]), "day")
    if m["m"]:
        return Point(_year(m["y"]), months[_fold(m["m"]).rstrip(".")], None, "month")
    if m["nd"]:
        y = int(m["ny"])
        y = y if y >= 100 else (2000 + y if y < 70 else 1900 + y)
        return Point(y, int(m["nm"]), int(m["nd"]), "day")
    if m["iy"]:
        return Point(int(m["iy"]), int(m["im"]), int(m["id"]), "day")
    if m["s"]:
        word = _fold(m["s"])
        if not (m["sy"] or m["pre"] or word in _SEASON_ADVERBS):
            return None
        season = g.seasons[word]
        return Point(_year(m["sy"]), SEASON_MONTHS[season], None, season)
    if m["yy"] and (m["yw"] or m["pre"]):
        return Point(int(m["yy"]), None, None, "year")
    return None


def find_points(g: Grammar, text: str) -> list[Found]:
    """Single dates, «з лютого» and «до кінця червня» (since/until: one open end)."""
    out = []
    for m in g.point.finditer(text):
        point = _point(g, m)
        if point is None:
            continue
        pre = g.prepositions.get(_fold(m["pre"] or ""), "")
        kind = pre if pre in ("since", "until") else "point"
        if m["m"] and not (m["y"] or pre):
            kind = "bare"  # «лютий» is also an adjective: only the start of a range counts
        out.append(Found(m.start(), m.end(), kind, point, point, pre))
    return out


def find_day_ranges(g: Grammar, text: str) -> list[Found]:
    """«з 1 по 15 березня», "1-15 March 2022", "June 1–15": one month, two days."""
    out = []
    for m in g.day_range.finditer(text):
        groups = m.groupdict()
        english = bool(groups.get("em"))
        first, last = (m["e1"], m["e2"]) if english else (m["d1"], m["d2"])
        month = g.months[_fold(m["em"] if english else m["m"]).rstrip(".")]
        year = _year(m["ey"] if english else m["y"])
        conn = _fold((groups.get("conn2") if english else m["conn"]) or "")
        pre = g.prepositions.get(_fold((groups.get("pre2") if english else m["pre"]) or ""), "")
        if conn in _AND_WORDS and pre != "between":
            # «5 і 7 березня», "June 5 and 7" name two days, not the days between: the
            # first runs to its number ("June 5"), the second from its number on.
            one_end = m.end("e1") if english else m.end("d1")
            two_start = m.start("e2") if english else m.start("d2")
            one = Point(year, month, _day(first), "day")
            two = Point(year, month, _day(last), "day")
            out.append(Found(m.start(), one_end, "point", one, one, pre))
            out.append(Found(two_start, m.end(), "point", two, two, pre))
            continue
        out.append(Found(m.start(), m.end(), "range", Point(year, month, _day(first), "day"),
                         Point(year, month, _day(last), "day"), pre))
    return out


def find_relative(g: Grammar, text: str) -> list[Found]:
    """«позавчора», "last week", «в прошлом году»: counted back from the anchor."""
    out = []
    for m in g.relative.finditer(text):
        back = g.relatives[_fold(m.group()).translate(_APOSTROPHES)]
        out.append(Found(m.start(), m.end(), "relative", None, None, back=back))
    for m in g.counted.finditer(text):
        if m["n"] is None and _fold(m["u"]) not in _SINGULAR_UNITS:
            continue  # «п'ятнадцять днів тому»: a number past ten is dateparser's to read
        number = m["n"] or "1"  # «тиждень тому»
        count = int(number) if number.isdigit() else g.numbers[
            _fold(number).translate(_APOSTROPHES)]
        out.append(Found(m.start(), m.end(), "relative", None, None,
                         back=(g.units[_fold(m["u"])], count)))
    return out


def joinable(g: Grammar, a: Found, b: Found, gap: str) -> bool:
    """Whether «з 1 березня» + «по 15 квітня 2022» (or "1 March – 15 April") is one range."""
    if a.kind not in ("point", "since", "bare") or b.kind not in ("point", "until"):
        return False
    word = _fold(gap)
    if b.kind == "until":
        return word == ""
    if word in _AND_WORDS:
        return a.pre == "between"
    return word in ("-", "–", "—") or word in g.connectors
