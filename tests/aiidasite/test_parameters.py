"""Unknown query parameters and body keys are refused, naming them."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from aiidasite.parameters import MAX_JSON_DEPTH, json_depth, operations
from nodes import services, types
from nodes.models import DbNode

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create(username="staff", is_staff=True)


@pytest.fixture
def client(staff) -> APIClient:
    client = APIClient()
    client.force_authenticate(staff)
    return client


@pytest.fixture
def node(staff) -> DbNode:
    return services.node_store(user=staff, node_type=types.INT, attributes={"v": 1})


def refused(response, *names: str) -> str:
    assert response.status_code == 400, response.content
    detail = response.json()["detail"]
    for name in names:
        assert name in detail
    return detail


def test_unknown_query_parameter_is_named_with_the_accepted_ones(client):
    detail = refused(client.get("/api/v1/nodes/?group=g&node_type=Int"), "group")
    assert "node_type" in detail and "ctime_after" in detail and "cursor" in detail
    assert "node_type" not in detail.split("(")[0]


def test_parameters_of_other_methods_and_routes_are_unknown(client, node):
    refused(client.get(f"/api/v1/nodes/{node.pk}/?dry_run=true"), "dry_run")
    refused(client.get("/api/v1/statistics/?past_days=3"), "past_days")
    refused(client.get("/api/v1/groups/1/nodes/?label=x"), "label")
    assert DbNode.objects.filter(pk=node.pk).exists()


def test_documented_parameters_and_format_are_accepted(client, node):
    assert client.get("/api/v1/nodes/?format=json&page_size=5").status_code == 200
    assert client.get("/api/v1/links/?input=1&type=create").status_code == 200
    assert client.get("/api/v1/bands/?page=1&page_size=10").status_code == 200
    assert client.get("/api/v1/groups/?ordering=label&page=1").status_code == 200


def test_unknown_body_key_is_refused_and_changes_nothing(client, node):
    response = client.patch(
        f"/api/v1/nodes/{node.pk}/", {"label": "x", "lable": "y"}, format="json"
    )
    refused(response, "lable")
    node.refresh_from_db()
    assert node.label == ""


def test_closest_parents_refuses_type_for_node_type(client, node):
    response = client.post(
        "/api/v1/closest-parents/",
        {"pks": [node.pk], "type": "StructureData"},
        format="json",
    )
    refused(response, "type", "node_type")


def test_read_only_fields_are_not_body_keys(client):
    response = client.post("/api/v1/groups/", {"label": "g", "id": 7}, format="json")
    refused(response, "id")
    response = client.post("/api/v1/groups/", {"label": "g"}, format="json")
    assert response.status_code == 201


def test_setting_write_refuses_a_misspelt_key(client):
    response = client.put("/api/v1/settings/k/", {"val": 1}, format="json")
    refused(response, "val", "value")


def test_multipart_fields_are_checked_and_files_are_not(client):
    response = client.post(
        "/api/v1/nodes/",
        {"node_type": "Int", "colour": "red"},
        format="multipart",
    )
    refused(response, "colour")
    response = client.post(
        "/api/v1/nodes/",
        {
            "node_type": "FolderData",
            "a.txt": SimpleUploadedFile("a.txt", b"hello"),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content


def test_every_body_taking_operation_documents_its_body():
    # An undocumented body could not be checked: its keys would be ignored.
    for (view, method), operation in operations().items():
        if method in ("POST", "PUT", "PATCH"):
            assert operation.body, f"{method} {view.__name__} documents no body"


def test_too_deep_json_body_is_refused_before_any_walk(client, node):
    deep: object = 1
    for _ in range(MAX_JSON_DEPTH + 1):
        deep = [deep]
    response = client.patch(
        f"/api/v1/nodes/{node.pk}/", {"extras": {"x": deep}}, format="json"
    )
    refused(response, "nested deeper")
    text = "[" * 100_000 + "]" * 100_000
    response = client.patch(
        f"/api/v1/nodes/{node.pk}/", text, content_type="application/json"
    )
    refused(response, "nested deeper")


def test_json_depth_counts_levels_without_recursion():
    assert json_depth(1) == 0
    assert json_depth({}) == 1
    assert json_depth({"a": [1, {"b": []}]}) == 4
    deep: object = []
    for _ in range(50_000):
        deep = [deep]
    assert json_depth(deep) == 50_001


def test_nul_in_a_query_string_is_400_on_every_database(client):
    for url in ("/api/v1/nodes/?label=a%00b", "/api/v1/archives/?group=%00"):
        refused(client.get(url), "NUL")
    refused(client.get("/api/v1/bands/?group=g&group=a%00"), "NUL")
