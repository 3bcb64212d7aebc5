"""Layered settings: built-in defaults < ``svidok.toml`` in the data folder < ``SVIDOK_*``.

Every key is declared here with its type; an unknown key in the file or a value that does
not parse is an error, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

CONFIG_FILE = "svidok.toml"
DEFAULT_HOME = Path("svidok-data")
ENV_PREFIX = "SVIDOK_"


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
    # Turning fsync off is only for throwaway benchmarks; originals are then not crash-safe.
    fsync: bool = True
    busy_timeout_ms: int = 30_000

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
    raise ConfigError(f"{where}: '{key}' must be a {kind}, got {raw!r}")


def _validate(values: dict[str, Any]) -> None:
    if not 1 <= values.get("ingest_workers", 1) <= 256:
        raise ConfigError("ingest_workers must be between 1 and 256")
    if values.get("ingest_pool", "auto") not in ("auto", "threads", "processes"):
        raise ConfigError("ingest_pool must be auto, threads or processes")
    if not 1 <= values.get("ingest_group_files", 1) <= 100_000:
        raise ConfigError("ingest_group_files must be between 1 and 100000")
    if values.get("busy_timeout_ms", 0) < 0:
        raise ConfigError("busy_timeout_ms must not be negative")
    url = values.get("database_url", "")
    if url and not url.startswith(("sqlite", "postgresql")):
        raise ConfigError("database_url must be a sqlite:// or postgresql+psycopg:// URL")


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
