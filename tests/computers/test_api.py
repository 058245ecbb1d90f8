"""/api/v1/computers/ and the computer of a node."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_list_gives_every_computer_with_its_node_count(api_client, graph):
    response = api_client.get("/api/v1/computers/")
    assert response.status_code == 200
    rows = {row["label"]: row for row in response.json()["results"]}
    assert rows["cluster"]["node_count"] == 2
    assert rows["cluster"]["metadata"] == {"workdir": "/scratch"}
    assert rows["laptop"]["node_count"] == 0


def test_the_list_filters_by_scheduler_and_label(api_client, graph):
    response = api_client.get("/api/v1/computers/?scheduler_type=core.direct")
    assert [row["label"] for row in response.json()["results"]] == ["laptop"]
    response = api_client.get("/api/v1/computers/?label_contains=clus")
    assert [row["label"] for row in response.json()["results"]] == ["cluster"]


def test_a_computer_by_label_pk_or_uuid(api_client, graph):
    computer = graph["computer"]
    for identifier in ("cluster", computer.pk, computer.uuid):
        response = api_client.get(f"/api/v1/computers/{identifier}/")
        assert response.status_code == 200
        assert response.json()["hostname"] == "cluster.example.org"


def test_a_missing_computer_is_404(api_client, graph):
    response = api_client.get("/api/v1/computers/nowhere/")
    assert response.status_code == 404
    assert response.json() == {"detail": "no computer 'nowhere'"}
    for odd in ("a%00b", "%C2%B2", "99999999999999999999999"):
        assert api_client.get(f"/api/v1/computers/{odd}/").status_code == 404


def test_auth_infos_never_reach_the_api(api_client, staff_client, graph):
    for client in (api_client, staff_client):
        for url in ("/api/v1/computers/", "/api/v1/computers/cluster/"):
            assert b"secret" not in client.get(url).content


def test_node_detail_names_its_computer(api_client, graph):
    response = api_client.get(f"/api/v1/nodes/{graph['calc'].pk}/")
    assert response.json()["computer"] == "cluster"
    response = api_client.get(f"/api/v1/nodes/{graph['workflow'].pk}/")
    assert response.json()["computer"] is None
