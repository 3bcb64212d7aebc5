"""Keep the web interface's translations current: extract every message of the templates
and the web modules into ``svidok.pot``, merge it into each language's ``svidok.po``.

    .venv/bin/python scripts/update_catalogue.py           # or: make messages
    .venv/bin/python scripts/update_catalogue.py --check   # exit 1 if anything is to do

Messages are the English text in ``_("...")``, ``ngettext(...)`` and ``N_("...")``.
New messages arrive untranslated (never guessed from similar ones: no fuzzy entries);
messages no longer used are dropped. Catalogues are written sorted, without source
locations, so a change to a template changes the catalogue only where its text changed.
Then translate the empty ``msgstr`` entries; tests/web/test_language.py names any left.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

WEB = Path(__file__).resolve().parent.parent / "src" / "svidok" / "web"
LOCALE = WEB / "locale"
DOMAIN = "svidok"
METHODS = [("templates/**.html", "jinja2.ext:babel_extract"), ("*.py", "python")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
HEADERS = {
    "uk": ("# Ukrainian translation of the Svidok web interface.\n"
           "# Kept by scripts/update_catalogue.py (make messages): sorted, no fuzzy entries.\n"
           'msgid ""\nmsgstr ""\n'
           '"Project-Id-Version: svidok\\n"\n"Language: uk\\n"\n"MIME-Version: 1.0\\n"\n'
           '"Content-Type: text/plain; charset=UTF-8\\n"\n'
           '"Content-Transfer-Encoding: 8bit\\n"\n'
           '"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && '
           'n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\\n"\n\n'),
}
TEMPLATE_HEADER = ("# Messages of the Svidok web interface, extracted by "
                   "scripts/update_catalogue.py.\n"
                   'msgid ""\nmsgstr ""\n"Project-Id-Version: svidok\\n"\n'
                   '"Content-Type: text/plain; charset=UTF-8\\n"\n\n')


def extract() -> Catalog:
    """Every message of the web interface, with no locations."""
    template = Catalog(project="svidok", fuzzy=False)
    for _file, _line, message, comments, context in extract_from_dir(
            WEB, METHODS, keywords=KEYWORDS,
            options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}}):
        template.add(message, None, auto_comments=comments, context=context)
    return template


def render(catalogue: Catalog, header: str) -> str:
    out = io.BytesIO()
    write_po(out, catalogue, omit_header=True, no_location=True, sort_output=True,
             ignore_obsolete=True, width=100)
    return header + out.getvalue().decode("utf-8").lstrip("\n")


def merged(template: Catalog, language: str) -> tuple[str, list[str]]:
    """The language's catalogue with the template's messages; the untranslated ids."""
    path = LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    catalogue.update(template, no_fuzzy_matching=True, update_header_comment=False)
    for message in catalogue:
        message.flags.discard("fuzzy")
    missing = [str(m.id) for m in catalogue if m.id and not _translated(m.string)]
    return render(catalogue, HEADERS[language]), missing


def _translated(string: object) -> bool:
    if isinstance(string, tuple | list):
        return bool(string) and all(string)
    return bool(string)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if the catalogues are not current")
    args = parser.parse_args()
    template = extract()
    status = 0
    files = {LOCALE / f"{DOMAIN}.pot": render(template, TEMPLATE_HEADER)}
    for language in HEADERS:
        text, missing = merged(template, language)
        files[LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.po"] = text
        for message in missing:
            print(f"{language}: not translated: {message!r}")
        if args.check and missing:
            status = 1
    for path, text in files.items():
        current = path.read_text("utf-8") if path.is_file() else None
        if current == text:
            continue
        if args.check:
            print(f"{path.relative_to(WEB.parent.parent.parent)} is not current: "
                  "run make messages")
            status = 1
        else:
            path.write_text(text, "utf-8")
            print(f"wrote {path.relative_to(WEB.parent.parent.parent)}")
    print(f"{len(template)} messages")
    return status


if __name__ == "__main__":
    sys.exit(main())
