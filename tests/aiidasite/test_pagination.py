"""Cursor pages over tied values: every row exactly once, in (field, id) order."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from nodes import services, types
from nodes.models import DbGroup, DbLink, DbNode
from nodes.services import NodeSpec

pytestmark = pytest.mark.django_db

TIED = 320


@pytest.fixture
def tied_nodes(user) -> list[int]:
    """Nodes stored in one bulk call: one ctime, one mtime, one label."""
    specs = [NodeSpec(node_type=types.INT, label="same") for _ in range(TIED)]
    specs += [NodeSpec(node_type=types.FLOAT, label="other") for _ in range(5)]
    pks = services.nodes_store_bulk(user=user, nodes=specs)
    assert DbNode.objects.filter(pk__in=pks).values("ctime").distinct().count() == 1
    return pks


def walk(api_client, url: str, direction: str = "next") -> list[int]:
    seen, pages = [], 0
    while url:
        response = api_client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert "count" not in body
        ids = [row["id"] for row in body["results"]]
        seen.extend(ids if direction == "next" else reversed(ids))
        url = body[direction]
        pages += 1
        assert pages <= TIED, "the walk does not end"
    return seen


@pytest.mark.parametrize(
    "ordering",
    [
        *("ctime", "-ctime", "mtime", "-mtime", "label", "-label"),
        *("node_type", "-node_type", "id", "-id"),
    ],
)
def test_walking_tied_nodes_by_next_gives_each_once_in_order(
    api_client, tied_nodes, ordering
):
    seen = walk(api_client, f"/api/v1/nodes/?ordering={ordering}&page_size=7")
    assert sorted(seen) == sorted(tied_nodes)
    field = ordering.lstrip("-")
    rows = {
        node.pk: (getattr(node, field), node.pk)
        for node in DbNode.objects.filter(pk__in=seen)
    }
    expected = sorted(seen, key=rows.__getitem__, reverse=ordering.startswith("-"))
    assert seen == expected


def test_walking_back_by_previous_gives_the_same_rows(api_client, tied_nodes):
    url = "/api/v1/nodes/?ordering=ctime&page_size=9"
    forward = walk(api_client, url)
    last_page = api_client.get(url).json()
    while last_page["next"]:
        last_page = api_client.get(last_page["next"]).json()
    backward = [row["id"] for row in reversed(last_page["results"])]
    backward += walk(api_client, last_page["previous"], direction="previous")
    assert backward == forward[::-1]


def test_filtered_walks_and_links_break_ties_too(api_client, tied_nodes):
    seen = walk(api_client, "/api/v1/nodes/?ordering=-ctime&label=same&page_size=50")
    assert len(seen) == len(set(seen)) == TIED
    source = DbNode.objects.get(pk=tied_nodes[0])
    calcs = services.nodes_store_bulk(
        user=source.user, nodes=[NodeSpec(node_type=types.CALCJOB) for _ in range(30)]
    )
    DbLink.objects.bulk_create(
        DbLink(input=source, output_id=pk, label="x", type="input_calc") for pk in calcs
    )
    url = f"/api/v1/links/?input={source.pk}&ordering=label&page_size=4"
    links = walk(api_client, url)
    assert len(links) == len(set(links)) == 30


def test_ordering_says_which_fields_it_takes(api_client):
    response = api_client.get("/api/v1/nodes/?ordering=attributes")
    assert response.status_code == 400
    detail = response.json()["detail"]
    for name in ("label", "-label", "ctime", "mtime", "node_type", "id"):
        assert name in detail
    response = api_client.get("/api/v1/nodes/?ordering=label,ctime")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "cursor",
    ["junk", "eyJ2IjogMX0=", "W10=", "eyJ2IjpudWxsLCJpZCI6LTEsImIiOmZhbHNlfQ=="],
)
def test_a_cursor_not_written_by_the_site_is_400(api_client, tied_nodes, cursor):
    response = api_client.get(f"/api/v1/nodes/?ordering=ctime&cursor={cursor}")
    assert response.status_code == 400
    assert response.json() == {"detail": "invalid cursor"}


def test_numbered_pages_break_ties_by_id(api_client, user):
    for index in range(12):
        services.group_create(user=user, label=f"g{index}")
    DbGroup.objects.update(time=DbGroup.objects.first().time)
    seen = []
    for page in (1, 2, 3):
        response = api_client.get(
            f"/api/v1/groups/?ordering=-time&page_size=5&page={page}"
        )
        seen += [row["id"] for row in response.json()["results"]]
    assert len(seen) == len(set(seen)) == 12


def count_queries(queries) -> int:
    return sum(query["sql"].startswith("SELECT COUNT(*)") for query in queries)


def test_a_short_last_page_is_counted_from_its_rows(api_client, user):
    for index in range(7):
        services.group_create(user=user, label=f"g{index}")
    with CaptureQueriesContext(connection) as first:
        body = api_client.get("/api/v1/groups/?page_size=5").json()
    assert (body["count"], len(body["results"])) == (7, 5)
    assert count_queries(first.captured_queries) == 1
    with CaptureQueriesContext(connection) as last:
        body = api_client.get("/api/v1/groups/?page_size=5&page=2").json()
    assert (body["count"], len(body["results"]), body["next"]) == (7, 2, None)
    assert body["previous"] is not None
    assert count_queries(last.captured_queries) == 0


def test_a_full_last_page_is_counted(api_client, user):
    for index in range(10):
        services.group_create(user=user, label=f"g{index}")
    body = api_client.get("/api/v1/groups/?page_size=5&page=2").json()
    assert (body["count"], len(body["results"]), body["next"]) == (10, 5, None)


@pytest.mark.parametrize("page", ["3", "last", "0", "x", "9" * 23])
def test_pages_past_the_end_or_malformed_are_404_as_django_answers(
    api_client, user, page
):
    for index in range(7):
        services.group_create(user=user, label=f"g{index}")
    response = api_client.get(f"/api/v1/groups/?page_size=5&page={page}")
    if page == "last":
        assert response.status_code == 200
        assert [r["label"] for r in response.json()["results"]] == ["g5", "g6"]
    else:
        assert response.status_code == 404
        assert response.json() == {"detail": "Invalid page."}


def test_an_empty_table_has_one_empty_page(api_client):
    body = api_client.get("/api/v1/groups/").json()
    assert (body["count"], body["results"], body["next"]) == (0, [], None)
    assert api_client.get("/api/v1/groups/?page=2").status_code == 404


def page_size_routes(pk: int) -> list[tuple[str, str]]:
    """(method, path) of every documented operation taking ``page_size``,
    path parameters set to ``pk``."""
    import re

    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (method.upper(), re.sub(r"{\w+}", str(pk), path))
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if any(p["name"] == "page_size" for p in operation.get("parameters", []))
    ]


def test_bad_page_sizes_are_refused_on_every_list_route(api_client, user):
    api_client.force_authenticate(user)
    node = services.node_store(user=user, node_type=types.INT)
    routes = page_size_routes(node.pk)
    assert ("GET", "/api/v1/nodes/") in routes
    assert ("GET", "/api/v1/groups/") in routes
    assert ("POST", "/api/v1/querybuilder/") in routes
    body = {"path": ["node"]}
    for method, path in routes:
        for text in ("abc", "-1", "0", "1.5", "²", "", "+3"):
            url = f"{path}?page_size={text}"
            if method == "POST":
                response = api_client.post(url, body, format="json")
            else:
                response = api_client.generic(method, url)
            assert response.status_code == 400, (method, url, response.content)
            assert "page_size" in response.json()["detail"], (method, url)


def test_good_page_sizes_are_served_and_large_ones_capped(api_client, user):
    services.nodes_store_bulk(
        user=user, nodes=[NodeSpec(node_type=types.INT) for _ in range(3)]
    )
    for url in ("/api/v1/nodes/?page_size=2", "/api/v1/nodes/?page_size=02"):
        assert len(api_client.get(url).json()["results"]) == 2
    body = api_client.get("/api/v1/nodes/?page_size=" + "9" * 30).json()
    assert len(body["results"]) == 3
    query = {"path": ["node"]}
    response = api_client.post(
        "/api/v1/querybuilder/?page_size=1", query, format="json"
    )
    assert len(response.json()["results"]) == 1
