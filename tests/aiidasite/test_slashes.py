"""API paths without their trailing slash are served as the slashed route,
whatever DEBUG says: never a redirect (a followed 301 turns a POST into a
GET and loses the write), never an HTML page."""

from __future__ import annotations

import pytest

from nodes.models import DbGroup, DbNode

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[True, False], ids=["debug", "production"])
def debug(request, settings) -> bool:
    settings.DEBUG = request.param
    return request.param


def test_writes_without_the_slash_are_served(debug, staff_client):
    response = staff_client.post("/api/v1/nodes", {"node_type": "Int"}, format="json")
    assert response.status_code == 201, response.content
    assert response["Content-Type"].startswith("application/json")
    assert DbNode.objects.count() == 1
    response = staff_client.post("/api/v1/groups", {"label": "g"}, format="json")
    assert response.status_code == 201, response.content
    group = DbGroup.objects.get(label="g")
    response = staff_client.delete(f"/api/v1/groups/{group.pk}")
    assert response.status_code == 204, response.content
    assert not DbGroup.objects.filter(pk=group.pk).exists()


def test_reads_without_the_slash_are_served_with_slashed_links(debug, staff_client):
    staff_client.post("/api/v1/nodes/", {"node_type": "Int"}, format="json")
    staff_client.post("/api/v1/nodes/", {"node_type": "Int"}, format="json")
    response = staff_client.get("/api/v1/nodes?page_size=1")
    assert response.status_code == 200, response.content
    assert "/api/v1/nodes/?" in response.json()["next"]
    query = {"path": ["node"]}
    response = staff_client.post("/api/v1/querybuilder", query, format="json")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 2


def test_paths_that_are_no_route_slashed_or_not_stay_json_404(debug, staff_client):
    for path in ("/api/v1/nowhere", "/api/v1/nowhere/"):
        response = staff_client.post(path, {}, format="json")
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")


def test_pages_outside_the_api_keep_django_redirect(client):
    response = client.get("/admin")
    assert response.status_code == 301
    assert response["Location"] == "/admin/"
