"""An API request whose database work runs too long gets a 503, not a hung worker."""

from __future__ import annotations

import pytest
from django.db import connection

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
