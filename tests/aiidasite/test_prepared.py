"""Lookups compiled once per connection give what the ORM gives."""

from __future__ import annotations

import gc
import threading

import pytest
from django.db import DatabaseError, DataError, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from aiidasite import prepared
from aiidasite.prepared import PreparedLookup, numbered
from nodes.models import DbNode
from settingsapp.manager import SettingsManager
from settingsapp.models import DbSetting

pytestmark = pytest.mark.django_db

BY_PK = PreparedLookup(lambda pk: DbNode.objects.select_related("user").filter(pk=pk))


def test_a_node_read_twice_equals_the_orm_row(user):
    node = DbNode.objects.create(
        node_type="data.core.dict.Dict.",
        user=user,
        label="x",
        attributes={"a": [1, 2.5, None, {"b": "ü"}]},
        extras={"k": True},
    )
    expected = DbNode.objects.get(pk=node.pk)
    for _ in range(2):
        found = BY_PK.get(node.pk)
        assert found is not None
        for field in DbNode._meta.concrete_fields:
            assert getattr(found, field.attname) == getattr(expected, field.attname)
        assert found.user.username == "alice"
        assert found._state.adding is False


def test_deferred_fields_are_those_the_orm_defers_and_load_when_read(
    user, django_assert_num_queries
):
    node = DbNode.objects.create(
        node_type="data.core.int.Int.", user=user, attributes={"value": 3}
    )

    def build(pk):
        return (
            DbNode.objects.select_related("user")
            .only("label", "user__email")
            .filter(pk=pk)
        )

    found = PreparedLookup(build).get(node.pk)
    expected = build(node.pk).get()
    assert found.get_deferred_fields() == expected.get_deferred_fields()
    assert found.user.get_deferred_fields() == expected.user.get_deferred_fields()
    with django_assert_num_queries(1):
        assert found.attributes == {"value": 3}
    assert found._state.db == "default"


def test_a_nullable_relation_without_a_row_is_none_without_a_query(
    user, django_assert_num_queries
):
    node = DbNode.objects.create(node_type="data.core.int.Int.", user=user)
    by_pk = PreparedLookup(
        lambda pk: DbNode.objects.select_related("user", "dbcomputer").filter(pk=pk)
    )
    found = by_pk.get(node.pk)
    with django_assert_num_queries(0):
        assert found.dbcomputer is None
        assert found.user.username == "alice"


def test_init_signals_are_sent_while_a_receiver_is_connected(user):
    from django.db.models.signals import post_init

    node = DbNode.objects.create(node_type="data.core.int.Int.", user=user)
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append((sender, instance.pk))

    post_init.connect(receiver)
    try:
        BY_PK.get(node.pk)
    finally:
        post_init.disconnect(receiver)
    assert seen == [(DbNode, node.pk), (user.__class__, user.pk)]


def test_a_missing_row_is_none(user):
    assert BY_PK.get(10**12) is None


def test_counted_queries_see_the_lookup(user, django_assert_num_queries):
    node = DbNode.objects.create(node_type="data.core.int.Int.", user=user)
    with django_assert_num_queries(1):
        assert BY_PK.get(node.pk).pk == node.pk


def test_a_text_key_with_percent_signs_is_bound_not_formatted():
    DbSetting.objects.create(key="a%s%%b", val={"v": 1})
    assert SettingsManager().get("a%s%%b").value == {"v": 1}


@pytest.mark.django_db(transaction=True)
def test_a_new_database_session_prepares_the_lookup_again(user):

    node = DbNode.objects.create(node_type="data.core.int.Int.", user=user)
    assert BY_PK.get(node.pk).pk == node.pk
    # PostgreSQL's prepared statements go with the session; Django reconnects.
    connection.close()
    assert BY_PK.get(node.pk).pk == node.pk
    assert BY_PK.get(node.pk + 1000) is None


@pytest.mark.django_db(transaction=True)
def test_a_lookup_still_runs_after_a_rolled_back_transaction(user):
    from django.db import transaction

    node = DbNode.objects.create(node_type="data.core.int.Int.", user=user)
    with pytest.raises(RuntimeError), transaction.atomic():
        assert BY_PK.get(node.pk).pk == node.pk
        raise RuntimeError
    assert BY_PK.get(node.pk).pk == node.pk


def test_placeholders_are_numbered_and_percent_signs_unescaped():
    assert numbered("SELECT 1 WHERE a = %s AND b LIKE '%%x' AND c = %s") == (
        "SELECT 1 WHERE a = $1 AND b LIKE '%x' AND c = $2"
    )


needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL's plan cache: SQLite plans each statement it prepares "
    "with its indexes and no row counts",
)


def scans(lookup: PreparedLookup, value) -> dict[str, str]:
    """How the plan PostgreSQL runs ``lookup`` with reads each table, by name."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) EXECUTE {lookup.name}(%s)", [value])
        (plan,) = cursor.fetchone()
    found, nodes = {}, [plan[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        if "Relation Name" in node:
            found[node["Relation Name"]] = node["Node Type"]
        nodes.extend(node.get("Plans", []))
    return found


def settled_on_a_small_table(lookup: PreparedLookup, value, table: str) -> None:
    """Statistics of ``table`` as it is, then runs enough for PostgreSQL to keep
    the generic plan it makes of the lookup.

    The planner counts a table's pages, and earlier tests' rolled-back rows
    still take some: VACUUM (outside a transaction) gives them back.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}")
    for _ in range(6):
        lookup.get(value)
    # The fault's premise: a table of a few rows is read whole.
    assert scans(lookup, value)[table] == "Seq Scan"


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_setting_lookup_planned_on_a_few_rows_reads_the_grown_table_by_its_index():
    by_key = PreparedLookup(lambda key: DbSetting.objects.filter(key=key), text=True)
    DbSetting.objects.create(key="first", val=1)
    settled_on_a_small_table(by_key, "first", "db_dbsetting")
    DbSetting.objects.bulk_create(
        DbSetting(key=f"grown.{index}", val=index) for index in range(5000)
    )
    for _ in range(prepared.REPLAN_EVERY):
        assert by_key.get("grown.4999").val == 4999
    assert scans(by_key, "grown.1") == {"db_dbsetting": "Index Scan"}


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_node_lookup_planned_on_a_few_rows_reads_the_grown_table_by_its_index(user):
    by_pk = PreparedLookup(
        lambda pk: DbNode.objects.select_related("user").filter(pk=pk)
    )
    first = DbNode.objects.create(node_type="data.core.int.Int.", user=user)
    settled_on_a_small_table(by_pk, first.pk, "db_dbnode")
    grown = DbNode.objects.bulk_create(
        DbNode(node_type="data.core.int.Int.", user=user, attributes={"value": index})
        for index in range(5000)
    )
    for _ in range(prepared.REPLAN_EVERY):
        assert by_pk.get(grown[-1].pk).attributes == {"value": 4999}
    # The join's other side may stay a scan of the one user's page.
    assert scans(by_pk, first.pk)["db_dbnode"] == "Index Scan"


@needs_postgresql
def test_a_lookup_due_for_a_new_plan_in_an_aborted_transaction_runs_after_it(
    user, monkeypatch
):
    monkeypatch.setattr(prepared, "REPLAN_EVERY", 2)
    by_pk = PreparedLookup(lambda pk: DbNode.objects.filter(pk=pk))
    node = DbNode.objects.create(node_type="data.core.int.Int.", user=user)
    for _ in range(2):
        assert by_pk.get(node.pk).pk == node.pk
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor, pytest.raises(DataError):
            cursor.execute("SELECT 1 / 0")
        by_pk.get(node.pk)
    assert by_pk.get(node.pk).pk == node.pk
    assert by_pk.get(node.pk).pk == node.pk


@pytest.mark.django_db(transaction=True)
def test_a_thread_s_connection_is_freed_when_the_thread_ends():
    """A statement kept for a thread's connection must not keep that
    connection alive after the thread (a development server's request) ends."""
    lookup = PreparedLookup(lambda value: DbNode.objects.filter(pk=value))

    def alive() -> int:
        gc.collect()
        objects = gc.get_objects()
        return sum(issubclass(type(item), BaseDatabaseWrapper) for item in objects)

    def request() -> None:
        try:
            assert lookup.get(1) is None
        finally:
            connections.close_all()

    lookup.get(1)
    before = alive()
    for _ in range(5):
        thread = threading.Thread(target=request)
        thread.start()
        thread.join()
    assert alive() == before
