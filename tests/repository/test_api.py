"""GET /api/v1/repository/: repository info for staff."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from repository import get_backend

pytestmark = pytest.mark.django_db

URL = "/api/v1/repository/"


def test_the_route_is_named_repository_info():
    assert reverse("repository-info") == URL


def test_staff_sees_the_repository_info(staff_client, configured_repository):
    get_backend().put_objects_from_bytes([b"a", b"b", b"c"])
    response = staff_client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["Objects"]["packed"] == 3
    assert body["uuid"] == get_backend().uuid
    assert body["SHA-hash algorithm"] == "sha256"
    assert "Size (MB)" not in body


def test_detailed_info_includes_sizes(staff_client, configured_repository):
    get_backend().put_object_from_filelike(io.BytesIO(b"x" * 3 * 2**20))
    body = staff_client.get(URL, {"detailed": "true"}).json()
    assert body["Size (MB)"]["total_size_loose"] == 3.0


def test_a_bad_detailed_value_is_a_400(staff_client, configured_repository):
    response = staff_client.get(URL, {"detailed": "maybe"})
    assert response.status_code == 400
    assert "detailed" in response.json()


def test_anonymous_users_are_refused(api_client):
    response = api_client.get(URL)
    assert response.status_code == 403
    assert "detail" in response.json()


def test_non_staff_users_are_refused(api_client, user):
    api_client.force_authenticate(user)
    assert api_client.get(URL).status_code == 403


def test_the_api_root_lists_the_repository(api_client):
    assert api_client.get("/api/v1/").json()["repository"].endswith(URL)


def test_the_schema_documents_the_route(staff_client):
    response = staff_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert URL in response.json()["paths"]
