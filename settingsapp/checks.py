"""System checks: refuse to run on a database whose schema is newer than the code.

Django runs these before every management command and before ``runserver``;
``migrate`` runs them too, so a database *behind* the code is only a warning
(migrating is the cure), while one *ahead* of the code, or of an older schema
generation that ``manage.py schema migrate`` must reset, is an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.checks import CheckMessage, Error, Warning
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from settingsapp.schema import BackendManager, SchemaState


def _database_exists(alias: str) -> bool:
    """False for a SQLite file not created yet: connecting would create it."""
    connection = connections[alias]
    if connection.vendor != "sqlite":
        return True
    name = str(connection.settings_dict["NAME"])
    if connection.creation.is_in_memory_db(name) or name.startswith("file:"):
        return True
    return Path(name).exists()


def check_schema_version(
    app_configs: Any = None, databases: list[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Compare each database's schema with the code's (settingsapp.E001/E002/W001).

    Says nothing about a database that does not exist, cannot be reached or
    has never been migrated: ``migrate`` must be able to create it.
    """
    messages: list[CheckMessage] = []
    for alias in databases or [DEFAULT_DB_ALIAS]:
        if not _database_exists(alias):
            continue
        try:
            status = BackendManager(alias).status()
        except DatabaseError:
            continue
        if status.state is SchemaState.AHEAD:
            messages.append(
                Error(
                    f"Database {alias!r}: {status.describe()}.",
                    hint="This code cannot safely use that database; install the "
                    "release that migrated it.",
                    id="settingsapp.E001",
                )
            )
        elif status.state is SchemaState.NEEDS_RESET:
            messages.append(
                Error(
                    f"Database {alias!r}: {status.describe()}.",
                    hint="Run `python manage.py schema migrate`.",
                    id="settingsapp.E002",
                )
            )
        elif status.state is SchemaState.BEHIND:
            messages.append(
                Warning(
                    f"Database {alias!r}: {status.describe()}.",
                    hint="Run `python manage.py migrate`.",
                    id="settingsapp.W001",
                )
            )
    return messages
