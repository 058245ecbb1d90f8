"""Kept statements run again on the driver's cursor, as SQLAlchemy sent them.

A kept statement (:mod:`queries.statements`) holds its values: running it
again sends the same SQL text with the same parameters. SQLAlchemy's
execution pipeline (cache key, execution context, result metadata, a Row per
row) costs about as much as SQLite then takes to answer a small query. So the
first run goes through SQLAlchemy and what it handed the driver is noted in
the statement's :class:`Sent`; later runs hand the same to the driver's
cursor on the thread's Django connection, the one SQLAlchemy borrows too.
Rows come back through the same result processors SQLAlchemy would apply
(chosen by each column's type and the driver's type code), so the answers are
the same; every run reads the tables, so writes are seen as before.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from django.db import connections
from sqlalchemy import event
from sqlalchemy.engine import Dialect, Engine

__all__ = ["Sent", "listen", "processed", "running"]

_noting = threading.local()


class Sent:
    """What SQLAlchemy handed the driver for one statement, once it ran.

    ``sql`` is None until then; ``processors`` are kept per tuple of the
    driver's type codes of the result columns.
    """

    __slots__ = ("params", "processors", "sql")

    def __init__(self) -> None:
        self.sql: str | None = None
        self.params: Any = None
        self.processors: dict[tuple[Any, ...], list[tuple[int, Any]]] = {}


def _note(conn, cursor, statement, parameters, context, executemany) -> None:
    sent = getattr(_noting, "sent", None)
    if sent is not None and not executemany:
        # The parameters first: another thread may run it once sql is set.
        sent.params = parameters
        sent.sql = statement
        _noting.sent = None


def listen(engine: Engine) -> None:
    """Let :func:`execute` see what ``engine`` hands the driver."""
    event.listen(engine, "before_cursor_execute", _note)


@contextlib.contextmanager
def running(
    alias: str, engine: Engine, statement: sa.Executable, sent: Sent
) -> Iterator[Any]:
    """The driver's cursor holding the rows of ``statement``, run on the
    thread's connection of ``alias``; closed after the block.

    Errors are the driver's (on the first run: SQLAlchemy's ``DBAPIError``).
    """
    if sent.sql is not None:
        wrapper = connections[alias]
        wrapper.ensure_connection()
        cursor = wrapper.connection.cursor()
        try:
            cursor.execute(sent.sql, sent.params)
            yield cursor
        finally:
            cursor.close()
        return
    with engine.connect() as connection:
        _noting.sent = sent
        try:
            result = connection.execute(statement)
        finally:
            _noting.sent = None
        try:
            yield result.cursor
        finally:
            result.close()


def processed(
    statement: sa.Select, dialect: Dialect, cursor: Any, sent: Sent, rows: list[Any]
) -> list[Any]:
    """``rows`` read from ``cursor`` with the values converted as SQLAlchemy
    converts the selected columns of ``statement``."""
    codes = tuple(column[1] for column in cursor.description)
    processors = sent.processors.get(codes)
    if processors is None:
        processors = []
        for index, (column, code) in enumerate(
            zip(statement.selected_columns, codes, strict=True)
        ):
            process = column.type.dialect_impl(dialect).result_processor(dialect, code)
            if process is not None:
                processors.append((index, process))
        sent.processors[codes] = processors
    if not processors:
        return rows
    converted = []
    for row in rows:
        row = list(row)
        for index, process in processors:
            row[index] = process(row[index])
        converted.append(row)
    return converted
