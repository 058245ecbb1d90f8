"""Writes to a node or group belong to its owner or to staff."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from nodes import services, types
from nodes.models import DbGroup, DbNode
from nodes.services import IncomingLink

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create(username="alice")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create(username="bob")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create(username="staff", is_staff=True)


def client(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def node_of(user, node_type=types.INT, links=()):
    return services.node_store(
        user=user, node_type=node_type, attributes={}, links=list(links)
    )


def test_a_user_may_not_patch_or_delete_another_users_node(alice, bob):
    node = node_of(bob)

    patched = client(alice).patch(
        f"/api/v1/nodes/{node.pk}/", {"label": "mine now"}, format="json"
    )
    deleted = client(alice).delete(f"/api/v1/nodes/{node.pk}/?dry_run=false")

    for response in (patched, deleted):
        assert response.status_code == 403
        assert response.json() == {
            "detail": "Only its owner or staff may change this object."
        }
    node.refresh_from_db()
    assert node.label == ""


@pytest.mark.parametrize("who", ["owner", "staff"])
def test_owners_and_staff_may_patch_and_delete(alice, staff, who):
    node = node_of(alice)
    api = client(alice if who == "owner" else staff)

    patched = api.patch(f"/api/v1/nodes/{node.pk}/", {"label": "x"}, format="json")
    deleted = api.delete(f"/api/v1/nodes/{node.pk}/?dry_run=false")

    assert patched.status_code == 200
    assert deleted.status_code == 200
    assert not DbNode.objects.filter(pk=node.pk).exists()


def twelve_nodes_downstream_of(data, owner):
    """Six calculations of ``owner`` use ``data`` as input; each creates an output."""
    taken = []
    for index in range(6):
        calc = node_of(owner, types.CALCJOB, [IncomingLink(data.pk, "x", "input_calc")])
        out = node_of(
            owner, types.INT, [IncomingLink(calc.pk, f"out{index}", "create")]
        )
        taken += [calc.pk, out.pk]
    return taken


@pytest.mark.parametrize("dry_run", ["true", "false"])
def test_deleting_may_not_take_another_users_nodes(alice, bob, dry_run):
    data = node_of(alice)
    taken = twelve_nodes_downstream_of(data, bob)

    response = client(alice).delete(f"/api/v1/nodes/{data.pk}/?dry_run={dry_run}")

    assert response.status_code == 403
    assert response.json() == {
        "detail": f"deleting would take 12 node(s) of other users (first: pk "
        f"{min(taken)}); only their owners or staff may delete them"
    }
    assert DbNode.objects.count() == 13


def test_staff_may_delete_across_owners(alice, bob, staff):
    data = node_of(alice)
    twelve_nodes_downstream_of(data, bob)

    response = client(staff).delete(f"/api/v1/nodes/{data.pk}/?dry_run=false")

    assert response.status_code == 200
    assert len(response.json()["deleted"]) == 13
    assert DbNode.objects.count() == 0


def test_deleting_ones_own_provenance_is_allowed(alice):
    data = node_of(alice)
    calc = node_of(alice, types.CALCJOB, [IncomingLink(data.pk, "x", "input_calc")])

    response = client(alice).delete(f"/api/v1/nodes/{data.pk}/?dry_run=false")

    assert response.status_code == 200
    assert response.json()["deleted"] == sorted([data.pk, calc.pk])


def test_anonymous_writes_are_refused(bob):
    node = node_of(bob)

    response = APIClient().patch(
        f"/api/v1/nodes/{node.pk}/", {"label": "x"}, format="json"
    )

    assert response.status_code == 403
    assert DbNode.objects.get(pk=node.pk).label == ""


@pytest.fixture
def bobs_group(bob):
    group = services.group_create(user=bob, label="bob's")
    services.group_add_nodes(group=group, pks=[node_of(bob).pk])
    return group


def test_a_user_may_not_change_another_users_group(alice, bobs_group):
    url = f"/api/v1/groups/{bobs_group.pk}/"
    mine = node_of(alice)
    member = bobs_group.dbnodes.get()
    api = client(alice)

    answers = [
        api.patch(url, {"label": "taken"}, format="json"),
        api.post(f"{url}nodes/", {"nodes": [mine.pk]}, format="json"),
        api.post(f"{url}nodes/remove/", {"nodes": [member.pk]}, format="json"),
        api.delete(url),
    ]

    assert [answer.status_code for answer in answers] == [403] * 4
    bobs_group.refresh_from_db()
    assert bobs_group.label == "bob's"
    assert list(bobs_group.dbnodes.values_list("pk", flat=True)) == [member.pk]
    assert api.get(url).status_code == 200
    assert api.get(f"{url}nodes/").status_code == 200


@pytest.mark.parametrize("who", ["bob", "staff"])
def test_owner_and_staff_may_change_a_group(bob, staff, bobs_group, who):
    api = client(bob if who == "bob" else staff)
    url = f"/api/v1/groups/{bobs_group.pk}/"

    assert api.patch(url, {"label": "new"}, format="json").status_code == 200
    assert api.delete(url).status_code == 204
    assert not DbGroup.objects.filter(pk=bobs_group.pk).exists()
