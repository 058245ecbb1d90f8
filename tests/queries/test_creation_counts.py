"""Creation statistics stay right however nodes come and go.

On PostgreSQL they are read from counts that triggers keep (migration
``queries.0001``); these tests change nodes through every kind of writer and
compare with a count made in Python from the nodes themselves. On SQLite the
same tests hold for its index counts.
"""

from __future__ import annotations

import datetime
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from archives.services import archive_import
from nodes import services
from nodes.models import DbNode
from queries import statistics
from queries.manager import QueryManager
from tests.queries.conftest import DICT, INT, STR

pytestmark = pytest.mark.django_db(transaction=True)
UTC = datetime.UTC
DATA = Path(__file__).resolve().parents[1] / "data"


def expected(user_pk: int | None = None) -> dict:
    zone = timezone.get_default_timezone()
    rows = DbNode.objects.all()
    if user_pk is not None:
        rows = rows.filter(user_id=user_pk)
    types: Counter[str] = Counter()
    days: Counter[str] = Counter()
    for node_type, ctime in rows.values_list("node_type", "ctime"):
        types[node_type] += 1
        days[ctime.astimezone(zone).date().isoformat()] += 1
    return {
        "total": sum(types.values()),
        "types": dict(sorted(types.items())),
        "ctime_by_day": dict(sorted(days.items())),
    }


def check(*users) -> None:
    assert QueryManager().get_creation_statistics() == expected()
    for user in users:
        found = QueryManager().get_creation_statistics(user_pk=user.pk)
        assert found == expected(user.pk)


@pytest.fixture
def two_users(django_user_model):
    return (
        django_user_model.objects.create_user(username="u1"),
        django_user_model.objects.create_user(username="u2"),
    )


def test_stores_deletes_and_updates_keep_the_counts(two_users, settings):
    settings.TIME_ZONE = "Asia/Kathmandu"  # +05:45: quarter-hour buckets matter
    first, second = two_users
    stamp = datetime.datetime(2024, 5, 1, 18, 10, tzinfo=UTC)  # 23:55 local
    nodes = [
        DbNode.objects.create(
            node_type=(INT, STR, DICT)[i % 3],
            user=(first, second)[i % 2],
            ctime=stamp + datetime.timedelta(minutes=4 * i),
        )
        for i in range(12)
    ]
    check(first, second)
    pks = services.nodes_store_bulk(
        user=first,
        nodes=[
            services.NodeSpec(node_type=INT, attributes={"value": i}) for i in range(30)
        ],
    )
    check(first, second)
    services.delete_nodes([*pks[:10], nodes[0].pk], dry_run=False)
    check(first, second)
    # Moving a node to another day, type and user moves its count.
    moved = nodes[3]
    DbNode.objects.filter(pk=moved.pk).update(
        ctime=stamp - datetime.timedelta(days=3), node_type=STR, user=second
    )
    DbNode.objects.filter(pk=nodes[4].pk).update(label="only the label")
    check(first, second)
    # Another zone's days: counted anew, then kept in that zone.
    settings.TIME_ZONE = "America/Caracas"
    check(first, second)
    DbNode.objects.create(node_type=INT, user=first, ctime=stamp)
    check(first, second)


def test_imports_are_counted(two_users):
    first, _ = two_users
    DbNode.objects.create(node_type=INT, user=first)
    archive_import(str(DATA / "bands-small.aiida"))
    check(first)


def test_plain_sql_writes_are_counted(two_users):
    first, _ = two_users
    DbNode.objects.create(node_type=INT, user=first)
    table = DbNode._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")
    check(first)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_deltas_fold_into_one_row_per_group(two_users, monkeypatch):
    first, second = two_users
    for i in range(8):
        DbNode.objects.create(node_type=(INT, STR)[i % 2], user=(first, second)[i % 2])
    monkeypatch.setattr(statistics, "FOLD_AFTER", 3)
    check(first, second)  # folds
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE folded) "
            "FROM db_dbnode_creation_count"
        )
        rows, folded = cursor.fetchone()
    assert rows == folded
    assert rows <= 4  # two groups, in one bucket (two across a boundary)
    DbNode.objects.create(node_type=DICT, user=first)
    check(first, second)
