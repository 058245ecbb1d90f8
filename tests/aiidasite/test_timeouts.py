"""An API request whose database work runs too long gets a 503, not a hung worker."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from nodes.models import DbNode

# Served as in production: no test transaction around the requests, which a
# cancelled statement would abort.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def many_nodes(user):
    DbNode.objects.bulk_create(
        DbNode(node_type="data.core.dict.Dict.", user=user, attributes={"v": i})
        for i in range(50_000)
    )


def test_a_request_over_the_limit_is_a_json_503(many_nodes, api_client, settings):
    settings.AIIDASITE_REQUEST_TIMEOUT_MS = 1
    # A filter no index serves: it reads every row.
    response = api_client.get("/api/v1/nodes/", {"label_contains": "no such label"})
    assert response.status_code == 503, response.content[:300]
    assert "ran longer than the site allows (1 ms)" in response.json()["detail"]
    # The connection serves the next request, with the limit lifted.
    settings.AIIDASITE_REQUEST_TIMEOUT_MS = 0
    assert api_client.get("/api/v1/nodes/", {"page_size": 1}).status_code == 200
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "0"


def test_requests_within_the_limit_are_served(many_nodes, api_client, settings):
    settings.AIIDASITE_REQUEST_TIMEOUT_MS = 60_000
    assert api_client.get("/api/v1/nodes/", {"label_contains": "x"}).status_code == 200


def limit_statements(queries) -> list[str]:
    return [q["sql"] for q in queries if "statement_timeout" in q["sql"]]


def server_limit() -> str | None:
    """PostgreSQL's statement_timeout of the session (None on SQLite)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


def test_api_requests_in_a_row_set_the_limit_once(user, api_client, settings):
    settings.AIIDASITE_REQUEST_TIMEOUT_MS = 20_000
    assert api_client.get("/api/v1/nodes/").status_code == 200
    assert server_limit() in (None, "20s")
    with CaptureQueriesContext(connection) as again:
        assert api_client.get("/api/v1/statistics/").status_code == 200
    assert limit_statements(again) == []
    # Another limit is set anew.
    settings.AIIDASITE_REQUEST_TIMEOUT_MS = 10_000
    assert api_client.get("/api/v1/nodes/").status_code == 200
    assert server_limit() in (None, "10s")


def test_a_request_outside_the_api_runs_without_the_limit(user, api_client, settings):
    settings.AIIDASITE_REQUEST_TIMEOUT_MS = 20_000
    assert api_client.get("/api/v1/nodes/").status_code == 200
    assert api_client.get("/admin/login/").status_code == 200
    assert server_limit() in (None, "0")
    with CaptureQueriesContext(connection) as again:
        assert api_client.get("/admin/login/").status_code == 200
    assert limit_statements(again) == []


def test_a_connection_opened_anew_gets_the_limit(user, api_client, settings):
    settings.AIIDASITE_REQUEST_TIMEOUT_MS = 20_000
    assert api_client.get("/api/v1/nodes/").status_code == 200
    connection.close()
    assert api_client.get("/api/v1/nodes/").status_code == 200
    assert server_limit() in (None, "20s")


def test_a_query_under_the_request_limit_sends_no_limit_of_its_own(
    user, api_client, settings
):
    settings.AIIDASITE_REQUEST_TIMEOUT_MS = 20_000
    query = {"path": [{"entity": "node", "tag": "n"}], "project": {"n": ["id"]}}
    api_client.get("/api/v1/nodes/")
    settings.AIIDASITE_QUERY_TIMEOUT_MS = 20_000
    with CaptureQueriesContext(connection) as same:
        response = api_client.post("/api/v1/querybuilder/", query, format="json")
    assert response.status_code == 200
    assert limit_statements(same) == []
    settings.AIIDASITE_QUERY_TIMEOUT_MS = 5_000
    with CaptureQueriesContext(connection) as tighter:
        response = api_client.post("/api/v1/querybuilder/", query, format="json")
    assert response.status_code == 200
    expected = ["SET LOCAL statement_timeout = 5000"]
    assert limit_statements(tighter) == (
        expected if connection.vendor == "postgresql" else []
    )
