"""SettingsManager against the real test database (SQLite or PostgreSQL)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection

from aiidasite.exceptions import InputValidationError, NotExistent
from settingsapp.manager import Setting, SettingsManager
from settingsapp.models import KEY_MAX_LENGTH, DbSetting
from settingsapp.schema import BackendManager

pytestmark = pytest.mark.django_db

ROUND_TRIP_VALUES = [
    None,
    True,
    0,
    -17,
    2**70,
    -(2**100) + 1,
    1.0,
    0.1 + 0.2,
    1e-300,
    1e300,
    5e-324,
    -2.5e17,
    "",
    "plain",
    "ünïcødé ✓ 漢字 🎉",
    [],
    {},
    [1, "two", 3.5, None, [False, {"deep": [2**64]}]],
    {"nested": {"list": [1e-10, {"x": None}], "big": 2**70, "s": "é"}},
]


@pytest.fixture
def manager() -> SettingsManager:
    return SettingsManager()


@pytest.mark.parametrize("value", ROUND_TRIP_VALUES, ids=repr)
def test_values_round_trip_exactly(manager, value):
    manager.set("round.trip", value)
    stored = manager.get("round.trip").value
    assert stored == value
    assert type(stored) is type(value)
    assert _types(stored) == _types(value)


def _types(value):
    """The type tree of a value: equality alone says 1 == 1.0 == True."""
    if isinstance(value, dict):
        return {key: _types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_types(item) for item in value]
    return type(value).__name__


def test_get_returns_key_value_description_and_time(manager):
    before = datetime.datetime.now(datetime.UTC)
    manager.set("a.b", [1, 2], description="two numbers")
    setting = manager.get("a.b")
    assert isinstance(setting, Setting)
    assert (setting.key, setting.value, setting.description) == (
        "a.b",
        [1, 2],
        "two numbers",
    )
    assert setting.time >= before


def test_get_missing_key_raises_not_existent(manager):
    with pytest.raises(NotExistent, match="no-such-key"):
        manager.get("no-such-key")


def test_set_updates_value_and_time_but_keeps_description(manager):
    first = manager.set("k", 1, description="kept")
    second = manager.set("k", {"now": "a dict"})
    assert second.value == {"now": "a dict"}
    assert second.description == "kept"
    assert second.time >= first.time
    assert DbSetting.objects.filter(key="k").count() == 1


def test_set_with_description_replaces_it(manager):
    manager.set("k", 1, description="old")
    assert manager.set("k", 1, description="new").description == "new"
    assert manager.set("k", 1, description="").description == ""


@pytest.mark.parametrize("description", [None, "described"])
def test_set_returns_what_get_returns(manager, description):
    manager.set("x|y/z.w", 0, description="before")
    value = {"a": [1, 2**70]}
    stored = manager.set("x|y/z.w", value, description=description)
    value["a"].append("changed after the call")
    assert stored == manager.get("x|y/z.w")
    assert stored.value == {"a": [1, 2**70]}


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("k" * (KEY_MAX_LENGTH + 1), "at most 1024"),
        ("tab\there", "control character"),
        (None, "must be a string"),
        ("lone\ud800surrogate", "surrogate"),
    ],
)
def test_set_refuses_bad_keys_and_writes_nothing(manager, key, message):
    with pytest.raises(InputValidationError, match=message):
        manager.set(key, 1)
    assert (
        not DbSetting.objects.exclude(key__startswith="db|")
        .exclude(key="schema_generation")
        .exists()
    )


def test_key_of_the_maximum_length_is_accepted(manager):
    key = "k" * KEY_MAX_LENGTH
    manager.set(key, 1)
    assert manager.get(key).value == 1


@pytest.mark.parametrize("value", [float("nan"), {"a": float("inf")}, (1, 2), b"x"])
def test_set_refuses_values_that_are_not_json(manager, value):
    with pytest.raises(InputValidationError):
        manager.set("k", value)
    assert "k" not in manager


def test_set_refuses_nul_which_postgres_cannot_store(manager):
    with pytest.raises(InputValidationError, match="NUL"):
        manager.set("k", {"text": "a\x00b"})
    assert "k" not in manager


@pytest.mark.parametrize("description", [3, "nul\x00inside"])
def test_set_refuses_a_description_that_is_not_storable_text(manager, description):
    with pytest.raises(InputValidationError, match="description"):
        manager.set("k", 1, description=description)
    assert "k" not in manager


def test_delete_removes_the_row(manager):
    manager.set("gone", 1)
    manager.delete("gone")
    assert not DbSetting.objects.filter(key="gone").exists()
    with pytest.raises(NotExistent):
        manager.get("gone")


def test_delete_missing_key_raises_not_existent(manager):
    count = DbSetting.objects.count()
    with pytest.raises(NotExistent, match="missing"):
        manager.delete("missing")
    assert DbSetting.objects.count() == count


def test_all_and_iteration_are_ordered_by_key(manager):
    for key in ["b", "a", "c"]:
        manager.set(key, key)
    keys = [setting.key for setting in manager.all()]
    assert [key for key in keys if key in "abc"] == ["a", "b", "c"]
    assert [setting.key for setting in manager] == keys


def test_table_existence_is_validated_with_a_hint_to_migrate(manager):
    manager.validate_table_existence()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE db_dbsetting")
    with pytest.raises(NotExistent, match=r"manage\.py migrate"):
        manager.validate_table_existence()


def test_backend_manager_hands_out_the_settings_manager(manager):
    manager.set("shared", 42)
    assert BackendManager().get_settings_manager().get("shared").value == 42
