"""What goes with a deleted node, and what a computer in use refuses."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from aiidasite.exceptions import ObjectInUse
from comments.models import DbComment
from computers import services
from computers.models import DbAuthInfo, DbComputer
from logs.models import DbLog
from nodes import services as node_services
from nodes import types
from nodes.models import DbNode

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create(username="alice", email="a@example.org")


@pytest.fixture
def computer(user):
    computer = DbComputer.objects.create(label="cluster", hostname="cluster.org")
    DbAuthInfo.objects.create(aiidauser=user, dbcomputer=computer)
    return computer


@pytest.fixture
def calculation(user, computer):
    node = node_services.node_store(
        user=user, node_type=types.CALCJOB, attributes={"exit_status": 0}
    )
    DbNode.objects.filter(pk=node.pk).update(dbcomputer=computer)
    DbComment.objects.create(dbnode=node, user=user, content="checked")
    for level in ("WARNING", "ERROR"):
        DbLog.objects.create(dbnode=node, levelname=level, message=level.lower())
    return node


def test_deleting_a_calculation_removes_its_comments_and_logs(calculation):
    other = node_services.node_store(user=calculation.user, node_type=types.INT)
    DbComment.objects.create(dbnode=other, user=calculation.user, content="stays")
    node_services.delete_nodes([calculation.pk], dry_run=False)
    assert not DbNode.objects.filter(pk=calculation.pk).exists()
    assert list(DbComment.objects.values_list("content", flat=True)) == ["stays"]
    assert not DbLog.objects.exists()


def test_a_dry_run_lists_the_comments_and_logs_and_keeps_them(calculation):
    out = _call("node", "delete", str(calculation.pk), "--dry-run")
    assert "1 comments, 2 log records" in out
    out = _call("node", "delete", str(calculation.pk), "--dry-run", "--format=json")
    assert json.loads(out)["also"] == {"comments": 1, "log records": 2}
    assert DbComment.objects.count() == 1
    assert DbLog.objects.count() == 2


def test_the_api_names_what_goes_with_a_deleted_node(calculation, staff_client):
    response = staff_client.delete(f"/api/v1/nodes/{calculation.pk}/?dry_run=true")
    assert response.status_code == 200, response.content
    assert response.json()["also_deleted"] == {"comments": 1, "log records": 2}
    assert DbLog.objects.count() == 2


def test_a_computer_in_use_cannot_be_deleted(calculation, computer):
    with pytest.raises(ObjectInUse, match="used by 1 node"):
        services.computer_delete(computer=computer)
    assert DbComputer.objects.filter(pk=computer.pk).exists()
    assert DbAuthInfo.objects.filter(dbcomputer=computer).count() == 1


def test_an_unused_computer_goes_with_its_auth_infos(computer):
    services.computer_delete(computer=computer)
    assert not DbComputer.objects.exists()
    assert not DbAuthInfo.objects.exists()


def test_a_computer_is_found_by_label_pk_or_uuid(computer):
    for identifier in ("cluster", computer.pk, str(computer.uuid)):
        assert services.computer_get(identifier=identifier) == computer


def _call(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()
