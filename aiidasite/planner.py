"""Planner statistics after bulk writes.

PostgreSQL plans a query from statistics sampled by ``ANALYZE``, which its
autovacuum runs once a table has changed by 50 rows plus a tenth of its size,
up to a minute later. Until then the planner reads a freshly filled table as
nearly empty: a query for the first Dicts in id order walked the type index
and sorted 10,000 of them (8 ms) instead of reading the first 150 rows of the
primary key (0.1 ms), and a statement prepared meanwhile keeps that plan
until the statistics change. A bulk write that crosses autovacuum's own
threshold analyzes the tables it grew itself, right away.

SQLite keeps no statistics unless asked and plans without them; nothing is
done there.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

logger = logging.getLogger(__name__)

# PostgreSQL's defaults for autovacuum_analyze_threshold and
# autovacuum_analyze_scale_factor.
ANALYZE_THRESHOLD = 50
ANALYZE_SCALE_FACTOR = 0.1


def refresh_statistics(
    written: Mapping[str, int], *, using: str = DEFAULT_DB_ALIAS
) -> list[str]:
    """``ANALYZE`` the tables of ``written`` (table name -> rows written) whose
    writes reach autovacuum's threshold against the row count of their last
    statistics; the names of those analyzed, in order, a table locked by
    another session among them (none on SQLite or after a refusal).

    Runs inside or outside a transaction; the new statistics are seen by
    other sessions once it commits. The writes it follows are done: a table
    another session holds locked against ``ANALYZE`` (a running ``VACUUM``
    or ``ANALYZE``, ``CREATE INDEX CONCURRENTLY``) is skipped rather than
    waited for, and a refusal (a statement timeout) is logged, not raised.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class "
            "WHERE relkind = 'r' AND relname = ANY(%s) "
            "AND relnamespace = to_regnamespace(current_schema())::oid",
            [sorted(written)],
        )
        # reltuples is -1 for a table never analyzed.
        sizes = {name: max(rows, 0) for name, rows in cursor.fetchall()}
        stale = [
            name
            for name in sorted(written)
            if name in sizes
            and written[name] >= ANALYZE_THRESHOLD + ANALYZE_SCALE_FACTOR * sizes[name]
        ]
    if not stale:
        return []
    quote = connection.ops.quote_name
    try:
        # A savepoint inside a caller's transaction: a refusal leaves it usable.
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute("ANALYZE (SKIP_LOCKED) " + ", ".join(map(quote, stale)))
    except DatabaseError as exc:
        logger.warning("ANALYZE of %s refused: %s", ", ".join(stale), exc)
        return []
    return stale
