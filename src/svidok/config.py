"""Layered settings: built-in defaults < ``svidok.toml`` in the data folder < ``SVIDOK_*``.

Every key is declared here with its type; an unknown key in the file or a value that does
not parse is an error, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CONFIG_FILE = "svidok.toml"
DEFAULT_HOME = Path("svidok-data")
ENV_PREFIX = "SVIDOK_"

# A list of file paths. In the environment its entries are separated by os.pathsep, as in
# PATH, because paths may hold spaces and commas; other lists split on commas and whitespace.
PathList = tuple[str, ...]
_LIST_SEPARATORS = {"tuple[str, ...]": r"[\s,]+", "PathList": re.escape(os.pathsep)}


class ConfigError(Exception):
    """A setting is missing, unknown or malformed; the message says which and where."""


@dataclass(frozen=True)
class Settings:
    home: Path
    instance_name: str = ""
    # Empty means the SQLite file inside the data folder.
    database_url: str = ""
    # Threads that read, hash and write originals; I/O bound, so more than the cores.
    ingest_workers: int = 4
    # "threads", "processes" (one per core, up to ingest_workers) or "auto": processes
    # for large batches on machines with more than one core.
    ingest_pool: str = "auto"
    # Files recorded per transaction (and per pair of file-system syncs); smaller groups
    # record progress more often, larger ones go faster on slow disks.
    ingest_group_files: int = 256
    # Processes that run the enrichers (CPU bound); 0: one per core, at most four.
    enrich_workers: int = 0
    # Turning fsync off is only for throwaway benchmarks; originals are then not crash-safe.
    fsync: bool = True
    busy_timeout_ms: int = 30_000
    # RFC 3161 Time Stamp Authorities asked to timestamp each checkpoint. Empty: Svidok is
    # offline by default, so reaching a TSA is something the user opts in to.
    tsa_urls: tuple[str, ...] = ()
    tsa_timeout_seconds: int = 10
    # CA certificates (PEM) trusted to vouch for TSAs; relative to the data folder.
    tsa_roots: PathList = ()
    # The web map's tiles, e.g. "https://tile.example.org/{z}/{x}/{y}.png". Empty: only the
    # bundled base map, nothing fetched. A tile server learns which areas people look at.
    map_tile_url: str = ""
    map_tile_attribution: str = ""  # the credit the tile server asks for, as plain text
    # Web uploads (svidok.web.uploads): the bytes one upload may send (all its files
    # together), what its archives may unpack to, and whether its job then enriches.
    upload_max_bytes: int = 4 * 1024**3
    upload_unpack_max_bytes: int = 16 * 1024**3
    upload_enrich: bool = True

    @property
    def database_file(self) -> Path:
        return self.home / "svidok.sqlite3"

    @property
    def blobs_dir(self) -> Path:
        return self.home / "blobs"

    @property
    def config_file(self) -> Path:
        return self.home / CONFIG_FILE

    @property
    def tsa_root_files(self) -> tuple[Path, ...]:
        return tuple(self.home / Path(p).expanduser() for p in self.tsa_roots)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.database_file.resolve()}"


_FILE_KEYS = {f.name for f in fields(Settings)} - {"home"}


def _coerce(key: str, raw: Any, target: type | str, where: str) -> Any:
    kind = target if isinstance(target, str) else target.__name__
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in {"1", "true", "yes", "on"}:
            return True
        if isinstance(raw, str) and raw.strip().lower() in {"0", "false", "no", "off"}:
            return False
    elif kind == "int":
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str):
            try:
                return int(raw.strip())
            except ValueError:
                pass
    elif kind == "str" and isinstance(raw, str):
        return raw
    elif kind in _LIST_SEPARATORS:
        if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
            return tuple(raw)
        if isinstance(raw, str):
            return tuple(part for part in re.split(_LIST_SEPARATORS[kind], raw) if part)
        # A list is not echoed: one of its strings may be a URL with a password.
        got = "a list holding other values" if isinstance(raw, list) else repr(raw)
        raise ConfigError(f"{where}: '{key}' must be a list of strings, got {got}")
    raise ConfigError(f"{where}: '{key}' must be a {kind}, got {raw!r}")


def _http_url_problem(url: str) -> str | None:
    # Quoted without any user name and password: error messages end up in logs.
    shown = repr(re.sub(r"//[^/?#]*@", "//", url))
    if any(c.isspace() for c in url):
        return f"{shown} must not contain spaces"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        return f"{shown} is not a valid URL"
    if parts.username is not None or parts.password is not None:
        return f"{shown} holds a user name or password, which TSA URLs may not"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{shown} must be an http:// or https:// URL with a host"
    return None


def _tile_url_problem(url: str) -> str | None:
    """Why a tile URL template cannot be used, or None; empty means no tiles."""
    if not url:
        return None
    # It goes into the Content-Security-Policy, where ';', ',' and quotes would end it.
    if any(c.isspace() or c in "'\";,\\<>`" for c in url):
        return "must not contain spaces, quotes, ';', ',', '<', '>' or backslashes"
    shown = repr(re.sub(r"//[^/?#]*@", "//", url))
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        return f"{shown} is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return f"{shown} must be an http:// or https:// URL with a host and no password"
    if "{" in parts.netloc:
        return f"{shown} must name one host: no placeholders such as {{s}} in it"
    if re.sub(r"\{[zxyr]\}", "", url).count("{") or not all(
            f"{{{p}}}" in url for p in "zxy"):
        return f"{shown} must hold {{z}}, {{x}} and {{y}} (and may hold {{r}}), nothing else"
    return None


def _validate(values: dict[str, Any]) -> None:
    if not 1 <= values.get("ingest_workers", 1) <= 256:
        raise ConfigError("ingest_workers must be between 1 and 256")
    if values.get("ingest_pool", "auto") not in ("auto", "threads", "processes"):
        raise ConfigError("ingest_pool must be auto, threads or processes")
    if not 1 <= values.get("ingest_group_files", 1) <= 100_000:
        raise ConfigError("ingest_group_files must be between 1 and 100000")
    if not 0 <= values.get("enrich_workers", 0) <= 256:
        raise ConfigError("enrich_workers must be between 0 (one per core) and 256")
    if values.get("busy_timeout_ms", 0) < 0:
        raise ConfigError("busy_timeout_ms must not be negative")
    url = values.get("database_url", "")
    if url and not url.startswith(("sqlite", "postgresql")):
        raise ConfigError("database_url must be a sqlite:// or postgresql+psycopg:// URL")
    for number, tsa_url in enumerate(values.get("tsa_urls", ()), 1):
        problem = _http_url_problem(tsa_url)
        if problem:
            raise ConfigError(f"tsa_urls: entry {number} {problem}")
    if not 1 <= values.get("tsa_timeout_seconds", 1) <= 300:
        raise ConfigError("tsa_timeout_seconds must be between 1 and 300")
    if any(not path.strip() for path in values.get("tsa_roots", ())):
        raise ConfigError("tsa_roots must not hold empty paths")
    problem = _tile_url_problem(values.get("map_tile_url", ""))
    if problem:
        raise ConfigError(f"map_tile_url: {problem}")
    credit = values.get("map_tile_attribution", "")
    if len(credit) > 300 or not credit.isprintable():
        raise ConfigError("map_tile_attribution must be one line of at most 300 characters")
    for key in ("upload_max_bytes", "upload_unpack_max_bytes"):
        if values.get(key, 1) < 1:
            raise ConfigError(f"{key} must be at least 1 (bytes)")


def load_settings(home: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Resolve the data folder and merge the three layers of settings."""
    env = os.environ if environ is None else environ
    if home is None:
        home = Path(env[ENV_PREFIX + "HOME"]) if env.get(ENV_PREFIX + "HOME") else DEFAULT_HOME
    types = {f.name: f.type for f in fields(Settings)}
    values: dict[str, Any] = {}

    config_file = home / CONFIG_FILE
    if config_file.is_file():
        try:
            data = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{config_file}: not valid TOML ({exc})") from exc
        unknown = sorted(set(data) - _FILE_KEYS)
        if unknown:
            raise ConfigError(f"{config_file}: unknown setting(s) {', '.join(unknown)}")
        for key, raw in data.items():
            values[key] = _coerce(key, raw, types[key], str(config_file))

    for key in _FILE_KEYS:
        env_key = ENV_PREFIX + key.upper()
        if env_key in env:
            values[key] = _coerce(key, env[env_key], types[key], f"environment {env_key}")

    _validate(values)
    return replace(Settings(home=home), **values)
