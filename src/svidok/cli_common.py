"""What every ``svidok`` command shares: the data folder option, failing, opening."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from sqlalchemy.exc import SQLAlchemyError

from svidok.config import ConfigError
from svidok.custody.log import LogError
from svidok.db import DatabaseError
from svidok.home import Home, HomeError, open_home
from svidok.output import emit_json, err, safe

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_FIXITY = 3

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON only.")]


class Context:
    home_path: Path | None = None


CTX = Context()


def fail(message: str, as_json: bool = False, code: int = EXIT_FAILED) -> NoReturn:
    if as_json:
        emit_json({"error": message})
    err.print(safe(f"Error: {message}"), style="red")
    raise typer.Exit(code)


@contextmanager
def opened(as_json: bool = False) -> Iterator[Home]:
    try:
        home = open_home(CTX.home_path)
    except (HomeError, ConfigError, DatabaseError) as exc:
        fail(str(exc), as_json)
    try:
        yield home
    except (HomeError, DatabaseError, LogError) as exc:
        fail(str(exc), as_json)
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        fail(f"the database failed ({type(cause).__name__}: {str(cause).splitlines()[0]}); "
             "what was recorded before is kept; fix the cause and run the same command again",
             as_json)
    finally:
        home.dispose()
