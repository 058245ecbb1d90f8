"""A bulk write that crosses autovacuum's threshold refreshes PostgreSQL's
planner statistics at once; SQLite is left as it plans, without them."""

from __future__ import annotations

import math

import pytest
from django.db import connection

from aiidasite.planner import refresh_statistics
from archives.services import archive_import
from bench.workloads.archives import write_archive

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite keeps no planner statistics"
)


def estimated_rows(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        return cursor.fetchone()[0]


@pytest.fixture
def generated(tmp_path):
    archive = tmp_path / "generated.aiida"
    write_archive(archive, 300, 30)
    return archive


@on_postgresql
def test_an_import_leaves_statistics_of_what_it_wrote(generated):
    summary = archive_import(str(generated))
    assert summary.nodes_new == 300
    # Without statistics a table reads as never analyzed (-1) or empty.
    assert estimated_rows("db_dbnode") == 300
    assert estimated_rows("db_dblink") == summary.links_new > 0


@on_postgresql
def test_writes_under_the_threshold_of_a_known_table_analyze_nothing():
    def threshold(table: str) -> int:
        # ANALYZE writes pg_class in place: earlier tests' counts stay.
        return math.ceil(50 + 0.1 * max(estimated_rows(table), 0))

    node, link = threshold("db_dbnode"), threshold("db_dblink")
    assert refresh_statistics({"db_dbnode": node - 1}) == []
    assert refresh_statistics({"db_dbnode": node - 1, "db_dblink": link}) == [
        "db_dblink"
    ]
    assert refresh_statistics({"db_dbnode": threshold("db_dbnode")}) == ["db_dbnode"]
    assert refresh_statistics({"no_such_table": 10_000}) == []


def locking_session(table: str):
    """A second session holding ``table`` locked against ANALYZE (as a
    running VACUUM does), but not against writes."""
    import psycopg2

    settings = connection.settings_dict
    other = psycopg2.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"],
        port=settings["PORT"] or None,
    )
    with other.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {table} IN SHARE UPDATE EXCLUSIVE MODE")
    return other


@on_postgresql
def test_a_table_another_session_holds_is_skipped_not_waited_for(generated):
    other = locking_session("db_dbnode")
    try:
        with connection.cursor() as cursor:
            # Should ANALYZE wait, the test fails rather than hangs.
            cursor.execute("SET lock_timeout = '20s'")
        try:
            summary = archive_import(str(generated))
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
        # The import is whole, the locked table left for later, the others
        # analyzed.
        assert summary.nodes_new == 300
        assert estimated_rows("db_dbnode") != 300
        assert estimated_rows("db_dblink") == summary.links_new > 0
    finally:
        other.rollback()
        other.close()
    assert refresh_statistics({"db_dbnode": 300}) == ["db_dbnode"]
    assert estimated_rows("db_dbnode") == 300


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")
def test_sqlite_is_left_without_statistics(generated):
    archive_import(str(generated))
    assert refresh_statistics({"db_dbnode": 10_000}) == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
        assert cursor.fetchone()[0] == 0
