"""/api/v1/nodes/{id}/logs/."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_a_nodes_logs_in_time_order(api_client, graph):
    response = api_client.get(f"/api/v1/nodes/{graph['calc'].pk}/logs/")
    assert response.status_code == 200
    assert [row["levelname"] for row in response.json()["results"]] == [
        "WARNING",
        "ERROR",
        "INFO",
    ]


def test_the_level_filter_keeps_one_level(api_client, graph):
    response = api_client.get(f"/api/v1/nodes/{graph['calc'].pk}/logs/?levelname=error")
    assert [row["message"] for row in response.json()["results"]] == ["failed"]


def test_an_unknown_level_is_400_and_a_missing_node_404(api_client, graph):
    response = api_client.get(f"/api/v1/nodes/{graph['calc'].pk}/logs/?levelname=X")
    assert response.status_code == 400
    assert "unknown log level" in response.json()["detail"]
    assert api_client.get("/api/v1/nodes/999999/logs/").status_code == 404
