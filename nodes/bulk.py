"""Set-based SQL over the node, link and membership tables.

What the services use when they touch many rows at once: multi-row INSERTs,
lookups and deletes by chunks of primary keys, and the breadth-first walk
that deletion follows. Chunks stay under the database's limit on bound
parameters (SQLite's is 32766 on current builds, 999 on old ones).
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from django.db import connection, models

from aiidasite.exceptions import NotExistent
from nodes.links import Link
from nodes.models import DbGroup, DbLink, DbNode, DbNodeObject
from repository import iter_keys

NODE_TABLE = DbNode._meta.db_table
LINK_TABLE = DbLink._meta.db_table
MEMBER_TABLE = DbGroup.dbnodes.through._meta.db_table
OBJECT_TABLE = DbNodeObject._meta.db_table
LINK_COLUMNS = ("input_id", "output_id", "label", "type")
NODE_COLUMNS = (
    "uuid",
    "node_type",
    "process_type",
    "label",
    "description",
    "ctime",
    "mtime",
    "user_id",
    "attributes",
    "extras",
    "repository_metadata",
)
# PostgreSQL takes up to 65535 parameters; statements this size already
# amortise the round trip.
POSTGRES_PARAMS = 20_000
# The largest IN (...) list worth sending; longer lists gain nothing.
MAX_IN = 5_000


@contextlib.contextmanager
def cursor() -> Iterator[Any]:
    """A cursor for statements with thousands of bound parameters.

    Under DEBUG, Django's cursor renders every parameter into its query log,
    which costs more than running the statement; the driver's cursor beneath
    it runs the same SQL without the log. Where queries are being counted
    (``connection.force_debug_cursor``: tests, query budgets) Django's cursor
    is kept so every statement is seen.
    """
    with connection.cursor() as wrapper:
        if connection.force_debug_cursor:
            yield wrapper
        else:
            # Django's own error classes, as its cursor would raise them.
            with connection.wrap_database_errors:
                if connection.vendor == "sqlite":
                    yield QmarkCursor(wrapper.cursor)
                else:
                    yield wrapper.cursor


class QmarkCursor:
    """SQLite's own cursor, taking the ``%s`` placeholders of the SQL here.

    Django's SQLite cursor rewrites them with a regular expression, which on
    a statement with thousands of them costs about a tenth of running it.
    The statements of this module carry no literal ``%``, so a plain replace
    does the same rewrite.
    """

    def __init__(self, wrapped: sqlite3.Cursor) -> None:
        self._cursor = wrapped

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return sqlite3.Cursor.execute(self._cursor, sql.replace("%s", "?"), params)

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()


def time_adapter() -> Callable[[datetime.datetime], Any]:
    """A function from an aware datetime to the value this database's time
    columns take: the datetime itself on PostgreSQL; on SQLite the text
    Django writes, ``str`` of the naive UTC time.

    Django's ``connection.ops.adapt_datetimefield_value`` gives the same, but
    each call looks the connection and its settings up again, which costs
    more than inserting the row: take one adapter per batch of rows.
    """
    if connection.vendor != "sqlite" or connection.timezone is not datetime.UTC:
        return connection.ops.adapt_datetimefield_value
    return _utc_text


def _utc_text(value: datetime.datetime) -> str:
    # astimezone returns a UTC time itself; "+00:00" is the last six characters.
    return str(value.astimezone(datetime.UTC))[:-6]


def new_uuids(count: int) -> list[str]:
    """``count`` random (version 4) UUIDs as 32 hex digits."""
    raw = bytearray(os.urandom(16 * count))
    found = []
    for start in range(0, 16 * count, 16):
        raw[start + 6] = (raw[start + 6] & 0x0F) | 0x40
        raw[start + 8] = (raw[start + 8] & 0x3F) | 0x80
        found.append(raw[start : start + 16].hex())
    return found


def max_params() -> int:
    """How many bound parameters one statement may carry here."""
    if connection.vendor != "sqlite":
        return POSTGRES_PARAMS
    connection.ensure_connection()
    try:
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except AttributeError:  # Python < 3.11 cannot ask
        return 999


def chunk_size(per_item: int = 1, reserved: int = 10) -> int:
    return max(1, min(MAX_IN, (max_params() - reserved) // per_item))


def chunked(items: Iterable[Any], size: int | None = None) -> Iterator[list[Any]]:
    size = size or chunk_size()
    # Slicing a list costs far less than appending item by item.
    items = items if isinstance(items, list) else list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def marks(count: int) -> str:
    return ", ".join(["%s"] * count)


def matching(
    values: Iterable[Any], sql_type: str = "bigint"
) -> Iterator[tuple[str, list[Any]]]:
    """``(condition, params)`` pairs that together match ``values``: written
    after a column, ``f"{column} {condition}"``.

    PostgreSQL takes them all in one ``= ANY(%s)`` array of ``sql_type`` (the
    column's type): one statement instead of one per chunk, which also runs
    statement-level triggers once. The array goes as one text literal: the
    driver would send a list as ``ARRAY[1, 2, ...]``, one expression per
    element for the server to parse and plan (a tenth of a second per
    100,000). The cast matters too: an ``integer[]`` against a ``bigint``
    column is searched element by element for every row a plan filters
    (seconds for 25,000 pks where planner statistics are missing); an array
    of the column's own type is hashed once.
    SQLite has no arrays and gets ``IN`` lists of :func:`chunked` size.
    """
    values = values if isinstance(values, list) else list(values)
    if connection.vendor == "postgresql":
        if values:
            yield f"= ANY(%s::{sql_type}[])", [array_literal(values)]
        return
    for chunk in chunked(values):
        yield f"IN ({marks(len(chunk))})", chunk


def array_literal(values: Sequence[Any]) -> str:
    """PostgreSQL's text form of an array of ``values`` (ints or text):
    ``{1,2}``, ``{"a","b \\"c\\""}``."""
    if all(type(value) is int for value in values):
        return "{" + ",".join(map(str, values)) + "}"
    quoted = (
        '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
        for value in values
    )
    return "{" + ",".join(quoted) + "}"


def insert_rows(
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """INSERT ``rows`` with multi-row VALUES; the ``returning`` columns of
    every inserted row (in no promised order)."""
    if connection.vendor == "postgresql" and not returning:
        _copy_rows(table, columns, rows)
        return []
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(table)} ({', '.join(map(quote, columns))}) VALUES "
    tail = f" RETURNING {', '.join(map(quote, returning))}" if returning else ""
    one = f"({marks(len(columns))})"
    found: list[tuple[Any, ...]] = []
    with cursor() as statement:
        for batch in chunked(rows, chunk_size(len(columns))):
            params = [value for row in batch for value in row]
            statement.execute(head + ", ".join([one] * len(batch)) + tail, params)
            if returning:
                found.extend(statement.fetchall())
    return found


def insert_nodes(
    rows: Sequence[Sequence[Any]], columns: Sequence[str] = NODE_COLUMNS
) -> list[int]:
    """INSERT node rows (``columns`` order: ``NODE_COLUMNS``, optionally with
    more such as ``dbcomputer_id``; uuid first as 32 hex digits); their new
    pks in the order of ``rows``."""
    tree = columns.index("repository_metadata")
    if connection.vendor == "postgresql":
        # Take the ids from the table's sequence, then COPY the rows with them:
        # PostgreSQL's fastest way in, and the order needs no matching.
        with cursor() as statement:
            statement.execute(
                f"SELECT nextval(pg_get_serial_sequence('{NODE_TABLE}', 'id')) "
                "FROM generate_series(1, %s)",
                [len(rows)],
            )
            pks = [row[0] for row in statement.fetchall()]
        _copy_rows(
            NODE_TABLE,
            ("id", *columns),
            [(pk, *row) for pk, row in zip(pks, rows, strict=True)],
        )
    else:
        # SQLite hands RETURNING rows back in no promised order: match by uuid.
        returned = insert_rows(NODE_TABLE, columns, rows, returning=("id", "uuid"))
        pk_of_uuid = {str(value).replace("-", ""): pk for pk, value in returned}
        pks = [pk_of_uuid[row[0]] for row in rows]
    insert_object_references((pk, row[tree]) for pk, row in zip(pks, rows, strict=True))
    return pks


def insert_object_references(trees: Iterable[tuple[int, Any]]) -> None:
    """Index the objects each ``(pk, repository_metadata)`` references; the
    tree may be JSON text or already decoded."""
    rows = [
        (pk, key)
        for pk, tree in trees
        if tree and tree != "{}"
        for key in set(iter_keys(_decoded(tree)))
    ]
    if rows:
        insert_rows(OBJECT_TABLE, ("node_id", "key"), rows)


def stored_uuids(table: str, uuids: list[str]) -> set[str]:
    """Those of ``uuids`` (32 hex digits) that ``table`` holds.

    Plain SQL: building a Django filter of thousands of UUIDs costs more
    than the lookup itself.
    """
    found: set[str] = set()
    with cursor() as statement:
        for chunk in chunked(uuids):
            statement.execute(
                f"SELECT uuid FROM {table} WHERE uuid IN ({marks(len(chunk))})",
                chunk,
            )
            # SQLite keeps 32 hex digits, PostgreSQL answers dashed text.
            found.update(str(row[0]).replace("-", "") for row in statement.fetchall())
    return found


def referenced_object_keys(keys: Iterable[str] | None = None) -> set[str]:
    """Those of ``keys`` (all, for ``None``) that some node still references."""
    sql = f"SELECT DISTINCT key FROM {OBJECT_TABLE}"
    found: set[str] = set()
    with cursor() as statement:
        if keys is None:
            statement.execute(sql)
            return {row[0] for row in statement.fetchall()}
        for condition, params in matching(set(keys), "text"):
            statement.execute(f"{sql} WHERE key {condition}", params)
            found.update(row[0] for row in statement.fetchall())
    return found


def _copy_text(value: Any) -> str:
    """``value`` in COPY's text format (NUL is refused before we get here)."""
    if value is None:
        return "\\N"
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return (
        text.replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


def _copy_rows(
    table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """COPY ``rows`` into ``table`` (PostgreSQL only)."""
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join([_copy_text(value) for value in row]))
        buffer.write("\n")
    buffer.seek(0)
    quote = connection.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(map(quote, columns))}) FROM STDIN"
    with connection.cursor() as wrapper, connection.wrap_database_errors:
        # COPY is the driver's own call; Django's cursor has no wrapper for it.
        wrapper.cursor.copy_expert(sql, buffer)
        if connection.force_debug_cursor or connection.queries_logged:
            connection.queries_log.append({"sql": sql, "time": "0.000"})


def node_types(pks: Iterable[int]) -> dict[int, str]:
    """``{pk: node_type}`` for those of ``pks`` that exist."""
    found: dict[int, str] = {}
    with cursor() as statement:
        for chunk in chunked(set(pks)):
            statement.execute(
                f"SELECT id, node_type FROM {NODE_TABLE} "
                f"WHERE id IN ({marks(len(chunk))})",
                chunk,
            )
            found.update(statement.fetchall())
    return found


def existing_node_types(pks: set[int]) -> dict[int, str]:
    """``{pk: node_type}`` of ``pks``.

    :raises NotExistent: naming (some of) the pks that do not exist.
    """
    # Beyond a bigint no row can match, and drivers refuse such numbers.
    found = node_types(pk for pk in pks if 0 < pk < 2**63)
    missing = sorted(pks - found.keys())
    if missing:
        shown = ", ".join(map(str, missing[:10]))
        raise NotExistent(f"no node with pk {shown}")
    return found


def sealed_processes(pks: Iterable[int]) -> set[int]:
    """Those of ``pks`` that are process nodes whose ``sealed`` attribute is
    true (aiida-core's ``Sealable.is_sealed``)."""
    found: set[int] = set()
    for chunk in chunked(set(pks)):
        found.update(
            DbNode.objects.filter(
                pk__in=chunk, node_type__startswith="process.", attributes__sealed=True
            ).values_list("pk", flat=True)
        )
    return found


def links_by_end(end: str, pks: Iterable[int], kinds: Sequence[str] = ()) -> list[Link]:
    """Links whose ``end`` (``input_id`` or ``output_id``) is one of ``pks``,
    of the given types (all types if none)."""
    found: list[Link] = []
    where_type = f" AND type IN ({marks(len(kinds))})" if kinds else ""
    with cursor() as statement:
        for chunk in chunked(set(pks), chunk_size(reserved=10 + len(kinds))):
            statement.execute(
                f"SELECT input_id, output_id, label, type FROM {LINK_TABLE} "
                f"WHERE {end} IN ({marks(len(chunk))}){where_type}",
                [*chunk, *kinds],
            )
            found.extend(Link(*row) for row in statement.fetchall())
    return found


def closure(
    start: set[int], forward: Sequence[str], backward: Sequence[str]
) -> set[int]:
    """Every node reached from ``start`` along links of the ``forward`` types
    (input to output) and ``backward`` types (output to input).

    Breadth-first over the frontier: per hop, one query per direction (per
    chunk on SQLite), never one per node.
    """
    steps = [
        (kinds, wanted, known)
        for kinds, wanted, known in (
            (forward, "output_id", "input_id"),
            (backward, "input_id", "output_id"),
        )
        if kinds
    ]
    # SQLite would probe the (end, type) index once per pk and type; probing
    # by pk alone and filtering the few links each node has is a third
    # faster. The unary plus is SQLite's way to say so.
    type_column = "+type" if connection.vendor == "sqlite" else "type"
    visited = set(start)
    frontier = set(start)
    with cursor() as statement:
        while frontier:
            found: set[int] = set()
            for kinds, wanted, known in steps:
                for condition, params in matching(frontier):
                    statement.execute(
                        f"SELECT {wanted} FROM {LINK_TABLE} WHERE {known} "
                        f"{condition} AND {type_column} IN ({marks(len(kinds))})",
                        [*params, *kinds],
                    )
                    found.update(row[0] for row in statement.fetchall())
            frontier = found - visited
            visited |= frontier
    return visited


def _decoded(value: Any) -> Any:
    # SQLite hands JSON back as text, psycopg2 as Python objects.
    return json.loads(value) if isinstance(value, str) else value


def dependent_tables() -> list[tuple[str, str, str]]:
    """``(table, column, what)`` of the rows other apps keep per node that go
    with it: those whose foreign key to the node cascades (comments, logs).

    Read from the models, so this module needs to know no other app; the
    links, object references and memberships are handled beside it.
    """
    handled = {LINK_TABLE, OBJECT_TABLE}
    return [
        (
            relation.related_model._meta.db_table,
            relation.field.column,
            str(relation.related_model._meta.verbose_name_plural),
        )
        for relation in DbNode._meta.related_objects
        if not relation.many_to_many
        and relation.on_delete is models.CASCADE
        and relation.related_model._meta.db_table not in handled
    ]


def count_dependents(pks: Iterable[int]) -> dict[str, int]:
    """How many rows of each :func:`dependent_tables` kind go with ``pks``:
    ``{"comments": 2, "log records": 5}``."""
    counts: dict[str, int] = {}
    with cursor() as statement:
        for table, column, what in dependent_tables():
            counts[what] = 0
            for chunk in chunked(sorted(set(pks))):
                statement.execute(
                    f"SELECT COUNT(*) FROM {table} "
                    f"WHERE {column} IN ({marks(len(chunk))})",
                    chunk,
                )
                counts[what] += statement.fetchall()[0][0]
    return counts


def delete_rows(pks: Sequence[int]) -> set[str]:
    """Delete these nodes with their object references, links, group
    memberships and dependent rows (comments, logs); the keys of the objects
    they referenced."""
    keys: set[str] = set()
    # PostgreSQL's node delete trigger takes them in one join (nodes.0010).
    dependents = [] if connection.vendor == "postgresql" else dependent_tables()
    with cursor() as statement:
        for where, params in matching(pks):
            for table, column, _ in dependents:
                statement.execute(f"DELETE FROM {table} WHERE {column} {where}", params)
            # The references say which objects may now be orphans as they go.
            statement.execute(
                f"DELETE FROM {OBJECT_TABLE} WHERE node_id {where} RETURNING key",
                params,
            )
            keys.update(row[0] for row in statement.fetchall())
            for sql in (
                f"DELETE FROM {MEMBER_TABLE} WHERE dbnode_id {where}",
                f"DELETE FROM {LINK_TABLE} WHERE input_id {where}",
                f"DELETE FROM {LINK_TABLE} WHERE output_id {where}",
                f"DELETE FROM {NODE_TABLE} WHERE id {where}",
            ):
                statement.execute(sql, params)
    return keys
