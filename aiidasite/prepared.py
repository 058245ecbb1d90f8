"""Lookups by one value whose SQL is compiled once per database connection.

Building a queryset and compiling it to SQL costs Django several hundred
microseconds, many times what the database then takes to find one row by an
indexed column. A detail page, an admin change form and ``node show`` each
look one object up, so :class:`PreparedLookup` compiles the statement the
first time a connection needs it and afterwards only binds the new value,
runs the statement and builds the object the way Django's ``ModelIterable``
does (same converters, same ``select_related`` objects; what ``from_db``
makes, see :mod:`aiidasite.instances`).

PostgreSQL would still parse and plan the statement on every call, which
costs more than running it: there it is also prepared (``PREPARE``) once per
database session and run with ``EXECUTE``. SQLite's driver keeps its own
cache of prepared statements.
"""

from __future__ import annotations

import itertools
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

from aiidasite import instances

# A value no lookup is ever asked for: it marks where the real one is bound.
_PLACEHOLDER = -7_301_942_615_398_271
# The attribute of a Django connection holding its lookups' statements.
_KEPT = "_aiidasite_prepared_lookups"
# Names of the statements prepared on PostgreSQL sessions, one per lookup.
_NAMES = itertools.count(1)
# Runs of a lookup on one PostgreSQL session before it is prepared afresh.
# After its fifth run a prepared statement keeps one generic plan, made for
# the tables as they were then, until their statistics change (ANALYZE,
# autovacuum). Made on a table of a few rows that plan reads the table whole,
# and a table that grows meanwhile is still read whole on every run: 20,000
# settings written one by one, then read, took 1.3 ms a read instead of
# 0.03 ms. Prepared afresh, the statement is planned for the tables as they
# are now (the planner counts a table's pages, stale statistics or not): a
# table grown since is read by its index after at most this many runs. A new
# plan costs a round trip and five planned runs, 0.4 ms for the node read by
# pk: under 0.5 us a run at this interval, where planning every run (the
# setting plan_cache_mode = force_custom_plan) costs 70 us a run.
REPLAN_EVERY = 1_000


def numbered(sql: str) -> str:
    """Django's ``%s`` placeholders as PostgreSQL's ``$1, $2, ...``, and its
    ``%%`` as the ``%`` the database is to see (for ``PREPARE``)."""
    numbers = itertools.count(1)
    return re.sub(
        r"%[s%]",
        lambda match: "%" if match[0] == "%%" else f"${next(numbers)}",
        sql,
    )


@dataclass(frozen=True)
class _Statement:
    sql: str
    driver_sql: str
    params: tuple[Any, ...]
    slot: int
    # (column, its converters, its expression): Django's converters, applied
    # without the generator ``SQLCompiler.apply_converters`` builds per row.
    converters: tuple[tuple[int, tuple[Any, ...], Any], ...]
    make: instances.Maker
    fields: slice
    related: tuple[instances.Related, ...]


class PreparedLookup:
    """``build(value)`` is a queryset selecting at most one row by ``value``.

    ``build`` is called once per connection with a placeholder; it must use
    its argument as a bound parameter (``filter(pk=value)``), never in the
    SQL text. A text column takes a text value: ``placeholder`` says which.
    """

    def __init__(self, build: Callable[[Any], QuerySet], *, text: bool = False) -> None:
        self.build = build
        self.placeholder: Any = str(_PLACEHOLDER) if text else _PLACEHOLDER
        self.name = f"aiidasite_lookup_{next(_NAMES)}"
        # The driver's connections (database sessions) it is prepared on, with
        # the runs left on each before it is prepared afresh: a reconnection
        # under the same Django connection prepares it again.
        self._sessions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _statement(self, connection: Any, using: str) -> _Statement:
        # Kept on the connection itself: a statement's converters hold the
        # connection, so a weak map from connections to statements would
        # keep every thread's connection alive (and its database handle
        # open) after the thread ended. On the connection they form a
        # cycle the collector frees with it.
        kept = connection.__dict__.setdefault(_KEPT, {})
        statement = kept.get(self.name)
        if statement is None:
            query = self.build(self.placeholder).using(using).query
            compiler = query.get_compiler(using=using)
            sql, params = compiler.as_sql()
            klass_info = compiler.klass_info
            start, *_, last = klass_info["select_fields"]
            statement = _Statement(
                sql=sql,
                # SQLite's own placeholders, so each run skips Django's rewrite
                # of them (a regular expression per statement).
                driver_sql=sql.replace("%s", "?").replace("%%", "%"),
                params=tuple(params),
                slot=params.index(self.placeholder),
                converters=tuple(
                    (column, tuple(converters), expression)
                    for column, (converters, expression) in compiler.get_converters(
                        [column for column, *_ in compiler.select]
                    ).items()
                ),
                make=instances.Maker(
                    klass_info["model"],
                    [
                        column.target.attname
                        for column, *_ in compiler.select[start : last + 1]
                    ],
                ),
                fields=slice(start, last + 1),
                related=instances.related(
                    get_related_populators(klass_info, compiler.select, using)
                ),
            )
            kept[self.name] = statement
        return statement

    def get(self, value: Any, *, using: str = DEFAULT_DB_ALIAS) -> Model | None:
        """The one object ``value`` selects, or None."""
        connection = connections[using]
        statement = self._statement(connection, using)
        params = list(statement.params)
        params[statement.slot] = value
        if connection.vendor == "sqlite" and not connection.force_debug_cursor:
            # The driver runs it directly: no cursor wrapper to build and
            # close for one row. Counted queries (tests' budgets) and other
            # databases go through Django's cursor as usual.
            connection.ensure_connection()
            with connection.wrap_database_errors:
                row = connection.connection.execute(
                    statement.driver_sql, params
                ).fetchone()
        else:
            sql = statement.sql
            if connection.vendor == "postgresql":
                sql = self._prepared(statement, connection)
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                row = cursor.fetchone()
        if row is None:
            return None
        return self._build(statement, row, connection, using)

    def _prepared(self, statement: _Statement, connection: Any) -> str:
        """``EXECUTE`` of the statement, prepared on this session if new and
        prepared afresh every :data:`REPLAN_EVERY` runs.

        The ``PREPARE`` goes through the driver's cursor: counted queries
        (tests' budgets) see one query per lookup, however many sessions.
        Prepared statements outlive a rolled-back transaction; they go with
        the session. If preparing afresh fails (a transaction already
        aborted), neither the ``DEALLOCATE`` nor the ``PREPARE`` took place
        and the next run tries again.
        """
        connection.ensure_connection()
        session = connection.connection
        # A one-item list: runs left before the statement is prepared afresh,
        # counted down in place (a weak dictionary's assignment costs more).
        left = self._sessions.get(session)
        if left is None or not left[0]:
            sql = f"PREPARE {self.name} AS {numbered(statement.sql)}"
            if left is not None:
                sql = f"DEALLOCATE {self.name}; {sql}"
            with connection.wrap_database_errors, session.cursor() as cursor:
                cursor.execute(sql)
            left = self._sessions[session] = [REPLAN_EVERY]
        left[0] -= 1
        marks = ", ".join(["%s"] * len(statement.params))
        return f"EXECUTE {self.name}({marks})"

    def _build(
        self, statement: _Statement, row: tuple[Any, ...], connection: Any, using: str
    ) -> Model:
        if statement.converters:
            row = list(row)
            for column, converters, expression in statement.converters:
                value = row[column]
                for converter in converters:
                    value = converter(value, expression, connection)
                row[column] = value
        obj = statement.make(row[statement.fields], using)
        instances.populate(statement.related, row, obj)
        return obj
