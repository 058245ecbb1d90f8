"""Every error body has a "detail"; the schema documents the error statuses."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_field_errors_keep_their_keys_and_gain_a_detail(client):
    response = client.post("/api/v1/nodes/", {"attributes": "{}"}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "node_type: This field is required."
    assert body["node_type"] == ["This field is required."]


def test_a_body_that_is_not_json_is_a_detail(client):
    response = client.generic(
        "POST", "/api/v1/nodes/", b"{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


@pytest.fixture
def schema(api_client) -> dict:
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def responses(schema: dict, path: str, method: str) -> dict:
    return schema["paths"][path][method]["responses"]


@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        ("/api/v1/nodes/", "get", {"200", "400", "403", "404", "429", "503"}),
        ("/api/v1/nodes/", "post", {"201", "400", "403", "404", "409", "413"}),
        ("/api/v1/nodes/{identifier}/", "patch", {"200", "400", "403", "404", "409"}),
        ("/api/v1/nodes/{identifier}/", "delete", {"200", "400", "403", "404", "409"}),
        ("/api/v1/groups/", "post", {"201", "400", "403", "409", "413"}),
        ("/api/v1/settings/{key}/", "put", {"200", "400", "403", "404", "409"}),
    ],
)
def test_error_statuses_are_documented(schema, path, method, codes):
    documented = responses(schema, path, method)

    assert codes <= set(documented)
    error = documented["400"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/Error"}
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail"]


def page_schema(schema: dict, path: str) -> dict:
    ok = responses(schema, path, "get")["200"]["content"]["application/json"]
    name = ok["schema"]["$ref"].rsplit("/", 1)[-1]
    return schema["components"]["schemas"][name]


def test_the_node_list_page_has_no_count_and_a_groups_members_page_has(schema):
    nodes = page_schema(schema, "/api/v1/nodes/")
    members = page_schema(schema, "/api/v1/groups/{id}/nodes/")

    assert "count" not in nodes["properties"]
    assert "count" in members["properties"]


def test_bands_are_documented_as_a_numbered_page(schema, api_client):
    bands = page_schema(schema, "/api/v1/bands/")
    answer = api_client.get("/api/v1/bands/").json()

    assert set(bands["properties"]) == {"count", "next", "previous", "results"}
    assert set(answer) == set(bands["properties"])
