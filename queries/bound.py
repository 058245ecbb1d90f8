"""Lists of values in SQL, whatever their length.

Every list a query compares with (``in``, pks, uuids) goes through
:func:`one_of`. On SQLite the whole list is one bound parameter, a JSON array
that ``json_each`` unpacks in the statement: SQLite builds before 3.32 allow
only 999 parameters per statement, and one parameter also spares SQLAlchemy
from rendering a placeholder per value. psycopg2 writes the values into the
statement on the client, where PostgreSQL's limit does not apply, so there
the list stays an ordinary expanding ``IN``. Raw SQL outside SQLAlchemy
chunks its lists with :func:`nodes.bulk.chunked` instead.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.elements import ColumnElement

__all__ = ["json_array", "one_of"]


@functools.cache
def _sqlite_dialect() -> sa.Dialect:
    return sqlite.dialect()


def json_array(values: Sequence[Any]) -> Any:
    """The rows ``(value, type)`` of ``values`` on SQLite, from one parameter."""
    return (
        sa.func.json_each(sa.literal(json.dumps(list(values)), sa.Text))
        .table_valued("value", "type")
        .alias()
    )


def one_of(column: Any, values: Sequence[Any], dialect: str) -> ColumnElement[bool]:
    """``column IN values``; false for no values.

    ``values`` are Python values of the column's type; on SQLite they are
    converted as the column's type would bind them (a uuid to hex, a datetime
    to text) before joining the one JSON parameter.
    """
    if not values:
        return sa.false()
    if dialect != "sqlite":
        return column.in_(list(values))
    process = column.type.bind_processor(_sqlite_dialect())
    if process is not None:
        values = [process(value) for value in values]
    return column.in_(sa.select(json_array(values).c.value))
