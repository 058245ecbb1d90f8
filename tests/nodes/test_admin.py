"""The admin pages of nodes, links and groups."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from nodes import services, types
from nodes.models import DbNode

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create(
        username="root", is_staff=True, is_superuser=True
    )
    client.force_login(admin)
    return client


@pytest.fixture
def chain(make_node):
    structure = make_node(types.STRUCTURE, label="silicon")
    calc = make_node(types.CALCJOB, inputs=[(structure, "structure", "input_calc")])
    folder = make_node(
        types.FOLDER,
        inputs=[(calc, "retrieved", "create")],
        files={"aiida.out": b"JOB DONE\n"},
        attributes={"answer": 42},
    )
    return structure, calc, folder


def test_node_list_filters_by_type_without_counting_the_table(
    admin_client, chain, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20) as captured:
        response = admin_client.get("/admin/nodes/dbnode/?type=data.")
    assert response.status_code == 200
    page = response.content.decode()
    structure, calc, folder = chain
    assert f"/admin/nodes/dbnode/{structure.pk}/change/" in page
    assert f"/admin/nodes/dbnode/{folder.pk}/change/" in page
    assert f"/admin/nodes/dbnode/{calc.pk}/change/" not in page
    plain_counts = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith('SELECT COUNT(*) AS "__count" FROM "db_dbnode"')
    ]
    assert plain_counts == []


def test_node_search_by_uuid_prefix_and_label(admin_client, chain):
    structure, calc, _ = chain
    page = admin_client.get("/admin/nodes/dbnode/", {"q": str(calc.uuid)[:8]})
    assert str(calc.uuid)[:8] in page.content.decode()
    page = admin_client.get("/admin/nodes/dbnode/", {"q": "silic"}).content.decode()
    assert f"/admin/nodes/dbnode/{structure.pk}/change/" in page
    assert f"/admin/nodes/dbnode/{calc.pk}/change/" not in page


def test_node_page_shows_attributes_links_and_files(admin_client, chain):
    _, calc, folder = chain
    page = admin_client.get(f"/admin/nodes/dbnode/{folder.pk}/change/").content.decode()
    assert "&quot;answer&quot;: 42" in page
    assert f"/admin/nodes/dbnode/{calc.pk}/change/" in page
    assert f"/api/v1/nodes/{folder.pk}/files/aiida.out" in page


def test_node_page_saves_label_and_extras_only(admin_client, chain):
    folder = chain[2]
    response = admin_client.post(
        f"/admin/nodes/dbnode/{folder.pk}/change/",
        {
            "label": "renamed",
            "description": "",
            "extras": '{"k": 1}',
            # The page's comment and log forms, as a browser sends them.
            **{
                f"{prefix}-{field}": "0"
                for prefix in ("dbcomments", "dblogs")
                for field in ("TOTAL_FORMS", "INITIAL_FORMS")
            },
        },
    )
    assert response.status_code == 302
    stored = DbNode.objects.get(pk=folder.pk)
    assert (stored.label, stored.extras, stored.attributes) == (
        "renamed",
        {"k": 1},
        {"answer": 42},
    )


def test_delete_action_confirms_then_follows_the_rules(admin_client, chain):
    structure, _calc, folder = chain
    selection = {"action": "delete_with_rules", "_selected_action": [structure.pk]}
    page = admin_client.post("/admin/nodes/dbnode/", selection)
    assert page.status_code == 200
    assert "takes\n  <strong>3</strong> nodes" in page.content.decode()
    assert DbNode.objects.count() == 3
    # Switching off create_forward keeps the calculation's output.
    response = admin_client.post(
        "/admin/nodes/dbnode/",
        {**selection, "rules": "1", "call_calc_forward": "on", "confirm": "yes"},
    )
    assert response.status_code == 302
    assert list(DbNode.objects.values_list("pk", flat=True)) == [folder.pk]


def test_delete_link_on_a_node_page_uses_the_rules(admin_client, chain):
    structure, _calc, folder = chain
    page = admin_client.get(f"/admin/nodes/dbnode/{folder.pk}/delete/")
    assert "<strong>2</strong> nodes" in page.content.decode()
    admin_client.post(f"/admin/nodes/dbnode/{folder.pk}/delete/", {"confirm": "yes"})
    assert list(DbNode.objects.values_list("pk", flat=True)) == [structure.pk]


def test_link_list_is_read_only(admin_client, chain):
    response = admin_client.get("/admin/nodes/dblink/")
    assert response.status_code == 200
    assert "retrieved" in response.content.decode()
    assert admin_client.get("/admin/nodes/dblink/add/").status_code == 403


def test_group_page_adds_and_removes_nodes(admin_client, chain, user):
    structure, calc, _ = chain
    group = services.group_create(user=user, label="set")
    services.group_add_nodes(group=group, pks=[structure.pk])
    members = f"/admin/nodes/dbgroup/{group.pk}/members/"
    added = admin_client.post(members, {"action": "add", "node": [str(calc.pk)]})
    assert added.status_code == 302
    assert set(group.dbnodes.values_list("pk", flat=True)) == {structure.pk, calc.pk}
    removed = admin_client.post(
        members, {"action": "remove", "node": [str(structure.pk)]}
    )
    assert removed.status_code == 302
    assert list(group.dbnodes.values_list("pk", flat=True)) == [calc.pk]
    page = admin_client.get(f"/admin/nodes/dbgroup/{group.pk}/change/").content
    assert "Removed 1 nodes." in page.decode()
    # Saving the group's fields leaves its members alone.
    saved = admin_client.post(
        f"/admin/nodes/dbgroup/{group.pk}/change/",
        {
            "label": "renamed",
            "type_string": "core",
            "description": "",
            "user": user.pk,
            "extras": "{}",
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    group.refresh_from_db()
    assert group.label == "renamed"
    assert list(group.dbnodes.values_list("pk", flat=True)) == [calc.pk]


def test_group_page_lists_members_paginated_and_finds_nodes(
    admin_client, make_node, user
):
    nodes = [make_node(label=f"n{i:02}") for i in range(55)]
    group = services.group_create(user=user, label="many")
    services.group_add_nodes(group=group, pks=[node.pk for node in nodes[:52]])
    url = f"/admin/nodes/dbgroup/{group.pk}/change/"
    first = admin_client.get(url).content.decode()
    assert "Members (52)" in first
    assert first.count('name="node" value=') == 50
    assert "<td>Int</td><td>n51</td>" in first
    second = admin_client.get(url, {"members_page": 2}).content.decode()
    assert second.count('name="node" value=') == 2
    assert "<td>Int</td><td>n00</td>" in second
    found = admin_client.get(url, {"member_search": "n5"}).content.decode()
    search = found[found.index("Add nodes") :]
    assert search.count("already a member") == 2  # n50, n51
    assert f'value="{nodes[54].pk}" checked' in search
    assert "Provenance groups" in admin_client.get("/admin/").content.decode()


def test_group_member_changes_need_change_permission(client, django_user_model, user):
    viewer = django_user_model.objects.create_user(
        username="viewer", password="pw", is_staff=True
    )
    viewer.user_permissions.add(*Permission.objects.filter(codename="view_dbgroup"))
    client.force_login(viewer)
    group = services.group_create(user=user, label="locked")
    response = client.post(
        f"/admin/nodes/dbgroup/{group.pk}/members/", {"action": "add", "node": ["1"]}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        "/admin/nodes/dbnode/?user__id__exact=99999999999999999999",
        "/admin/nodes/dbnode/?id=99999999999999999999",
        "/admin/nodes/dbnode/?dbcomputer__id__exact=99999999999999999999",
        "/admin/nodes/dblink/?input__id__exact=99999999999999999999",
        "/admin/processes/processnode/?dbcomputer__id__exact=99999999999999999999",
    ],
)
def test_list_filtered_by_an_id_out_of_range_is_empty_not_an_error(
    admin_client, chain, url
):
    response = admin_client.get(url)
    assert response.status_code == 200
    structure, _, _ = chain
    assert (
        f"/admin/nodes/dbnode/{structure.pk}/change/" not in response.content.decode()
    )
