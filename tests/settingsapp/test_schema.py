"""Schema version, the system check, and the refusal of a newer database."""

from __future__ import annotations

import functools

import pytest
from django.core.checks import Error, Warning
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from aiidasite.exceptions import IncompatibleDatabaseSchema, NotExistent
from settingsapp.checks import check_schema_version
from settingsapp.schema import (
    SCHEMA_GENERATION,
    SCHEMA_VERSION_KEY,
    BackendManager,
    SchemaState,
    default_schema_apps,
)

pytestmark = pytest.mark.django_db

FUTURE = ("settingsapp", "9999_from_a_newer_release")


@pytest.fixture
def backend() -> BackendManager:
    return BackendManager()


def _forget(app: str, name: str) -> None:
    MigrationRecorder(connection).migration_qs.filter(app=app, name=name).delete()


def test_project_apps_are_those_beside_manage_py():
    labels = default_schema_apps()
    assert {"settingsapp", "nodes"} <= set(labels)
    assert "auth" not in labels
    assert "rest_framework" not in labels


def test_code_version_is_the_leaf_of_each_project_app(backend):
    version = backend.get_schema_version_code()
    graph = MigrationLoader(None).graph
    assert version["settingsapp"] == "0001_initial"
    assert version["nodes"] == graph.leaf_nodes("nodes")[0][1]


def test_migrated_database_is_current_and_records_its_version(backend):
    status = backend.status()
    assert status.state is SchemaState.CURRENT
    assert status.database_version == status.code_version
    # The post_migrate receiver wrote it while the test database was built.
    assert backend.get_schema_version_database() == status.code_version
    assert backend.get_schema_generation_database() == SCHEMA_GENERATION
    assert not backend.is_database_schema_ahead()
    assert not backend.is_database_schema_behind()
    backend.validate_schema()


def test_set_schema_version_database_is_read_back(backend):
    backend.set_schema_version_database({"settingsapp": "0001_initial"})
    assert backend.get_schema_version_database() == {"settingsapp": "0001_initial"}
    assert backend.get_settings_manager().get(SCHEMA_VERSION_KEY).value == {
        "settingsapp": "0001_initial"
    }


def test_unknown_applied_migration_makes_the_database_ahead(backend):
    MigrationRecorder(connection).record_applied(*FUTURE)
    status = backend.status()
    assert status.state is SchemaState.AHEAD
    assert status.unknown == [FUTURE]
    assert backend.is_database_schema_ahead()
    with pytest.raises(IncompatibleDatabaseSchema, match="9999_from_a_newer_release"):
        backend.validate_schema()


def test_unknown_migration_of_another_project_app_counts_too(backend):
    MigrationRecorder(connection).record_applied("nodes", "9999_later")
    assert backend.is_database_schema_ahead()


def test_migrations_of_apps_outside_the_project_are_ignored(backend):
    MigrationRecorder(connection).record_applied("someone_else", "0001_initial")
    assert backend.status().state is SchemaState.CURRENT


def test_newer_generation_makes_the_database_ahead(backend):
    backend.set_schema_generation_database(SCHEMA_GENERATION + 1)
    status = backend.status()
    assert status.state is SchemaState.AHEAD
    assert "generation" in status.describe()


def test_check_is_an_error_when_the_database_is_ahead():
    MigrationRecorder(connection).record_applied(*FUTURE)
    messages = check_schema_version(databases=["default"])
    assert [message.id for message in messages] == ["settingsapp.E001"]
    assert isinstance(messages[0], Error)
    assert "newer than this code" in messages[0].msg


def test_check_is_a_warning_when_the_database_is_behind(backend):
    _forget("settingsapp", "0001_initial")
    assert backend.status().state is SchemaState.BEHIND
    assert backend.is_database_schema_behind()
    messages = check_schema_version(databases=["default"])
    assert [message.id for message in messages] == ["settingsapp.W001"]
    assert isinstance(messages[0], Warning)
    assert "manage.py migrate" in messages[0].hint


def test_check_is_an_error_when_the_generation_needs_a_reset(monkeypatch):
    # Code one generation ahead of the database (generations start at 1).
    newer_code = functools.partial(BackendManager, generation=SCHEMA_GENERATION + 1)
    monkeypatch.setattr("settingsapp.checks.BackendManager", newer_code)
    BackendManager().set_schema_generation_database(SCHEMA_GENERATION)
    messages = check_schema_version(databases=["default"])
    assert [message.id for message in messages] == ["settingsapp.E002"]
    assert "schema migrate" in messages[0].hint


def test_check_is_silent_on_a_current_database():
    assert check_schema_version(databases=["default"]) == []


def test_check_is_silent_without_the_settings_table(backend):
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE db_dbsetting")
    assert backend.get_schema_version_database() is None
    assert check_schema_version(databases=["default"]) == []


def test_commands_refuse_to_run_on_a_newer_database():
    MigrationRecorder(connection).record_applied(*FUTURE)
    with pytest.raises(SystemCheckError, match=r"settingsapp\.E001"):
        call_command("setting", "list", skip_checks=False)
    with pytest.raises(SystemCheckError, match=r"settingsapp\.E001"):
        call_command("check")


def test_migrate_refuses_a_newer_database(backend):
    MigrationRecorder(connection).record_applied(*FUTURE)
    with pytest.raises(IncompatibleDatabaseSchema, match="newer than this code"):
        backend.migrate()


def test_schema_version_reset_is_not_defined_for_the_first_generation(backend):
    with pytest.raises(NotExistent, match="generation 1"):
        backend.get_schema_version_reset(1)
