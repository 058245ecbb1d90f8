"""The server refuses requests on a database whose schema is newer than the code."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

MIDDLEWARE = "settingsapp.middleware.SchemaVersionMiddleware"


@pytest.fixture
def guarded(settings) -> None:
    settings.MIDDLEWARE = [MIDDLEWARE, *settings.MIDDLEWARE]


def test_requests_pass_on_a_current_database(guarded):
    assert APIClient().get("/api/v1/").status_code == 200


def test_requests_are_refused_on_a_newer_database(guarded):
    MigrationRecorder(connection).record_applied("nodes", "9999_from_the_future")
    client = APIClient()
    for path in ("/api/v1/", "/admin/login/"):
        response = client.get(path)
        assert response.status_code == 503
        assert "9999_from_the_future" in response.json()["detail"]
