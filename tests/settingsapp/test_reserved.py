"""The schema manager's own settings: nobody else writes them, bad values are
reported with the command that repairs them."""

from __future__ import annotations

import json
from io import StringIO
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from rest_framework.test import APIClient

from settingsapp.manager import RESERVED_KEYS, SettingsManager
from settingsapp.models import DbSetting
from settingsapp.schema import SCHEMA_GENERATION, BackendManager, SchemaState
from tests.settingsapp.conftest import Scratch, scratch  # noqa: F401

pytestmark = pytest.mark.django_db

RESERVED = sorted(RESERVED_KEYS)
HOSTILE_VALUES = [99, "abc", -1, None, 1.5, True]


@pytest.fixture(autouse=True)
def migrated_settings():
    """The test database's schema settings, as a migrate leaves them."""
    BackendManager().record_schema_version()


def stored() -> dict:
    return dict(DbSetting.objects.values_list("key", "val"))


def store_by_sql(key: str, value) -> None:
    # What a hand edit or an older release could have left behind.
    DbSetting.objects.filter(key=key).update(val=value)


@pytest.mark.parametrize("key", RESERVED)
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_the_api_refuses_to_write_schema_keys(staff_client, key, value):
    before = stored()
    url = f"/api/v1/settings/{quote(key, safe='/')}/"

    put = staff_client.put(url, {"value": value}, format="json")
    delete = staff_client.delete(url)

    for response in (put, delete):
        assert response.status_code == 400
        assert "belongs to the schema manager" in response.json()["detail"]
    assert stored() == before
    assert staff_client.get(url).status_code == 200


@pytest.mark.parametrize("key", RESERVED)
def test_the_setting_command_refuses_to_write_schema_keys(key):
    before = stored()

    for args in (("set", key, "99"), ("set", key, '"abc"'), ("delete", key)):
        with pytest.raises(CommandError, match="belongs to the schema manager"):
            call_command("setting", *args)

    assert stored() == before


@pytest.fixture
def admin_client_(django_user_model) -> Client:
    admin = django_user_model.objects.create_superuser("root", "root@x.org", "pw")
    client = Client()
    client.force_login(admin)
    return client


@pytest.mark.parametrize("key", RESERVED)
def test_the_admin_shows_schema_keys_but_does_not_write_them(admin_client_, key):
    before = stored()
    row = DbSetting.objects.get(key=key)
    page = f"/admin/settingsapp/dbsetting/{row.pk}/"

    added = admin_client_.post(
        "/admin/settingsapp/dbsetting/add/", {"key": key, "val": "99"}
    )
    changed = admin_client_.post(f"{page}change/", {"val": "99", "description": ""})
    deleted = admin_client_.post(f"{page}delete/", {"post": "yes"})
    bulk = admin_client_.post(
        "/admin/settingsapp/dbsetting/",
        {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
    )

    assert added.status_code == 200
    assert "belongs to the schema manager" in added.content.decode()
    assert admin_client_.get(f"{page}change/").status_code == 200
    assert changed.status_code == 403
    assert deleted.status_code == 403
    assert bulk.status_code == 403
    assert stored() == before


def test_the_schema_manager_still_writes_its_keys():
    backend = BackendManager()

    backend.set_schema_generation_database(SCHEMA_GENERATION)

    assert SettingsManager().get("schema_generation").value == SCHEMA_GENERATION


@pytest.mark.parametrize("value", ["abc", -1, 0, None, 1.5, True, [1], {"g": 1}])
def test_a_stored_generation_that_is_no_number_is_reported_then_repaired(value):
    store_by_sql("schema_generation", value)

    with pytest.raises(SystemCheckError) as error:
        call_command("check")
    message = str(error.value)
    assert "settingsapp.E005" in message
    assert "python manage.py schema repair" in message
    with pytest.raises(CommandError, match="schema repair"):
        call_command("schema", "status")

    out = StringIO()
    call_command("schema", "repair", stdout=out)

    assert f"recorded schema generation {SCHEMA_GENERATION}" in out.getvalue()
    assert stored()["schema_generation"] == SCHEMA_GENERATION
    assert BackendManager().status().state is SchemaState.CURRENT
    call_command("check")


def test_a_generation_set_ahead_by_hand_is_reported_with_the_repair():
    store_by_sql("schema_generation", 99)

    with pytest.raises(SystemCheckError) as error:
        call_command("check")
    assert "settingsapp.E001" in str(error.value)
    assert "python manage.py schema repair" in str(error.value)

    call_command("schema", "repair", stdout=StringIO())

    assert stored()["schema_generation"] == SCHEMA_GENERATION
    call_command("check")


def test_a_bad_stored_version_is_recorded_anew_by_repair():
    store_by_sql("db|schemaversion", "abc")

    call_command("schema", "repair", stdout=StringIO())

    assert stored()["db|schemaversion"] == BackendManager().get_schema_version_applied()


def test_requests_get_a_json_503_naming_the_repair():
    store_by_sql("schema_generation", "abc")

    response = APIClient().get("/api/v1/nodes/")

    assert response.status_code == 503
    assert "python manage.py schema repair" in response.json()["detail"]


@pytest.mark.slow
def test_the_repair_command_runs_where_every_other_command_refuses(
    scratch: Scratch,  # noqa: F811
):
    scratch.sql(
        "UPDATE db_dbsetting SET val = '\"abc\"' WHERE key = 'schema_generation'"
    )

    refused = scratch.manage("setting", "list")
    repaired = scratch.manage("schema", "repair")
    listing = scratch.manage("setting", "list", "--format", "json")

    assert refused.returncode == 1
    assert "settingsapp.E005" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert repaired.returncode == 0, repaired.stderr
    assert listing.returncode == 0, listing.stderr
    values = {item["key"]: item["value"] for item in json.loads(listing.stdout)}
    assert values["schema_generation"] == SCHEMA_GENERATION
