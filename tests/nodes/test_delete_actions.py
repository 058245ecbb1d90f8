"""PostgreSQL's delete actions on keys into db_dbnode (migration nodes.0009)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from nodes.models import DbLink, DbNode

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'"),
]


def actions() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text || '.' || a.attname, confdeltype, "
            "condeferrable AND condeferred "
            "FROM pg_constraint c JOIN pg_attribute a "
            "ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "WHERE contype = 'f' AND confrelid = 'db_dbnode'::regclass "
            "AND conrelid <> 'db_dbnode'::regclass"
        )
        rows = cursor.fetchall()
    assert all(deferred for _, _, deferred in rows)
    return {column: action for column, action, _ in rows}


def test_comments_and_logs_cascade_everything_else_restricts():
    found = actions()
    assert found.pop("db_dbcomment.dbnode_id") == "c"
    assert found.pop("db_dblog.dbnode_id") == "c"
    assert {
        "db_dblink.input_id",
        "db_dblink.output_id",
        "db_dbgroup_dbnodes.dbnode_id",
        "db_dbnode_object.node_id",
    } <= set(found)
    assert set(found.values()) == {"r"}


def test_a_node_still_linked_cannot_be_deleted_behind_the_services(user):
    source = DbNode.objects.create(node_type="data.core.int.Int.", user=user)
    target = DbNode.objects.create(
        node_type="process.calculation.calcjob.CalcJobNode.", user=user
    )
    DbLink.objects.create(input=source, output=target, label="x", type="input_calc")
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM db_dbnode WHERE id = %s", [source.pk])
    assert DbNode.objects.filter(pk=source.pk).exists()
