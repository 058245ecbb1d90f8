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

PostgreSQL would still parse and plan the statement on every run, which for
a JSON path filter costs more than running it. There a statement run again
is prepared (``PREPARE``, its values written in, so the plan is made once)
on the database session and run with ``EXECUTE``; a session keeps at most
``PREPARED_PER_SESSION`` of them, the least recently run going first
(``DEALLOCATE``).
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from django.db import connections
from sqlalchemy import event
from sqlalchemy.engine import Dialect, Engine

__all__ = ["Sent", "fetched", "listen", "processed", "running"]

_noting = threading.local()
# Statements prepared at most on one PostgreSQL session.
PREPARED_PER_SESSION = 64
_NAMES = itertools.count(1)
# Per driver connection (database session): the names prepared on it, least
# recently run first. A connection is used by one thread at a time.
_prepared: weakref.WeakKeyDictionary[Any, OrderedDict[str, None]] = (
    weakref.WeakKeyDictionary()
)


class Sent:
    """What SQLAlchemy handed the driver for one statement, once it ran.

    ``sql`` is None until then; ``processors`` are kept per tuple of the
    driver's type codes of the result columns.
    """

    __slots__ = ("name", "params", "processors", "sql")

    def __init__(self) -> None:
        self.name = f"aiidasite_query_{next(_NAMES)}"
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
        session = wrapper.connection
        cursor = session.cursor()
        try:
            if wrapper.vendor == "postgresql":
                cursor.execute(_prepare(session, cursor, sent))
            else:
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


def _prepare(session: Any, cursor: Any, sent: Sent) -> str:
    """``EXECUTE`` of ``sent`` on the PostgreSQL ``session``, prepared first
    if the session has not got it."""
    names = _prepared.get(session)
    if names is None:
        names = _prepared[session] = OrderedDict()
    if sent.name in names:
        names.move_to_end(sent.name)
        return f"EXECUTE {sent.name}"
    # The driver writes the values in as it would have sent them.
    literal = cursor.mogrify(sent.sql, sent.params).decode()
    cursor.execute(f"PREPARE {sent.name} AS {literal}")
    names[sent.name] = None
    while len(names) > PREPARED_PER_SESSION:
        oldest, _ = names.popitem(last=False)
        cursor.execute(f"DEALLOCATE {oldest}")
    return f"EXECUTE {sent.name}"


def fetched(
    alias: str, engine: Engine, statement: sa.Executable, sent: Sent
) -> list[Any]:
    """Every row of ``statement``, run as :func:`running` runs it and
    converted as :func:`processed` converts them."""
    with running(alias, engine, statement, sent) as cursor:
        return processed(statement, engine.dialect, cursor, sent, cursor.fetchall())


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
