"""Inserting and reading many rows at once without SQLAlchemy's per-row work.

The custody log appends 10**5 rows a second; building and processing a parameter dict per
row cost more than SQLite's own insert. The statement is still compiled by SQLAlchemy for
the connection's dialect and every value is a bound parameter.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, LargeBinary, Select, Table, func, insert, select, text


def bulk_insert(conn: Connection, table: Table, columns: Sequence[str],
                rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (values in the order of ``columns``) with one executemany."""
    if not rows:
        return
    compiled = insert(table).compile(dialect=conn.dialect, column_keys=list(columns))
    order = compiled.positiontup
    if order is not None:  # positional paramstyle (SQLite's qmark)
        at = [columns.index(name) for name in order]
        pick = operator.itemgetter(*at)  # in C: a generator per row cost a second per 10**6
        params: Sequence[Any] = rows if at == list(range(len(columns))) else [
            pick(row) if len(at) > 1 else (pick(row),) for row in rows]
    else:  # named paramstyle (psycopg's pyformat)
        params = [dict(zip(columns, row, strict=True)) for row in rows]
    conn.exec_driver_sql(str(compiled), params)


T = TypeVar("T")
_UNSET = object()


def bulk_insert_typed(conn: Connection, table: Table, columns: Sequence[str],
                      rows: Sequence[Sequence[Any]]) -> None:
    """As :func:`bulk_insert`, with each column's own conversion (aware datetimes to
    what the database stores), as SQLAlchemy would apply it, once per column."""
    # The dialect's own type: the generic DateTime would leave datetimes to the driver,
    # and SQLite would then store them in another format than SQLAlchemy does.
    # Bytes need no conversion: both drivers bind them as they are.
    dialect = conn.dialect
    processors = [None if isinstance(table.c[name].type, LargeBinary)
                  else table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                  for name in columns]
    active = [(i, proc) for i, proc in enumerate(processors) if proc is not None]
    converted: list[tuple[Any, ...]] = []
    # Rows written together mostly share a value (the time they were recorded): each
    # column converts a value once while it repeats.
    last: list[tuple[Any, Any]] = [(_UNSET, None)] * len(active)
    for row in rows:
        values = list(row)
        for n, (i, proc) in enumerate(active):
            value = values[i]
            seen, done = last[n]
            if value is not seen:
                done = proc(value)
                last[n] = (value, done)
            values[i] = done
        converted.append(tuple(values))
    bulk_insert(conn, table, columns, converted)


def stream_rows(conn: Connection, statement: Select[Any],
                size: int = 4096) -> Iterator[Sequence[tuple[Any, ...]]]:
    """The rows of ``statement`` as plain tuples, ``size`` at a time.

    Reading through the driver's own cursor is twice as fast as through Row objects, which
    matters when checking ten million log entries. PostgreSQL gets a server-side cursor,
    so memory stays flat.
    """
    # IN lists expand into one parameter per value here, as SQLAlchemy does at execution.
    compiled = statement.compile(dialect=conn.dialect,
                                 compile_kwargs={"render_postcompile": True})
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


def reserve_ids(conn: Connection, table: Table, count: int) -> list[int]:
    """``count`` new primary keys for ``table``, to insert many rows without RETURNING.

    SQLAlchemy inserts row by row on SQLite when it must hand back each new id, which
    cost more than all the rest of importing a message. PostgreSQL takes them from the
    table's sequence. On SQLite the caller's transaction must already have written (so it
    holds the database's write lock): then no other writer can take the same ids.
    """
    if count <= 0:
        return []
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                 "FROM generate_series(1, :count)"), {"table": table.name, "count": count})
        return [int(r[0]) for r in rows]
    start = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return list(range(int(start) + 1, int(start) + 1 + count))


# Values per IN (...) list. Past a few thousand, SQLite without table statistics stopped
# probing the index value by value: 5,000 keys took 100 ms, 1,000 took under 1 ms.
IN_CHUNK = 1000


def chunks(values: Iterable[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    """``values`` in lists of at most ``size``, for IN (...) lists."""
    part: list[T] = []
    for value in values:
        part.append(value)
        if len(part) >= size:
            yield part
            part = []
    if part:
        yield part
