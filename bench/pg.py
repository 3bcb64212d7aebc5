"""A throwaway PostgreSQL schema for one benchmark run (both benchmarks use it)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """A fresh schema, given as a database URL that selects it; dropped afterwards
    whatever happens."""
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    schema = f"svidok_bench_{secrets.token_hex(6)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except BaseException:
        admin.dispose()
        raise
    joiner = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{joiner}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
