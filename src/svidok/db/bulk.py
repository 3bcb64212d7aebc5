"""Inserting and reading many rows at once without SQLAlchemy's per-row work.

The custody log appends 10**5 rows a second; building and processing a parameter dict per
row cost more than SQLite's own insert. The statement is still compiled by SQLAlchemy for
the connection's dialect and every value is a bound parameter.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Select, Table, insert


def bulk_insert(conn: Connection, table: Table, columns: Sequence[str],
                rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (values in the order of ``columns``) with one executemany."""
    if not rows:
        return
    compiled = insert(table).compile(dialect=conn.dialect, column_keys=list(columns))
    order = compiled.positiontup
    if order is not None:  # positional paramstyle (SQLite's qmark)
        at = [columns.index(name) for name in order]
        params: Sequence[Any] = rows if at == list(range(len(columns))) else [
            tuple(row[i] for i in at) for row in rows]
    else:  # named paramstyle (psycopg's pyformat)
        params = [dict(zip(columns, row, strict=True)) for row in rows]
    conn.exec_driver_sql(str(compiled), params)


def stream_rows(conn: Connection, statement: Select[Any],
                size: int = 4096) -> Iterator[Sequence[tuple[Any, ...]]]:
    """The rows of ``statement`` as plain tuples, ``size`` at a time.

    Reading through the driver's own cursor is twice as fast as through Row objects, which
    matters when checking ten million log entries. PostgreSQL gets a server-side cursor,
    so memory stays flat.
    """
    compiled = statement.compile(dialect=conn.dialect)
    params: Any = compiled.params
    if compiled.positiontup is not None:
        params = tuple(compiled.params[name] for name in compiled.positiontup)
    raw = conn.connection.dbapi_connection
    assert raw is not None
    if conn.dialect.name == "postgresql":
        cursor = raw.cursor(name=f"svidok_stream_{id(statement):x}")
    else:
        cursor = raw.cursor()
    try:
        cursor.execute(str(compiled), params)
        while part := cursor.fetchmany(size):
            yield part
    finally:
        cursor.close()
