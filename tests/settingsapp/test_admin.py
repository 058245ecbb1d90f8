"""The settings admin: search by key, indented JSON, editable description."""

from __future__ import annotations

import pytest
from django.test import Client

from settingsapp.manager import SettingsManager
from settingsapp.models import DbSetting

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(django_user_model) -> Client:
    admin = django_user_model.objects.create_superuser("root", "root@x.org", "pw")
    client = Client()
    client.force_login(admin)
    return client


def test_changelist_searches_by_key(admin_client_):
    SettingsManager().set("findme.key", 1)
    SettingsManager().set("other.key", 2)
    page = admin_client_.get("/admin/settingsapp/dbsetting/", {"q": "findme"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "findme.key" in text
    assert "other.key" not in text


def test_change_page_shows_the_value_indented(admin_client_):
    SettingsManager().set("pretty", {"b": [1, 2], "a": "é"})
    row = DbSetting.objects.get(key="pretty")
    page = admin_client_.get(f"/admin/settingsapp/dbsetting/{row.pk}/change/")
    assert page.status_code == 200
    assert "{\n  &quot;a&quot;: &quot;é&quot;,\n  &quot;b&quot;: [" in (
        page.content.decode()
    )


def test_description_is_editable(admin_client_):
    SettingsManager().set("k", {"v": 2**70})
    row = DbSetting.objects.get(key="k")
    response = admin_client_.post(
        f"/admin/settingsapp/dbsetting/{row.pk}/change/",
        {"val": '{"v": 1180591620717411303424}', "description": "edited"},
    )
    assert response.status_code == 302
    setting = SettingsManager().get("k")
    assert setting.description == "edited"
    assert setting.value == {"v": 2**70}


def test_add_form_refuses_invalid_json_and_empty_key(admin_client_):
    count = DbSetting.objects.count()
    page = admin_client_.post(
        "/admin/settingsapp/dbsetting/add/", {"key": " ", "val": "{bad"}
    )
    assert page.status_code == 200
    assert page.context["adminform"].form.errors.keys() >= {"key", "val"}
    assert DbSetting.objects.count() == count


def test_add_then_delete_from_the_admin(admin_client_):
    response = admin_client_.post(
        "/admin/settingsapp/dbsetting/add/",
        {"key": "added.key", "val": '{"n": 1}', "description": "from the admin"},
    )
    assert response.status_code == 302
    row = DbSetting.objects.get(key="added.key")
    assert response.url == "/admin/settingsapp/dbsetting/"
    setting = SettingsManager().get("added.key")
    assert (setting.value, setting.description) == ({"n": 1}, "from the admin")
    assert setting.time is not None

    page = admin_client_.post(
        f"/admin/settingsapp/dbsetting/{row.pk}/delete/", {"post": "yes"}
    )
    assert page.status_code == 302
    assert "added.key" not in SettingsManager()


def test_bulk_delete_action_removes_the_chosen_settings(admin_client_):
    for key in ("a.one", "a.two", "b.kept"):
        SettingsManager().set(key, 0)
    chosen = DbSetting.objects.filter(key__startswith="a.").values_list("pk", flat=True)
    response = admin_client_.post(
        "/admin/settingsapp/dbsetting/",
        {"action": "delete_selected", "_selected_action": list(chosen), "post": "yes"},
    )
    assert response.status_code == 302
    keys = {s.key for s in SettingsManager().all()}
    assert "b.kept" in keys and not keys & {"a.one", "a.two"}
