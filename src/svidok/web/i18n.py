"""The interface's language: gettext catalogues read from the package, chosen per user.

Catalogues are ``locale/<lang>/LC_MESSAGES/svidok.po``, read with Babel when the app
starts (no compiled ``.mo`` files to keep in step). English is the source language, so it
needs no catalogue; a message missing from a catalogue shows in English. Each request
renders with its viewer's own functions (passed in the template context, where Jinja's
i18n extension looks first), so two users in two languages never share state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from svidok.access import LANGUAGES

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "svidok"
LANGUAGE_NAMES = {"en": "English", "uk": "Українська"}


@dataclass(frozen=True)
class Translator:
    language: str
    gettext: Callable[[str], str]
    ngettext: Callable[[str, str, int], str]

    def context(self) -> dict[str, object]:
        """What a template needs: ``_``, ``gettext`` and ``ngettext``, in Jinja's new style
        (``_("%(n)s items", n=3)``; with autoescaping the values are escaped, the
        catalogue's own text is trusted), and ``term`` for words that come from the data
        (``term(item.state)``). ``_`` takes literal messages only: what it is given is
        trusted as markup."""
        plain, plural = self.gettext, self.ngettext

        @pass_context
        def gettext(context: Context, message: str, **variables: object) -> str:
            found: str = plain(message)
            if context.eval_ctx.autoescape:
                found = Markup(found)  # noqa: S704 -- our own catalogue
            return found % variables if variables else found

        @pass_context
        def ngettext(context: Context, singular: str, plural_: str, num: int, /,
                     **variables: object) -> str:
            # ``num=`` may be given too, to show the count formatted ("1,234").
            variables.setdefault("num", num)
            found: str = plural(singular, plural_, num)
            if context.eval_ctx.autoescape:
                found = Markup(found)  # noqa: S704 -- our own catalogue
            return found % variables

        def term(value: object) -> str:
            # A word from the data (a state, a kind, a role) named in svidok.web.terms:
            # translated when the catalogue has it, else shown as it is, escaped like any
            # other value (unlike a message, it is not trusted markup).
            return plain(str(value))

        return {"_": gettext, "gettext": gettext, "ngettext": ngettext, "term": term}


def N_(message: str) -> str:  # the name gettext tools look for
    """Marks a message for the catalogue where it is defined (a constant, an error), to be
    translated where it is shown."""
    return message


def accepted_language(header: str) -> str:
    """The language Svidok speaks that an Accept-Language header prefers most (English
    when it names none of them), for pages shown before anyone signs in."""
    best, best_q = "en", 0.0
    for part in header.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().split("-")[0].lower()
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if primary in LANGUAGES and quality > best_q:
            best, best_q = primary, quality
    return best


def _plural_index(language: str, n: int) -> int:
    if language == "uk":  # one, few, many: 1 / 2-4 / 5-20, by the last two digits
        if n % 10 == 1 and n % 100 != 11:
            return 0
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return 1
        return 2
    return 0 if n == 1 else 1


@cache
def catalogue(language: str) -> dict[str | tuple[str, str], str | tuple[str, ...]]:
    """Message id (or singular/plural pair) -> translation, empty ones left out."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == "en" or not path.is_file():
        return {}
    with path.open("rb") as handle:
        po = read_po(handle, locale=language)
    found: dict[str | tuple[str, str], str | tuple[str, ...]] = {}
    for message in po:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple | list):
            strings = tuple(str(s) for s in message.string or ())
            if strings and all(strings):
                found[(str(message.id[0]), str(message.id[1]))] = strings
        elif message.string:
            found[str(message.id)] = str(message.string)
    return found


@cache
def translator(language: str) -> Translator:
    """Plain functions for ``language`` (English for one Svidok does not speak); Python
    code such as flash messages uses these, templates get :meth:`Translator.context`."""
    if language not in LANGUAGES:
        language = "en"
    messages = catalogue(language)

    def gettext(message: str) -> str:
        found = messages.get(message)
        return found if isinstance(found, str) else message

    def ngettext(singular: str, plural: str, n: int) -> str:
        found = messages.get((singular, plural))
        if isinstance(found, tuple):
            index = _plural_index(language, n)
            if index < len(found):
                return found[index]
        return singular if n == 1 else plural

    return Translator(language, gettext, ngettext)
