"""The REST API of nodes, links and groups, through real HTTP requests."""

from __future__ import annotations

import datetime
import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from nodes import services, types
from nodes.models import DbGroup, DbLink, DbNode

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_of(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def calc_graph(make_node):
    structure = make_node(types.STRUCTURE, label="Si")
    calc = make_node(
        types.CALCJOB,
        process_type="aiida.calculations:quantumespresso.pw",
        inputs=[(structure, "structure", "input_calc")],
    )
    bands = make_node(
        types.BANDS,
        inputs=[(calc, "bands", "create")],
        files={"bands.npy": b"\x93NUMPY", "out/aiida.out": b"JOB DONE\n"},
    )
    return structure, calc, bands


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_node_list_filters_by_type_prefix_and_class_name(api_client, calc_graph):
    structure, calc, bands = calc_graph

    def ids(query):
        return {n["id"] for n in results(api_client.get(f"/api/v1/nodes/?{query}"))}

    assert ids("node_type=data.") == {structure.pk, bands.pk}
    assert ids("node_type=ArrayData") == {bands.pk}
    assert ids("node_type=process.calculation.CalculationNode.") == {calc.pk}
    assert ids("process_type=aiida.calculations:quantumespresso.pw") == {calc.pk}
    assert ids("label=Si") == {structure.pk}
    assert ids(f"uuid={str(bands.uuid)[:6]}") == {bands.pk}
    assert ids("user=alice") == {structure.pk, calc.pk, bands.pk}
    assert ids("user=nobody") == set()


def test_node_list_refuses_a_malformed_type_with_400(api_client, calc_graph):
    response = api_client.get("/api/v1/nodes/?node_type=not a type")
    assert response.status_code == 400
    assert "invalid node_type" in response.json()["detail"]


def test_node_list_filters_by_ctime_range_and_orders(api_client, make_node):
    now = timezone.now()
    old = make_node(ctime=now - datetime.timedelta(days=3))
    new = make_node(ctime=now)
    after = (now - datetime.timedelta(days=1)).isoformat()
    response = api_client.get("/api/v1/nodes/", {"ctime_after": after})
    assert [n["id"] for n in results(response)] == [new.pk]
    response = api_client.get("/api/v1/nodes/", {"ordering": "ctime"})
    assert [n["id"] for n in results(response)] == [old.pk, new.pk]
    assert "attributes" not in results(response)[0]


def test_node_list_pages_with_a_cursor(api_client, make_node):
    made = [make_node().pk for _ in range(5)]
    first = api_client.get("/api/v1/nodes/", {"page_size": 2}).json()
    assert [n["id"] for n in first["results"]] == made[::-1][:2]
    second = api_client.get(first["next"]).json()
    assert [n["id"] for n in second["results"]] == made[::-1][2:4]


def test_node_detail_by_pk_uuid_and_prefix(api_client, calc_graph):
    _, calc, _ = calc_graph
    for identifier in (calc.pk, calc.uuid, str(calc.uuid)[:8]):
        response = api_client.get(f"/api/v1/nodes/{identifier}/")
        assert response.status_code == 200
        assert response.json()["uuid"] == str(calc.uuid)
        assert response.json()["attributes"] == {}


def test_a_negative_number_is_no_uuid_prefix(api_client, make_node):
    # "-1" once matched this node, its dash dropped, as the prefix "1".
    node = make_node()
    DbNode.objects.filter(pk=node.pk).update(
        uuid=uuid.UUID("14444444-4444-4444-8444-444444444444")
    )
    assert api_client.get("/api/v1/nodes/1444/").status_code == 200
    for text in ("-1", "-14", "1-4", "--"):
        response = api_client.get(f"/api/v1/nodes/{text}/")
        assert response.status_code == 404, text
        assert response.json() == {"detail": f"no node with pk or uuid {text!r}"}


def test_missing_node_is_json_404(api_client):
    response = api_client.get("/api/v1/nodes/999999/")
    assert response.status_code == 404
    assert response.json() == {"detail": "no node with pk 999999"}


def test_incoming_and_outgoing_links(api_client, calc_graph):
    structure, calc, _bands = calc_graph
    incoming = results(api_client.get(f"/api/v1/nodes/{calc.pk}/links/incoming/"))
    assert [(link["input"]["id"], link["label"]) for link in incoming] == [
        (structure.pk, "structure")
    ]
    outgoing = results(api_client.get(f"/api/v1/nodes/{calc.uuid}/links/outgoing/"))
    assert [(link["output"]["node_type"], link["type"]) for link in outgoing] == [
        (types.BANDS, "create")
    ]
    assert api_client.get("/api/v1/nodes/424242/links/incoming/").status_code == 404


def test_link_list_filters_by_type(api_client, calc_graph):
    links = results(api_client.get("/api/v1/links/?type=create"))
    assert [link["label"] for link in links] == ["bands"]
    assert api_client.get("/api/v1/links/?type=bogus").status_code == 400


def test_file_tree_and_streamed_download(api_client, calc_graph):
    bands = calc_graph[2]
    tree = api_client.get(f"/api/v1/nodes/{bands.pk}/files/").json()
    assert tree == [
        {
            "name": "out",
            "path": "out",
            "type": "directory",
            "children": [
                {
                    "name": "aiida.out",
                    "path": "out/aiida.out",
                    "type": "file",
                    "size": len(b"JOB DONE\n"),
                }
            ],
        },
        {"name": "bands.npy", "path": "bands.npy", "type": "file", "size": 6},
    ]
    response = api_client.get(f"/api/v1/nodes/{bands.pk}/files/out/aiida.out")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/plain")
    assert b"".join(response.streaming_content) == b"JOB DONE\n"
    assert "aiida.out" in response["Content-Disposition"]
    listing = api_client.get(f"/api/v1/nodes/{bands.pk}/files/out/").json()
    assert listing == [
        {"name": "aiida.out", "path": "out/aiida.out", "type": "file", "size": 9}
    ]


def test_file_tree_is_sorted_directories_first_and_names_encoded(api_client, make_node):
    node = make_node(
        types.FOLDER,
        files={
            "z.txt": b"z",
            "my file #1.txt": b"spaces and a hash",
            "b/inner.txt": b"1",
            "a/deeper/x.dat": b"22",
        },
    )
    tree = api_client.get(f"/api/v1/nodes/{node.pk}/files/").json()
    assert [entry["name"] for entry in tree] == ["a", "b", "my file #1.txt", "z.txt"]
    assert tree[0]["children"][0]["children"] == [
        {"name": "x.dat", "path": "a/deeper/x.dat", "type": "file", "size": 2}
    ]
    response = api_client.get(f"/api/v1/nodes/{node.pk}/files/my%20file%20%231.txt")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"spaces and a hash"


def test_download_guesses_the_content_type(api_client, make_node):
    node = make_node(types.SINGLEFILE, files={"notes.txt": b"hello"})
    response = api_client.get(f"/api/v1/nodes/{node.pk}/files/notes.txt")
    assert response["Content-Type"].startswith("text/plain")
    assert b"".join(response.streaming_content) == b"hello"


@pytest.mark.parametrize(
    ("path", "status"), [("missing.txt", 404), ("a/../bands.npy", 400)]
)
def test_bad_file_paths_are_refused(api_client, calc_graph, path, status):
    bands = calc_graph[2]
    response = api_client.get(f"/api/v1/nodes/{bands.pk}/files/{path}")
    assert response.status_code == status
    assert "detail" in response.json()


def test_create_needs_authentication(api_client):
    response = api_client.post("/api/v1/nodes/", {"node_type": "Int"}, format="json")
    assert response.status_code == 403
    assert not DbNode.objects.exists()


def test_create_from_json_with_links(client_of, make_node):
    structure = make_node(types.STRUCTURE)
    response = client_of.post(
        "/api/v1/nodes/",
        {
            "node_type": "CalcJobNode",
            "attributes": {"exit_status": 0},
            "links": [
                {
                    "source": str(structure.uuid),
                    "label": "structure",
                    "type": "input_calc",
                }
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["node_type"] == types.CALCJOB
    assert body["user"] == "alice"
    assert DbLink.objects.get(output_id=body["id"]).input == structure


def test_create_refuses_a_link_breaking_the_rules(client_of, make_node):
    calc = make_node(types.CALCJOB)
    response = client_of.post(
        "/api/v1/nodes/",
        {
            "node_type": "CalcJobNode",
            "links": [{"source": calc.pk, "label": "x", "type": "input_calc"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "input_calc link goes from a data node" in response.json()["detail"]
    assert DbNode.objects.count() == 1


def test_create_refuses_an_output_of_a_sealed_process(client_of, make_node):
    calc = make_node(types.CALCJOB, attributes={"sealed": True, "exit_status": 0})
    response = client_of.post(
        "/api/v1/nodes/",
        {
            "node_type": types.INT,
            "links": [{"source": calc.pk, "label": "y", "type": "create"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["detail"] == (
        f"cannot add create link 'y' from node {calc.pk}: it is a sealed process"
    )
    assert DbNode.objects.count() == 1
    assert DbLink.objects.count() == 0


def test_create_takes_an_output_of_an_unsealed_process(client_of, make_node):
    calc = make_node(types.CALCJOB, attributes={"sealed": False})
    response = client_of.post(
        "/api/v1/nodes/",
        {
            "node_type": types.INT,
            "links": [{"source": calc.pk, "label": "y", "type": "create"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert DbLink.objects.get().input == calc


def test_create_refuses_a_link_label_longer_than_its_column(client_of, make_node):
    calc = make_node(types.CALCJOB)
    response = client_of.post(
        "/api/v1/nodes/",
        {
            "node_type": types.INT,
            "links": [{"source": calc.pk, "label": "x" * 300, "type": "create"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "at most 255 characters" in response.json()["detail"]
    assert "\n" not in response.json()["detail"]
    assert DbNode.objects.count() == 1
    assert DbLink.objects.count() == 0


def test_create_from_multipart_with_files(client_of):
    response = client_of.post(
        "/api/v1/nodes/",
        {
            "node_type": types.FOLDER,
            "attributes": json.dumps({"n": 1}),
            "sub/data.txt": SimpleUploadedFile("data.txt", b"1 2 3"),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    node = DbNode.objects.get(pk=response.json()["id"])
    assert node.attributes == {"n": 1}
    assert services.node_repository(node=node).get_object_content("sub/data.txt") == (
        b"1 2 3"
    )


def test_create_refuses_a_parent_path_upload(client_of):
    response = client_of.post(
        "/api/v1/nodes/",
        {"node_type": types.FOLDER, "../evil": SimpleUploadedFile("e", b"x")},
        format="multipart",
    )
    assert response.status_code == 400
    assert not DbNode.objects.exists()


def test_create_refuses_bad_json_attributes(client_of):
    response = client_of.post(
        "/api/v1/nodes/",
        {"node_type": types.DICT, "attributes": "{not json"},
        format="multipart",
    )
    assert response.status_code == 400
    assert "attributes" in response.json()


def test_patch_changes_extras_but_not_attributes(client_of, make_node):
    node = make_node(types.INT, attributes={"value": 1})
    response = client_of.patch(
        f"/api/v1/nodes/{node.pk}/",
        {"extras": {"tag": "a"}, "label": "one"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["extras"] == {"tag": "a"}
    response = client_of.patch(
        f"/api/v1/nodes/{node.pk}/", {"attributes": {"value": 2}}, format="json"
    )
    assert response.status_code == 400
    assert "attributes" in response.json()["detail"]
    assert DbNode.objects.get(pk=node.pk).attributes == {"value": 1}


def test_patch_merges_extras_as_set_extra_does_and_replace_overwrites(
    client_of, make_node
):
    node = make_node(types.INT, extras={"kept": 1, "changed": "old"})
    url = f"/api/v1/nodes/{node.pk}/"
    response = client_of.patch(url, {"extras": {"changed": "new"}}, format="json")
    assert response.json()["extras"] == {"kept": 1, "changed": "new"}
    response = client_of.patch(
        url, {"extras": {"only": True}, "replace": True}, format="json"
    )
    assert response.json()["extras"] == {"only": True}
    assert DbNode.objects.get(pk=node.pk).extras == {"only": True}
    response = client_of.patch(url, {"replace": "sometimes"}, format="json")
    assert response.status_code == 400


def test_delete_dry_run_then_for_real(client_of, calc_graph):
    structure, calc, bands = calc_graph
    url = f"/api/v1/nodes/{structure.pk}/"
    response = client_of.delete(url + "?dry_run=true")
    assert response.json() == {
        "dry_run": True,
        "deleted": sorted([structure.pk, calc.pk, bands.pk]),
        "also_deleted": {"comments": 0, "log records": 0},
    }
    assert DbNode.objects.count() == 3
    response = client_of.delete(url + "?create_forward=false")
    assert response.json()["deleted"] == sorted([structure.pk, calc.pk])
    assert list(DbNode.objects.values_list("pk", flat=True)) == [bands.pk]


def test_delete_needs_authentication(api_client, calc_graph):
    response = api_client.delete(f"/api/v1/nodes/{calc_graph[0].pk}/")
    assert response.status_code == 403
    assert DbNode.objects.count() == 3


def test_groups_create_list_and_members(client_of, calc_graph):
    structure, calc, _ = calc_graph
    response = client_of.post("/api/v1/groups/", {"label": "set"}, format="json")
    assert response.status_code == 201, response.content
    group_id = response.json()["id"]
    response = client_of.post(
        f"/api/v1/groups/{group_id}/nodes/",
        {"nodes": [structure.pk, str(calc.uuid)]},
        format="json",
    )
    assert response.json() == {"changed": 2}
    members = results(client_of.get(f"/api/v1/groups/{group_id}/nodes/"))
    assert {m["id"] for m in members} == {structure.pk, calc.pk}
    listed = results(client_of.get("/api/v1/groups/?label=set"))
    assert listed[0]["node_count"] == 2
    response = client_of.post(
        f"/api/v1/groups/{group_id}/nodes/remove/", {"nodes": [calc.pk]}, format="json"
    )
    assert response.json() == {"changed": 1}
    assert list(DbGroup.objects.get().dbnodes.values_list("pk", flat=True)) == [
        structure.pk
    ]


def test_duplicate_group_label_is_409(client_of):
    assert (
        client_of.post("/api/v1/groups/", {"label": "a"}, format="json").status_code
        == 201
    )
    response = client_of.post("/api/v1/groups/", {"label": "a"}, format="json")
    assert response.status_code == 409
    assert DbGroup.objects.count() == 1


def test_adding_a_missing_node_to_a_group_is_404(client_of, user):
    group = services.group_create(user=user, label="g")
    response = client_of.post(
        f"/api/v1/groups/{group.pk}/nodes/", {"nodes": [999999]}, format="json"
    )
    assert response.status_code == 404
    assert not group.dbnodes.exists()


def test_group_patch_and_delete_keep_nodes(client_of, user, make_node):
    node = make_node()
    group = services.group_create(user=user, label="g")
    services.group_add_nodes(group=group, pks=[node.pk])
    response = client_of.patch(
        f"/api/v1/groups/{group.pk}/", {"description": "d"}, format="json"
    )
    assert response.json()["description"] == "d"
    assert client_of.delete(f"/api/v1/groups/{group.pk}/").status_code == 204
    assert not DbGroup.objects.exists()
    assert DbNode.objects.filter(pk=node.pk).exists()


def test_api_root_lists_the_node_routes(api_client):
    body = api_client.get("/api/v1/").json()
    assert body["nodes"].endswith("/api/v1/nodes/")
    assert body["links"].endswith("/api/v1/links/")
    assert body["groups"].endswith("/api/v1/groups/")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/nodes/99999999999999999999/",
        "/api/v1/nodes/99999999999999999999/links/incoming/",
        "/api/v1/nodes/99999999999999999999/files/",
        "/api/v1/groups/99999999999999999999/",
        "/api/v1/links/?input=99999999999999999999",
        "/api/v1/links/?output=-1",
        "/api/v1/nodes/?uuid=zz",
        "/api/v1/nodes/?ctime_after=yesterday",
        "/api/v1/nodes/?cursor=garbage",
        "/api/v1/nodes/?ordering=attributes",
    ],
)
def test_bad_input_is_answered_without_a_server_error(api_client, url):
    response = api_client.get(url)
    assert response.status_code in (200, 400, 404)
    assert isinstance(response.json(), dict)


def test_create_refuses_a_lone_surrogate_with_400(client_of):
    response = client_of.post(
        "/api/v1/nodes/",
        data='{"node_type": "Str", "attributes": {"value": "\\ud800"}}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "surrogate" in response.json()["detail"]
    assert not DbNode.objects.exists()


@pytest.mark.parametrize(
    ("url", "rows"),
    [("/api/v1/nodes/", 31), ("/api/v1/links/", 30), ("/api/v1/groups/", 31)],
)
def test_lists_take_a_fixed_number_of_queries(api_client, user, make_node, url, rows):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    structure = make_node(types.STRUCTURE)
    group = services.group_create(user=user, label="all")
    for index in range(30):
        calc = make_node(types.CALCJOB, inputs=[(structure, f"s{index}", "input_calc")])
        services.group_add_nodes(group=group, pks=[calc.pk])
        services.group_create(user=user, label=f"g{index}")
    with CaptureQueriesContext(connection) as captured:
        response = api_client.get(url)
    assert response.status_code == 200
    assert len(response.json()["results"]) == rows
    # The site's own checks (schema version) come on top; the list itself is
    # one page query (plus the count of the small groups table).
    tables = ('"db_dbnode"', '"db_dblink"', '"db_dbgroup"')
    ours = [q for q in captured.captured_queries if any(t in q["sql"] for t in tables)]
    assert len(ours) <= 2
