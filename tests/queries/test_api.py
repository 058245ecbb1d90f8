"""The queries API through real HTTP requests."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import connection

from queries import services
from tests.queries.conftest import BANDS, CALCJOB, INT

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def test_api_root_lists_the_query_routes(api_client):
    links = api_client.get("/api/v1/").json()
    for name in ["statistics", "querybuilder", "bands", "closest-parents"]:
        assert links[name].endswith(f"/api/v1/{name}/")


def test_statistics_of_everyone_and_of_one_user(api_client, graph, django_user_model):
    graph.node(INT, ctime=datetime.datetime(2024, 1, 2, 3, tzinfo=datetime.UTC))
    graph.node(INT, user=django_user_model.objects.create_user(username="bob"))
    body = api_client.get("/api/v1/statistics/").json()
    assert body["total"] == 2
    assert body["types"] == {INT: 2}
    assert body["ctime_by_day"]["2024-01-02"] == 1
    assert api_client.get("/api/v1/statistics/?user=bob").json()["total"] == 1
    assert (
        api_client.get(f"/api/v1/statistics/?user={graph.user.pk}").json()["total"] == 1
    )


def test_statistics_of_an_unknown_user_are_those_of_a_user_without_nodes(
    api_client, graph, django_user_model
):
    django_user_model.objects.create_user(username="idle")
    graph.node(INT)
    unknown = api_client.get("/api/v1/statistics/?user=nobody")
    idle = api_client.get("/api/v1/statistics/?user=idle")
    assert unknown.status_code == idle.status_code == 200
    assert unknown.json() == idle.json()
    assert unknown.json()["total"] == 0


def test_querybuilder_pages_through_rows(client, graph):
    for i in range(5):
        graph.node(INT, label=f"n{i}", attributes={"value": i})
    query = {
        "path": [{"entity": "Int", "tag": "i"}],
        "filters": {"i": {"attributes.value": {">=": 1}}},
        "project": {"i": ["label", "attributes.value"]},
    }
    first = client.post("/api/v1/querybuilder/?page_size=3", query, format="json")
    assert first.status_code == 200, first.json()
    body = first.json()
    assert body["count"] == 4
    assert body["results"] == [
        {"i": {"label": f"n{i}", "attributes.value": i}} for i in (1, 2, 3)
    ]
    second = client.post(body["next"], query, format="json").json()
    assert second["results"] == [{"i": {"label": "n4", "attributes.value": 4}}]
    assert second["next"] is None


def test_querybuilder_caps_rows_server_side(api_client, graph, settings):
    """The cap holds for anonymous readers too."""
    client = api_client
    settings.AIIDASITE_QUERY_MAX_ROWS = 3
    for i in range(5):
        graph.node(INT, label=f"n{i}")
    query = {"path": ["Int"], "project": {"int": ["label"]}, "limit": 4}
    body = client.post("/api/v1/querybuilder/?page_size=10", query, format="json")
    assert body.json()["count"] == 3
    assert len(body.json()["results"]) == 3


def test_querybuilder_refuses_bad_queries_with_400(client):
    for query in [
        {"path": ["Nope"]},
        {"path": ["node"], "filters": {"node": {"x": 1}}},
        {"path": ["node"], "filters": {"node": {"id": {"~~": 1}}}},
        {"nothing": True},
        [1, 2],
        {"path": ["node"], "filters": {"node": {"attributes": {"contains": "x"}}}},
        {"path": ["node"], "filters": {"node": {"ctime": {">": 5}}}},
        {"path": ["node"], "filters": {"node": {"uuid": "not-a-uuid"}}},
        {"path": ["node"], "filters": {"node": {"label": {"like": 5}}}},
        {"path": ["node"], "filters": {"node": {"attributes.x": {"of_length": 1.5}}}},
        {"path": ["node"], "filters": {"node": "label"}},
        {"path": ["node"], "order_by": [{"node": [{"id": "sideways"}]}]},
        {"path": ["node"], "project": {"node": ["attributes."]}},
        {"path": ["node"], "project": {"node": [5]}},
        {"path": [{"entity": "node", "tag": 5}]},
        {"path": [{"entity": "node", "with_incoming": "ghost"}]},
        {"path": ["node"], "distinct": "yes"},
        {"path": ["node"], "offset": -3},
        {"path": "node"},
    ]:
        response = client.post("/api/v1/querybuilder/", query, format="json")
        assert response.status_code == 400, query
        assert "detail" in response.json()


def test_querybuilder_refuses_lone_surrogates_anywhere_with_400(client):
    node = {"entity_type": "", "orm_base": "node", "tag": "n"}
    for filters in [
        {"n": {"label": "\ud800"}},
        {"n": {"attributes.x": {"==": "\ud800"}}},
        {"n": {"label": {"like": "\udfff%"}}},
        {"n": {"attributes.\ud800": {"==": 1}}},
        {"n": {"label": {"in": ["a", "\udc00b"]}}},
    ]:
        # json.dumps writes the surrogate as JSON's escape, as a client does.
        query = json.dumps({"path": [node], "filters": filters})
        response = client.post(
            "/api/v1/querybuilder/", query, content_type="application/json"
        )
        assert response.status_code == 400, filters
        assert "lone surrogate" in response.json()["detail"]
    query = json.dumps({"path": [{**node, "tag": "\ud800"}]})
    response = client.post(
        "/api/v1/querybuilder/", query, content_type="application/json"
    )
    assert response.status_code == 400
    assert "lone surrogate" in response.json()["detail"]


def test_querybuilder_refuses_malformed_path_items_naming_them(client, graph):
    graph.node(INT)
    for item in [
        {},
        {"tag": "n"},
        {"entity_type": 5, "orm_base": "node"},
        {"entity_type": None, "orm_base": "node"},
        {"entity_type": [], "orm_base": "node"},
        {"entity_type": ["data.core.int.Int.", 3], "orm_base": "node"},
        {"orm_base": "node"},
    ]:
        query = {"path": [item]}
        response = client.post("/api/v1/querybuilder/", query, format="json")
        assert response.status_code == 400, item
        assert "path item" in response.json()["detail"], item


def test_query_routes_are_open_reads_unless_the_site_requires_login(
    api_client, graph, settings
):
    node = graph.node(INT, label="n")
    query = {"path": ["node"], "project": {"node": ["label"]}}
    response = api_client.post("/api/v1/querybuilder/", query, format="json")
    assert response.status_code == 200
    assert response.json()["results"] == [{"node": {"label": "n"}}]
    parents = {"pks": [node.pk]}
    response = api_client.post("/api/v1/closest-parents/", parents, format="json")
    assert response.status_code == 200
    settings.AIIDASITE_QUERY_REQUIRES_LOGIN = True
    for route, body in [("querybuilder", query), ("closest-parents", parents)]:
        response = api_client.post(f"/api/v1/{route}/", body, format="json")
        assert response.status_code in (401, 403)


def test_slow_queries_are_cancelled(api_client, graph, settings):
    """Anonymous reads keep the statement timeout."""
    client = api_client
    settings.AIIDASITE_QUERY_TIMEOUT_MS = 1
    for i in range(100):
        graph.node(INT, label=f"n{i}")
    # Joining every node to every node twice over (a million rows), all
    # sorted before the first is served, keeps the database busy well past
    # 1 ms.
    query = {
        "path": [
            {"entity": "node", "tag": "a"},
            {"entity": "user", "tag": "u", "with_node": "a"},
            {"entity": "node", "tag": "b", "with_user": "u"},
            {"entity": "user", "tag": "v", "with_node": "b"},
            {"entity": "node", "tag": "c", "with_user": "v"},
        ],
        "project": {"c": ["id"]},
        "order_by": [{"c": [{"label": "desc"}]}, {"a": ["id"]}],
    }
    # Asked again, the kept statement goes to the driver directly: cancelled
    # all the same.
    for _ in range(2):
        response = client.post("/api/v1/querybuilder/", query, format="json")
        assert response.status_code == 503
        assert "cancelled" in response.json()["detail"]
    assert connection.in_atomic_block  # the test's own transaction survives
    assert services.statistics_get()["total"] == 100


def test_bands_list_formulas_and_filters(api_client, graph):
    structure = graph.structure(["Ga", "As"])
    calc = graph.node(CALCJOB)
    graph.link(structure, calc, "input_calc", "structure")
    bands = graph.node(BANDS, label="b")
    graph.link(calc, bands, "create", "bands")
    graph.group("mine", [bands])
    body = api_client.get("/api/v1/bands/").json()
    assert body["count"] == 1
    (row,) = body["results"]
    assert (row["id"], row["uuid"], row["formula"]) == (
        bands.pk,
        str(bands.uuid),
        "AsGa",
    )
    assert (
        api_client.get("/api/v1/bands/?group=mine&past_days=365").json()["count"] == 1
    )
    assert api_client.get("/api/v1/bands/?past_days=1").json()["count"] == 0
    assert (
        api_client.get(f"/api/v1/bands/?user={graph.user.username}").json()["count"]
        == 1
    )
    assert (
        api_client.get("/api/v1/bands/?all_users=true&user=ghost").json()["count"] == 1
    )
    missing = api_client.get("/api/v1/bands/?group=ghost")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no group 'ghost'"}
    assert api_client.get("/api/v1/bands/?past_days=zero").status_code == 400


def test_closest_parents_by_post(client, graph):
    structure = graph.structure(["Si"])
    calc = graph.node(CALCJOB)
    graph.link(structure, calc, "input_calc", "s")
    outputs = [graph.node(INT) for _ in range(2)]
    for i, output in enumerate(outputs):
        graph.link(calc, output, "create", f"o{i}")
    response = client.post(
        "/api/v1/closest-parents/",
        {"pks": [o.pk for o in outputs], "node_type": "StructureData"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json() == {
        "results": [{"pk": o.pk, "parent": structure.pk} for o in outputs]
    }
    response = client.post(
        "/api/v1/closest-parents/", {"pks": [outputs[0].pk]}, format="json"
    )
    assert response.json()["results"] == [{"pk": outputs[0].pk, "parent": calc.pk}]


def test_closest_parents_refuses_bad_input(client):
    assert (
        client.post("/api/v1/closest-parents/", {"pks": []}, format="json").status_code
        == 400
    )
    assert (
        client.post(
            "/api/v1/closest-parents/", {"pks": ["x"]}, format="json"
        ).status_code
        == 400
    )
    missing = client.post("/api/v1/closest-parents/", {"pks": [987654]}, format="json")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no node with pk 987654"}
    bad_type = client.post(
        "/api/v1/closest-parents/",
        {"pks": [1], "node_type": "Structure"},
        format="json",
    )
    assert bad_type.status_code == 400
    assert "StructureData" in bad_type.json()["detail"]


def test_schema_of_the_query_routes_generates(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    paths = response.json()["paths"]
    assert "/api/v1/querybuilder/" in paths
    assert "/api/v1/closest-parents/" in paths


def test_closest_parents_of_pks_beyond_64_bits_are_missing(api_client):
    for pk in [2**64, 99999999999999999999, -1]:
        response = api_client.post(
            "/api/v1/closest-parents/", {"pks": [pk]}, format="json"
        )
        assert response.status_code == 404
        assert response.json() == {"detail": f"no node with pk {pk}"}
