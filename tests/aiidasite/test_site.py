"""The project shell: API root, schema, docs, JSON errors, settings helpers."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from aiidasite import settings as site_settings

pytestmark = pytest.mark.django_db


def test_api_root_lists_schema_and_docs(api_client):
    response = api_client.get("/api/v1/")
    assert response.status_code == 200
    assert response.json()["schema"].endswith("/api/schema/")
    assert response.json()["docs"].endswith("/api/docs/")


def test_openapi_schema_is_served(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "aiidasite API"


def test_docs_page_loads_assets_locally(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assert "cdn" not in page.lower()


def test_unknown_api_route_is_json_404(client, settings):
    settings.DEBUG = False
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_admin_login_page_is_served(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("0", False), ("", True), (None, True)]
)
def test_env_bool_parses_common_spellings(monkeypatch, raw, expected):
    if raw is None:
        monkeypatch.delenv("SOME_FLAG", raising=False)
    else:
        monkeypatch.setenv("SOME_FLAG", raw)
    assert site_settings.env_bool("SOME_FLAG", True) is expected


def test_env_bool_refuses_nonsense(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "perhaps")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG"):
        site_settings.env_bool("SOME_FLAG", False)


def test_env_int_refuses_nonsense(monkeypatch):
    monkeypatch.setenv("SOME_NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured, match="SOME_NUMBER"):
        site_settings.env_int("SOME_NUMBER", 1)


def test_openapi_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    assert "/api/v1/nodes/" in target.read_text()


@pytest.mark.django_db
def test_sqlite_connections_use_wal_and_a_large_page_cache():
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite connection settings")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone()[0] == -64 * 1024
        cursor.execute("PRAGMA journal_mode")
        # The test database lives in memory, which keeps its own journal.
        assert cursor.fetchone()[0] in {"wal", "memory"}
