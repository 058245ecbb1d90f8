"""How many nodes there are, of which types, created on which days.

Two aggregate statements, whatever the number of nodes: one groups by
``node_type``, one counts per day. Days are those of the site's time zone
(``TIME_ZONE``).

PostgreSQL converts each ``ctime`` with ``AT TIME ZONE``. SQLite knows no
time zones, and grouping a million computed keys is slow, so for all nodes it
counts the ``ctime`` index between the UTC instants where local days begin
(exact across DST changes; the first statement supplies the oldest and newest
``ctime``). For one user's nodes, whose rows must be read anyway, it groups
UTC text prefixes and folds those buckets into local days: the day in UTC,
else the hour, the minute or the second, the coarsest that divides every
offset the zone had while the graph's nodes were created (Caracas was at
-04:30 from 2007 to 2016, Amsterdam at +00:19:32 before 1937).

PostgreSQL reads ``db_dbnode_creation_count`` instead of the nodes: counts
per local day, type and user that triggers keep as nodes come and go
(migration ``queries.0001``), so ten million nodes cost what a few thousand
summary rows do. Its rows are deltas, folded together once enough pile up;
its days are those of the zone it names, and counted anew from the nodes
when the site's ``TIME_ZONE`` is another.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import json
from collections import Counter
from typing import Any

import sqlalchemy as sa
from django.db import connections, transaction
from django.utils import timezone
from sqlalchemy.dialects import sqlite

from queries import driver
from queries.session import get_engine
from queries.tables import get_tables

__all__ = ["creation_statistics"]

# PostgreSQL's trigger-kept counts (see migration queries.0001).
CREATION_COUNTS = sa.Table(
    "db_dbnode_creation_count",
    sa.MetaData(),
    sa.Column("day", sa.Date),
    sa.Column("node_type", sa.String),
    sa.Column("user_id", sa.Integer),
    sa.Column("count", sa.BigInteger),
    sa.Column("folded", sa.Boolean),
)
# Unfolded delta rows beyond which all are folded into one row per group.
FOLD_AFTER = 2_000


def _bucket_length(zone: datetime.tzinfo, first: str, last: str) -> int:
    """How many characters of Django's SQLite datetime text one bucket keeps,
    for nodes created from ``first`` to ``last`` (that text, UTC)."""
    offsets = set()
    moment, end = _from_sqlite(first), _from_sqlite(last)
    # Weekly samples: no zone kept an offset for less than a week.
    while True:
        offset = moment.astimezone(zone).utcoffset()
        offsets.add(int(offset.total_seconds()) if offset else 0)
        if moment > end:
            break
        moment = min(moment + datetime.timedelta(days=7), end + _ONE_SECOND)
    if offsets == {0}:
        return 10  # "YYYY-MM-DD": already the day
    for length, unit in ((13, 3600), (16, 60)):  # "YYYY-MM-DD HH", "... HH:MM"
        if all(offset % unit == 0 for offset in offsets):
            return length
    return 19  # "YYYY-MM-DD HH:MM:SS"


_ONE_SECOND = datetime.timedelta(seconds=1)
_BUCKET_PATTERNS = {13: "%Y-%m-%d %H", 16: "%Y-%m-%d %H:%M", 19: "%Y-%m-%d %H:%M:%S"}


def _local_day(bucket: str, zone: datetime.tzinfo) -> str:
    pattern = _BUCKET_PATTERNS[len(bucket)]
    moment = datetime.datetime.strptime(bucket, pattern).replace(tzinfo=datetime.UTC)
    return moment.astimezone(zone).date().isoformat()


def _day_starts(first: str, last: str, zone: datetime.tzinfo) -> list[tuple[str, str]]:
    """Each local day from the day of ``first`` to the day after ``last``, as
    ``(YYYY-MM-DD, UTC instant it begins in Django's SQLite text)``."""
    oldest = _from_sqlite(first).astimezone(zone).date()
    newest = _from_sqlite(last).astimezone(zone).date()
    starts = []
    midnight = datetime.time()
    # Wall time minus its offset is what astimezone(UTC) computes, without
    # building an aware datetime per day (a year of days costs milliseconds).
    for ordinal in range(oldest.toordinal(), newest.toordinal() + 2):
        day = datetime.date.fromordinal(ordinal)
        local = datetime.datetime.combine(day, midnight)
        offset = zone.utcoffset(local)
        iso = day.isoformat()
        if not offset:
            starts.append((iso, iso + " 00:00:00"))
        else:
            starts.append((iso, str(local - offset)))
    return starts


def _from_sqlite(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC)


@functools.cache
def _sqlite_type_counts() -> sa.Select:
    """(node_type, count, oldest ctime, newest ctime) rows, read from indexes.

    Hops from one type to the next through the ``node_type`` index and
    counts each type's index range: cheaper in SQLite than GROUP BY over
    every row. The oldest and newest ``ctime`` are two index lookups.
    """
    node = get_tables().node
    seed = sa.select(sa.func.min(node.c.node_type).label("node_type"))
    types = seed.cte("types", recursive=True)
    following = node.alias()
    next_type = (
        sa.select(sa.func.min(following.c.node_type))
        .where(following.c.node_type > types.c.node_type)
        .scalar_subquery()
    )
    types = types.union_all(sa.select(next_type).where(types.c.node_type.is_not(None)))
    counted = node.alias()
    count = (
        sa.select(sa.func.count())
        .where(counted.c.node_type == types.c.node_type)
        .scalar_subquery()
    )
    ctime = sa.type_coerce(node.c.ctime, sa.String)
    return sa.select(
        types.c.node_type,
        count,
        sa.select(sa.func.min(ctime)).scalar_subquery(),
        sa.select(sa.func.max(ctime)).scalar_subquery(),
    ).where(types.c.node_type.is_not(None))


@functools.cache
def _sqlite_days_statement() -> sa.Select:
    """(index, count) of each ``[begin, end)`` pair of the JSON list bound
    as ``bounds``: the nodes created in each, counted on the ``ctime`` index."""
    node = get_tables().node
    day = sa.func.json_each(sa.bindparam("bounds", type_=sa.String))
    day = day.table_valued("key", "value").alias()
    begin = sa.func.json_extract(day.c.value, sa.literal_column("'$[0]'"))
    end = sa.func.json_extract(day.c.value, sa.literal_column("'$[1]'"))
    count = (
        sa.select(sa.func.count())
        .where(node.c.ctime >= begin, node.c.ctime < end)
        .scalar_subquery()
    )
    return sa.select(day.c.key, count).select_from(day)


@functools.cache
def _sqlite_days_sql() -> str:
    """:func:`_sqlite_days_statement` as SQLite's SQL: its one ``?`` is the
    bounds. Run on the driver, it skips SQLAlchemy's pipeline per call."""
    return str(_sqlite_days_statement().compile(dialect=sqlite.dialect()))


def _sqlite_day_counts(
    alias: str, first: str, last: str, zone: datetime.tzinfo
) -> dict[str, int]:
    starts = _day_starts(first, last, zone)
    bounds = json.dumps([[a[1], b[1]] for a, b in itertools.pairwise(starts)])
    wrapper = connections[alias]
    wrapper.ensure_connection()
    with wrapper.wrap_database_errors:
        rows = wrapper.connection.execute(_sqlite_days_sql(), (bounds,)).fetchall()
    return {starts[index][0]: n for index, n in rows if n}


def creation_statistics(
    *, alias: str = "default", user_pk: int | None = None
) -> dict[str, Any]:
    """``{"total": n, "types": {node_type: n}, "ctime_by_day": {"YYYY-MM-DD": n}}``.

    Days without nodes are absent; ``user_pk`` restricts to one user's nodes.
    """
    node = get_tables().node
    where = [node.c.user_id == user_pk] if user_pk is not None else []
    zone = timezone.get_default_timezone()
    dialect = get_engine(alias).dialect.name
    if dialect == "postgresql":
        return _postgresql_statistics(alias, user_pk, zone)
    days: dict[str, int] = {}
    if dialect == "sqlite" and user_pk is None:
        # Every user's nodes: counted on the indexes.
        type_rows = _every_user_rows(alias, "types", _sqlite_type_counts())
        if type_rows:
            first = min(row[2] for row in type_rows)
            last = max(row[3] for row in type_rows)
            days = _sqlite_day_counts(alias, first, last, zone)
    else:
        by_type = (
            sa.select(node.c.node_type, sa.func.count())
            .where(*where)
            .group_by(node.c.node_type)
        )
        # A Core connection: the ORM session's bookkeeping buys nothing here.
        with get_engine(alias).connect() as session:
            type_rows = session.execute(by_type).all()
            if type_rows:
                days = _grouped_day_counts(session, dialect, where, zone)
    types = {row[0]: row[1] for row in type_rows}
    return {
        "total": sum(types.values()),
        "types": dict(sorted(types.items())),
        "ctime_by_day": dict(sorted(days.items())),
    }


def _grouped_day_counts(
    session: Any, dialect: str, where: list[Any], zone: datetime.tzinfo
) -> dict[str, int]:
    node = get_tables().node
    if dialect == "postgresql":
        bucket = sa.cast(sa.func.timezone(str(zone), node.c.ctime), sa.Date)
        length = None
    else:
        # Every node's range (two index lookups) holds the user's nodes.
        ctime = sa.type_coerce(node.c.ctime, sa.String)
        first, last = session.execute(
            sa.select(sa.func.min(ctime), sa.func.max(ctime))
        ).one()
        length = _bucket_length(zone, first, last)
        # Literal bounds (never user input) let SQLite see the SELECT and
        # GROUP BY expressions as one.
        bucket = sa.func.substr(
            node.c.ctime, sa.literal_column("1"), sa.literal_column(str(length))
        )
    by_bucket = sa.select(bucket, sa.func.count()).where(*where).group_by(bucket)
    days: Counter[str] = Counter()
    for key, count in session.execute(by_bucket).all():
        if length is None:
            days[key.isoformat()] += count
        elif length == 10:
            days[key] += count
        else:
            days[_local_day(key, zone)] += count
    return dict(days)


@functools.cache
def _postgresql_counts_statement(one_user: bool) -> sa.Select:
    """(day, node_type, count, unfolded rows, zone counted in) of the kept
    counts; ``one_user``: of the user bound as ``user_pk``."""
    counts = CREATION_COUNTS
    counted_in = sa.literal_column("(SELECT zone FROM db_dbnode_creation_zone)")
    total = sa.cast(sa.func.sum(counts.c.count), sa.BigInteger)
    unfolded = sa.func.count().filter(sa.not_(counts.c.folded))
    statement = (
        sa.select(counts.c.day, counts.c.node_type, total, unfolded, counted_in)
        .group_by(counts.c.day, counts.c.node_type)
        .having(total != 0)
    )
    if one_user:
        statement = statement.where(counts.c.user_id == sa.bindparam("user_pk"))
    return statement


# What the statements of every user's counts sent the driver, per alias and
# statement: they run on the driver's cursor (prepared on PostgreSQL), as the
# QueryBuilder's kept ones do, without SQLAlchemy's pipeline (a fifth of a
# statistics request).
_EVERY_USER: dict[tuple[str, str], driver.Sent] = {}


def _every_user_rows(alias: str, name: str, statement: sa.Select) -> list[Any]:
    """The rows of ``statement``, which binds no value, kept as ``name``."""
    sent = _EVERY_USER.setdefault((alias, name), driver.Sent())
    return driver.fetched(alias, get_engine(alias), statement, sent)


def _postgresql_counts(alias: str, user_pk: int | None) -> list[Any]:
    if user_pk is None:
        return _every_user_rows(alias, "counts", _postgresql_counts_statement(False))
    with get_engine(alias).connect() as session:
        return session.execute(
            _postgresql_counts_statement(True), {"user_pk": user_pk}
        ).all()


def _postgresql_statistics(
    alias: str, user_pk: int | None, zone: datetime.tzinfo
) -> dict[str, Any]:
    rows = _postgresql_counts(alias, user_pk)
    # No rows: no nodes, in any zone. Rows of another zone's days: count anew.
    if rows and rows[0][4] != str(zone):
        _count_days_in(alias, str(zone))
        rows = _postgresql_counts(alias, user_pk)
    types: Counter[str] = Counter()
    days: Counter[str] = Counter()
    for day, node_type, count, _, _ in rows:
        types[node_type] += count
        days[day.isoformat()] += count
    if sum(row[3] for row in rows) > FOLD_AFTER:
        _fold(alias)
    return {
        "total": sum(types.values()),
        "types": dict(sorted(types.items())),
        "ctime_by_day": dict(sorted(days.items())),
    }


def _count_days_in(alias: str, zone: str) -> None:
    """Count days in ``zone`` if the counts are of another zone's days.

    Writers wait (SHARE lock on the nodes) while the counts are made anew
    from the nodes, once per change of ``TIME_ZONE``.
    """
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute("SELECT zone FROM db_dbnode_creation_zone")
        if cursor.fetchone()[0] == zone:
            return
        cursor.execute("LOCK TABLE db_dbnode IN SHARE MODE")
        cursor.execute("UPDATE db_dbnode_creation_zone SET zone = %s", [zone])
        cursor.execute("DELETE FROM db_dbnode_creation_count")
        cursor.execute(
            "INSERT INTO db_dbnode_creation_count "
            "(day, node_type, user_id, count, folded) "
            "SELECT (ctime AT TIME ZONE %s)::date, node_type, user_id, count(*), "
            "true FROM db_dbnode GROUP BY 1, 2, 3",
            [zone],
        )


def _fold(alias: str) -> None:
    """One row per day, type and user in place of the deltas.

    One statement: rows a concurrent writer commits meanwhile are not among
    those it deletes, and a concurrent fold finds them gone.
    """
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "WITH gone AS (DELETE FROM db_dbnode_creation_count RETURNING *) "
            "INSERT INTO db_dbnode_creation_count "
            "(day, node_type, user_id, count, folded) "
            "SELECT day, node_type, user_id, sum(count), true FROM gone "
            "GROUP BY 1, 2, 3 HAVING sum(count) <> 0"
        )
