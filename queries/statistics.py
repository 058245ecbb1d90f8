"""How many nodes there are, of which types, created on which days.

Two aggregate statements, whatever the number of nodes: one groups by
``node_type``, one by day. Days are those of the site's time zone
(``TIME_ZONE``). PostgreSQL converts each ``ctime`` with ``AT TIME ZONE``.
SQLite knows no time zones: it groups UTC text prefixes (the day itself when
the zone is UTC, else the hour, or the minute for zones whose offsets are not
whole hours) and the few buckets are folded into local days here.
"""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any

import sqlalchemy as sa
from django.utils import timezone

from queries.session import get_engine, get_scoped_session
from queries.tables import get_tables

__all__ = ["creation_statistics"]


def _bucket_length(zone: datetime.tzinfo) -> int:
    """How many characters of Django's SQLite datetime text one bucket keeps."""
    year = timezone.now().year
    offsets = {
        zone.utcoffset(datetime.datetime(y, m, 1))
        for y in (year - 1, year)
        for m in (1, 7)
    }
    if offsets == {datetime.timedelta(0)}:
        return 10  # "YYYY-MM-DD": already the day
    if all(offset.seconds % 3600 == 0 for offset in offsets if offset is not None):
        return 13  # "YYYY-MM-DD HH"
    return 16  # "YYYY-MM-DD HH:MM"


def _local_day(bucket: str, zone: datetime.tzinfo) -> str:
    pattern = "%Y-%m-%d %H" if len(bucket) == 13 else "%Y-%m-%d %H:%M"
    moment = datetime.datetime.strptime(bucket, pattern).replace(tzinfo=datetime.UTC)
    return moment.astimezone(zone).date().isoformat()


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
        bucket = sa.cast(sa.func.timezone(str(zone), node.c.ctime), sa.Date)
        length = None
    else:
        length = _bucket_length(zone)
        # Literal bounds (never user input) let SQLite see the SELECT and
        # GROUP BY expressions as one.
        bucket = sa.func.substr(
            node.c.ctime, sa.literal_column("1"), sa.literal_column(str(length))
        )
    by_type = (
        sa.select(node.c.node_type, sa.func.count())
        .where(*where)
        .group_by(node.c.node_type)
    )
    by_bucket = sa.select(bucket, sa.func.count()).where(*where).group_by(bucket)
    session = get_scoped_session(alias)()
    try:
        types = dict(session.execute(by_type).all())
        buckets = session.execute(by_bucket).all()
    finally:
        session.close()
    days: Counter[str] = Counter()
    for key, count in buckets:
        if length is None:
            days[key.isoformat()] += count
        elif length == 10:
            days[key] += count
        else:
            days[_local_day(key, zone)] += count
    return {
        "total": sum(types.values()),
        "types": dict(sorted(types.items())),
        "ctime_by_day": dict(sorted(days.items())),
    }
