"""``group list|show|create|add|remove|delete|relabel`` and the group API by label."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from nodes import services, types
from nodes.models import DbGroup

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create(username="admin", is_superuser=True)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("group", *args, stdout=out)
    return out.getvalue()


def test_group_lifecycle(admin, make_node):
    a, b = make_node(label="a"), make_node(types.FLOAT, label="b")
    assert "Created group 'runs'" in run("create", "runs", "--description", "d")
    group = DbGroup.objects.get(label="runs")
    assert group.user == admin
    assert "Added 2 nodes" in run("add", "runs", str(a.pk), str(b.uuid))
    assert "Added 0 nodes" in run("add", str(group.pk), str(a.pk))
    shown = json.loads(run("show", "runs", "--format", "json"))
    assert shown["node_count"] == 2
    assert shown["nodes"] == [
        {"pk": a.pk, "type": "Int", "label": "a"},
        {"pk": b.pk, "type": "Float", "label": "b"},
    ]
    assert f"{b.pk:>8}  Float" in run("show", "runs")
    assert "Removed 1 nodes" in run("remove", "runs", str(a.pk))
    listing = json.loads(run("list", "--format", "json"))
    assert listing == [
        {
            "pk": group.pk,
            "label": "runs",
            "type_string": "core",
            "user": "admin",
            "node_count": 1,
        }
    ]
    assert "Relabelled group 'runs' to 'done'" in run("relabel", "runs", "done")
    assert "Would delete group 'done' (1 members)" in run("delete", "done", "--dry-run")
    assert DbGroup.objects.filter(label="done").exists()
    assert "Deleted group 'done'" in run("delete", "done")
    assert not DbGroup.objects.exists()
    a.refresh_from_db()


def test_list_keeps_core_groups_unless_asked(admin):
    services.group_create(user=admin, label="mine")
    services.group_create(user=admin, label="imported", type_string="core.import")
    assert [g["label"] for g in json.loads(run("list", "--format", "json"))] == ["mine"]
    everything = json.loads(run("list", "--all-types", "--format", "json"))
    assert [g["label"] for g in everything] == ["mine", "imported"]


def test_group_errors_are_one_line_and_change_nothing(admin, make_node):
    node = make_node()
    run("create", "runs")
    with pytest.raises(CommandError, match="exists"):
        run("create", "runs")
    with pytest.raises(CommandError, match="no group 'nope'"):
        run("add", "nope", str(node.pk))
    with pytest.raises(CommandError, match="no node with pk 987654"):
        run("add", "runs", str(node.pk), "987654")
    assert not DbGroup.objects.get(label="runs").dbnodes.exists()
    with pytest.raises(CommandError, match="no user 'bob'"):
        run("create", "other", "--user", "bob")


def test_api_addresses_a_group_by_label(api_client, admin, make_node):
    group = services.group_create(user=admin, label="my.runs")
    services.group_add_nodes(group=group, pks=[make_node().pk])
    by_label = api_client.get("/api/v1/groups/my.runs/")
    assert by_label.status_code == 200
    assert by_label.json()["id"] == group.pk
    assert api_client.get(f"/api/v1/groups/{group.pk}/").json()["label"] == "my.runs"
    members = api_client.get("/api/v1/groups/my.runs/nodes/")
    assert len(members.json()["results"]) == 1
    missing = api_client.get("/api/v1/groups/nope/")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no group 'nope'"}
