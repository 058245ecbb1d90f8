"""``manage.py setting`` and ``manage.py schema`` through call_command."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from settingsapp.manager import SettingsManager
from settingsapp.models import DbSetting

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"a": [1, 2.5, null]}', {"a": [1, 2.5, None]}),
        ("1180591620717411303424", 2**70),
        ("1e-300", 1e-300),
        ("true", True),
        ("null", None),
        ('"quoted"', "quoted"),
        ("plain words", "plain words"),
        ("NaN", "NaN"),
        ("ünï", "ünï"),
    ],
)
def test_set_parses_json_and_falls_back_to_a_string(text, value):
    run("setting", "set", "k", text)
    assert SettingsManager().get("k").value == value


def test_set_with_description_then_get_as_json():
    run("setting", "set", "a|b/c.d", "[1, 2]", "--description", "pair")
    data = json.loads(run("setting", "get", "a|b/c.d", "--format", "json"))
    assert data["key"] == "a|b/c.d"
    assert data["value"] == [1, 2]
    assert data["description"] == "pair"
    assert data["time"]


def test_get_prints_the_value_as_json():
    SettingsManager().set("k", {"x": "é"})
    assert run("setting", "get", "k").strip() == '{"x": "é"}'


def test_list_shows_every_setting_in_text_and_json():
    SettingsManager().set("list.one", 1, description="first")
    SettingsManager().set("list.two", "two")
    text = run("setting", "list")
    assert "list.one" in text
    assert "[first]" in text
    data = json.loads(run("setting", "list", "--format", "json"))
    by_key = {item["key"]: item for item in data}
    assert by_key["list.two"]["value"] == "two"
    assert len(data) == DbSetting.objects.count()


def test_delete_removes_and_dry_run_keeps():
    SettingsManager().set("k", 1)
    assert "would delete k" in run("setting", "delete", "k", "--dry-run")
    assert DbSetting.objects.filter(key="k").exists()
    assert "deleted k" in run("setting", "delete", "k")
    assert not DbSetting.objects.filter(key="k").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("get", "missing"), "no setting with key 'missing'"),
        (("delete", "missing"), "no setting with key 'missing'"),
        (("delete", "missing", "--dry-run"), "no setting with key 'missing'"),
        (("set", "", "1"), "must not be empty"),
        (("set", "k" * 1025, "1"), "at most 1024"),
        (("set", "k", "{bad json"), "not valid JSON"),
        (("set", "k", "[1, 2"), "not valid JSON"),
        (("--database", "nope", "list"), "connection 'nope' doesn't exist"),
    ],
)
def test_bad_input_is_one_command_error_and_changes_nothing(args, message):
    count = DbSetting.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("setting", *args)
    assert DbSetting.objects.count() == count


def test_schema_status_reports_a_current_database():
    text = run("schema", "status")
    assert text.startswith("state: current")
    assert "settingsapp" in text
    data = json.loads(run("schema", "status", "--format", "json"))
    assert data["state"] == "current"
    assert data["code_version"] == data["database_version"]
    assert data["unapplied"] == []


@pytest.mark.django_db(transaction=True)
def test_schema_migrate_on_a_current_database_applies_nothing():
    text = run("schema", "migrate")
    assert "applied 0 migration(s)" in text
    assert "settingsapp: 0001_initial" in text
    data = json.loads(run("schema", "status", "--format", "json"))
    assert data["recorded_version"] == data["code_version"]


def test_schema_status_of_an_unknown_database_is_one_error():
    with pytest.raises(CommandError, match="connection 'nope' doesn't exist"):
        call_command("schema", "--database", "nope", "status")
