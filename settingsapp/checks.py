"""System checks: refuse to run on a database that is not the code's.

Django runs these before every management command and before ``runserver``
(without naming databases); ``migrate`` runs them too, naming the database it
migrates. So a database *behind* the code is only a warning (migrating is the
cure), while one *ahead* of the code, of an older schema generation that
``manage.py schema migrate`` must reset, that cannot be reached, or that has
never been migrated (except for ``migrate`` itself, which creates it) is an
error whose one line says what to do.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.checks import CheckMessage, Error, Warning
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from aiidasite.exceptions import IncompatibleDatabaseSchema
from settingsapp.schema import REPAIR_COMMAND, BackendManager, SchemaState

# Set while a command that needs no usable database runs (makemigrations).
_database_unused = contextvars.ContextVar("database_unused", default=False)


@contextlib.contextmanager
def database_unused() -> Iterator[None]:
    """Within this block the schema check says nothing: for commands that
    only read the code."""
    token = _database_unused.set(True)
    try:
        yield
    finally:
        _database_unused.reset(token)


def _database_exists(alias: str) -> bool:
    """False for a SQLite file not created yet: connecting would create it."""
    connection = connections[alias]
    if connection.vendor != "sqlite":
        return True
    name = str(connection.settings_dict["NAME"])
    if connection.creation.is_in_memory_db(name) or name.startswith("file:"):
        return True
    return Path(name).exists()


def missing_sqlite_folder(alias: str) -> Path | None:
    """The folder that should hold ``alias``'s SQLite file when it does not
    exist (``migrate`` cannot create the file there); None otherwise."""
    connection = connections[alias]
    if connection.vendor != "sqlite" or _database_exists(alias):
        return None
    folder = Path(str(connection.settings_dict["NAME"])).parent
    return None if folder.is_dir() else folder


def missing_folder_problem(folder: Path) -> str:
    """What to do when the SQLite file's ``folder`` does not exist."""
    return (
        f"the folder {folder} of the database file does not exist: create it "
        "or correct DATABASE_URL, then run `python manage.py migrate`"
    )


def connection_problem(alias: str = DEFAULT_DB_ALIAS) -> str | None:
    """Why the database ``alias`` cannot be used, and what to do, in one
    line; None when it can be connected to. Never creates a SQLite file."""
    connection = connections[alias]
    folder = missing_sqlite_folder(alias)
    if folder is not None:
        return missing_folder_problem(folder)
    if not _database_exists(alias):
        return (
            f"the database file {connection.settings_dict['NAME']} does not exist: "
            "run `python manage.py migrate` to create it"
        )
    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        return describe_connection_error(alias, exc)
    return None


def describe_connection_error(alias: str, exc: Exception) -> str:
    """One line for a failed connection to ``alias``, saying what to do."""
    params = connections[alias].settings_dict
    name, host = params.get("NAME"), params.get("HOST") or "localhost"
    where = f"{host}:{params.get('PORT') or 5432}"
    text = " ".join(str(exc).split())
    if f'database "{name}" does not exist' in text:
        return (
            f"the PostgreSQL database {name!r} on {where} does not exist: create it "
            f"with `createdb {name}`, then run `python manage.py migrate`"
        )
    if connections[alias].vendor == "postgresql":
        return (
            f"cannot connect to PostgreSQL at {where} ({text}): start the server "
            "or correct DATABASE_URL"
        )
    return f"cannot use database {alias!r}: {text}"


def check_schema_version(
    app_configs: Any = None, databases: list[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Compare each database's schema with the code's (settingsapp.E001 to
    E005, W001).

    ``databases`` is given by ``migrate`` (and ``check --database``): a
    database not created or not migrated yet is then no error.
    """
    messages: list[CheckMessage] = []
    if _database_unused.get():
        return messages
    migrating = databases is not None
    for alias in databases or [DEFAULT_DB_ALIAS]:
        if (
            migrating
            and not _database_exists(alias)
            and not missing_sqlite_folder(alias)
        ):
            continue
        problem = connection_problem(alias)
        if problem is None:
            try:
                status = BackendManager(alias).status()
            except DatabaseError as exc:
                problem = describe_connection_error(alias, exc)
            except IncompatibleDatabaseSchema as exc:
                # A schema setting holds a value no release writes.
                messages.append(
                    Error(
                        f"Database {alias!r}: {exc}.",
                        hint=f"Run `{REPAIR_COMMAND}`.",
                        id="settingsapp.E005",
                    )
                )
                continue
        if problem is not None:
            messages.append(
                Error(f"Database {alias!r}: {problem}.", id="settingsapp.E003")
            )
            continue
        if status.state is SchemaState.UNMIGRATED and not migrating:
            messages.append(
                Error(
                    f"Database {alias!r} has not been migrated: run "
                    "`python manage.py migrate`.",
                    id="settingsapp.E004",
                )
            )
        elif status.state is SchemaState.AHEAD:
            messages.append(
                Error(
                    f"Database {alias!r}: {status.describe()}.",
                    hint="This code cannot safely use that database; install the "
                    "release that migrated it."
                    + ("" if status.unknown else f" Or run `{REPAIR_COMMAND}`."),
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
