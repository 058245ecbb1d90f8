"""The settings API over real HTTP requests through DRF's test client."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

from settingsapp.manager import SettingsManager
from settingsapp.models import DbSetting

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(key: str) -> str:
    return f"/api/v1/settings/{quote(key, safe='/')}/"


def test_api_root_links_the_settings_list(api_client):
    assert api_client.get("/api/v1/").json()["settings"].endswith("/api/v1/settings/")


def test_list_is_paginated_and_ordered_by_key(user_client):
    for key in ["b.key", "a.key"]:
        SettingsManager().set(key, key)
    response = user_client.get("/api/v1/settings/")
    assert response.status_code == 200
    body = response.json()
    keys = [item["key"] for item in body["results"]]
    assert keys == sorted(keys)
    assert {"a.key", "b.key"} <= set(keys)
    assert body["count"] == DbSetting.objects.count()


@pytest.mark.parametrize(
    "key",
    [
        "db|other",
        "a.b.c",
        "path/to/key",
        "x|y/z.",
        "q?a#b",
        "spaced key",
        "ünï",
    ],
)
def test_keys_with_bars_dots_and_slashes_are_addressable(staff_client, key):
    response = staff_client.put(url(key), {"value": {"n": 1}}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["key"] == key
    assert staff_client.get(url(key)).json()["value"] == {"n": 1}


def test_get_returns_the_setting(user_client):
    SettingsManager().set("k", [2**70, 1e-300, "é"], description="d")
    body = user_client.get(url("k")).json()
    assert body["key"] == "k"
    assert body["value"] == [2**70, 1e-300, "é"]
    assert body["description"] == "d"
    assert body["time"]


def test_missing_key_is_a_json_404(user_client, staff_client):
    for response in (
        user_client.get(url("missing")),
        staff_client.delete(url("missing")),
    ):
        assert response.status_code == 404
        assert response.json() == {"detail": "no setting with key 'missing'"}


def test_put_creates_then_updates_and_keeps_the_description(staff_client):
    created = staff_client.put(
        url("k"), {"value": 1, "description": "one"}, format="json"
    )
    assert created.status_code == 200
    updated = staff_client.put(url("k"), {"value": None}, format="json")
    assert updated.json()["value"] is None
    assert updated.json()["description"] == "one"
    assert DbSetting.objects.filter(key="k").count() == 1


def test_delete_removes_the_setting(staff_client):
    SettingsManager().set("k", 1)
    assert staff_client.delete(url("k")).status_code == 204
    assert not DbSetting.objects.filter(key="k").exists()


def test_malformed_json_body_is_400_and_changes_nothing(staff_client):
    SettingsManager().set("k", 1)
    response = staff_client.put(
        url("k"), data='{"value": [1,', content_type="application/json"
    )
    assert response.status_code == 400
    assert "detail" in response.json()
    assert SettingsManager().get("k").value == 1


@pytest.mark.parametrize(
    ("key", "body", "field"),
    [
        ("k", {"description": "no value"}, "value"),
        ("k", {"value": 1, "description": ["not", "text"]}, "description"),
        ("k" * 1025, {"value": 1}, "detail"),
        ("  ", {"value": 1}, "detail"),
        ("k", {"value": "a\x00b"}, "detail"),
        ("nul\x00key", {"value": 1}, "detail"),
    ],
)
def test_bad_put_is_400_and_writes_nothing(staff_client, key, body, field):
    count = DbSetting.objects.count()
    response = staff_client.put(url(key), body, format="json")
    assert response.status_code == 400
    if field:
        assert field in response.json()
    assert DbSetting.objects.count() == count


def test_writes_are_for_staff_only(user_client, api_client):
    SettingsManager().set("k", 1)
    assert user_client.get(url("k")).status_code == 200
    assert user_client.put(url("k"), {"value": 2}, format="json").status_code == 403
    assert user_client.delete(url("k")).status_code == 403
    assert api_client.put(url("k"), {"value": 2}, format="json").status_code in {
        401,
        403,
    }
    assert SettingsManager().get("k").value == 1


def test_anonymous_users_cannot_read_settings(api_client):
    SettingsManager().set("k", 1)
    assert api_client.get("/api/v1/settings/").status_code in {401, 403}
    assert api_client.get(url("k")).status_code in {401, 403}


def test_openapi_schema_describes_the_settings_routes(api_client):
    paths = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()[
        "paths"
    ]
    assert set(paths["/api/v1/settings/{key}/"]) >= {"get", "put", "delete"}
    assert "get" in paths["/api/v1/settings/"]
