"""PostgreSQL's keys into db_dbnode, kept by statement-level triggers
(migrations nodes.0009 and nodes.0010)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, NotSupportedError, connection, transaction

from comments.models import DbComment
from logs.models import DbLog
from nodes.models import DbGroup, DbLink, DbNode

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'"),
]


def sql(statement: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def delete_actions() -> dict[str, str]:
    """``{"table.column": "CASCADE" | "RESTRICT"}`` of the node delete triggers."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_to_array(encode(tgargs, 'escape'), '\\000') "
            "FROM pg_trigger WHERE tgrelid = 'db_dbnode'::regclass "
            "AND tgfoid = 'db_dbnode_reference_delete'::regproc"
        )
        return {f"{args[0]}.{args[1]}": args[2] for (args,) in cursor.fetchall()}


def test_every_key_into_nodes_is_a_trigger_and_none_a_foreign_key():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid = 'db_dbnode'::regclass"
        )
        # A foreign key added later would bring back one query per deleted
        # node: nodes.0010 shows how to turn it into triggers.
        assert cursor.fetchall() == []
    declared = {
        f"{relation.related_model._meta.db_table}.{relation.field.column}"
        for relation in DbNode._meta.related_objects
        if not relation.many_to_many
    }
    declared.add(f"{DbGroup.dbnodes.through._meta.db_table}.dbnode_id")
    found = delete_actions()
    assert set(found) == declared
    assert found.pop("db_dbcomment.dbnode_id") == "CASCADE"
    assert found.pop("db_dblog.dbnode_id") == "CASCADE"
    assert set(found.values()) == {"RESTRICT"}


def test_a_node_still_linked_cannot_be_deleted_behind_the_services(user):
    source = DbNode.objects.create(node_type="data.core.int.Int.", user=user)
    target = DbNode.objects.create(
        node_type="process.calculation.calcjob.CalcJobNode.", user=user
    )
    DbLink.objects.create(input=source, output=target, label="x", type="input_calc")
    with pytest.raises(IntegrityError, match="db_dblink"), transaction.atomic():
        sql("DELETE FROM db_dbnode WHERE id IN (%s, %s)", [target.pk, source.pk])
    assert DbNode.objects.filter(pk__in=[source.pk, target.pk]).count() == 2


def test_a_group_member_cannot_be_deleted_behind_the_services(user):
    node = DbNode.objects.create(node_type="data.core.int.Int.", user=user)
    DbGroup.objects.create(label="g", user=user).dbnodes.add(node)
    with pytest.raises(IntegrityError, match="db_dbgroup_dbnodes"):
        with transaction.atomic():
            sql("DELETE FROM db_dbnode WHERE id = %s", [node.pk])
    assert DbNode.objects.filter(pk=node.pk).exists()


def test_comments_and_logs_go_with_a_node_deleted_in_plain_sql(user):
    node, kept = (
        DbNode.objects.create(node_type="data.core.int.Int.", user=user)
        for _ in range(2)
    )
    for owner in (node, kept):
        DbComment.objects.create(dbnode=owner, user=user, content="seen")
        DbLog.objects.create(dbnode=owner, levelname="REPORT", message="done")
    sql("DELETE FROM db_dbnode WHERE id = %s", [node.pk])
    assert list(DbComment.objects.values_list("dbnode_id", flat=True)) == [kept.pk]
    assert list(DbLog.objects.values_list("dbnode_id", flat=True)) == [kept.pk]


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("db_dblink", "input_id, output_id, label, type"),
        ("db_dbnode_object", "node_id, key"),
    ],
)
def test_rows_pointing_at_a_missing_node_are_refused(user, table, columns):
    node = DbNode.objects.create(node_type="data.core.int.Int.", user=user)
    missing = node.pk + 1000
    values = {
        "db_dblink": [node.pk, missing, "x", "input_calc"],
        "db_dbnode_object": [missing, "a" * 64],
    }[table]
    marks = ", ".join(["%s"] * len(values))
    with pytest.raises(IntegrityError, match=str(missing)), transaction.atomic():
        sql(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        assert cursor.fetchone() == (0,)


def test_a_comment_cannot_be_moved_to_a_missing_node(user):
    node = DbNode.objects.create(node_type="data.core.int.Int.", user=user)
    comment = DbComment.objects.create(dbnode=node, user=user, content="seen")
    with pytest.raises(IntegrityError), transaction.atomic():
        sql("UPDATE db_dbcomment SET dbnode_id = %s", [node.pk + 1000])
    comment.refresh_from_db()
    assert comment.dbnode_id == node.pk


def test_a_node_id_never_changes(user):
    node = DbNode.objects.create(node_type="data.core.int.Int.", user=user)
    with pytest.raises(IntegrityError, match="never changes"), transaction.atomic():
        sql("UPDATE db_dbnode SET id = id + 1000")
    assert DbNode.objects.filter(pk=node.pk).exists()


def test_nodes_cannot_be_truncated_away_from_their_links(user):
    source, target = (
        DbNode.objects.create(node_type="data.core.int.Int.", user=user)
        for _ in range(2)
    )
    DbLink.objects.create(input=source, output=target, label="x", type="input_calc")
    with pytest.raises(NotSupportedError, match="db_dblink"), transaction.atomic():
        sql("TRUNCATE db_dbnode")
    assert DbNode.objects.count() == 2
    sql("TRUNCATE db_dbnode, db_dblink")
    assert DbNode.objects.count() == 0


def session():
    """A second database session of its own, as another process would hold."""
    import psycopg2

    settings = connection.settings_dict
    return psycopg2.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"],
        port=settings["PORT"] or None,
    )


def waiting_for_a_lock(pid: int) -> bool:
    import time

    with connection.cursor() as cursor:
        for _ in range(500):
            cursor.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid]
            )
            if cursor.fetchone() == ("Lock",):
                return True
            time.sleep(0.01)
    return False


def race(first_sql, first_params, second_sql, second_params):
    """Run ``first`` in one session, then ``second`` in another while the
    first is uncommitted; commit the first; the error ``second`` met, if any."""
    import threading

    first, second = session(), session()
    failure = []

    def run_second():
        try:
            with second.cursor() as cursor:
                cursor.execute(second_sql, second_params)
            second.commit()
        except Exception as exc:  # the test asserts which
            second.rollback()
            failure.append(exc)

    try:
        with first.cursor() as cursor:
            cursor.execute(first_sql, first_params)
        thread = threading.Thread(target=run_second)
        thread.start()
        assert waiting_for_a_lock(second.get_backend_pid())
        first.commit()
        thread.join(timeout=10)
        assert not thread.is_alive()
    finally:
        first.close()
        second.close()
    return failure[0] if failure else None


def test_a_link_to_a_node_deleted_meanwhile_is_refused_once_the_delete_commits(user):
    import psycopg2.errors

    source, target = (
        DbNode.objects.create(node_type="data.core.int.Int.", user=user)
        for _ in range(2)
    )
    error = race(
        "DELETE FROM db_dbnode WHERE id = %s",
        [target.pk],
        "INSERT INTO db_dblink (input_id, output_id, label, type) "
        "VALUES (%s, %s, 'x', 'input_calc')",
        [source.pk, target.pk],
    )
    assert isinstance(error, psycopg2.errors.ForeignKeyViolation)
    assert not DbLink.objects.exists()
    assert not DbNode.objects.filter(pk=target.pk).exists()


def test_a_node_linked_meanwhile_is_kept_once_the_link_commits(user):
    import psycopg2.errors

    source, target = (
        DbNode.objects.create(node_type="data.core.int.Int.", user=user)
        for _ in range(2)
    )
    error = race(
        "INSERT INTO db_dblink (input_id, output_id, label, type) "
        "VALUES (%s, %s, 'x', 'input_calc')",
        [source.pk, target.pk],
        "DELETE FROM db_dbnode WHERE id = %s",
        [target.pk],
    )
    assert isinstance(error, psycopg2.errors.ForeignKeyViolation)
    assert DbLink.objects.filter(input=source, output=target).exists()
    assert DbNode.objects.filter(pk=target.pk).exists()
