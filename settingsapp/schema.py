"""The schema manager: how the database's schema compares with the code's.

What a schema version is here
-----------------------------
The schema is the migrations of the *project apps*: the installed apps whose
folder sits beside ``manage.py`` (``settings.BASE_DIR``) and that have
migrations, or the labels listed in ``settings.AIIDASITE_SCHEMA_APPS`` when it
is set. A *schema version* maps each project app's label to its latest
migration name (``{"nodes": "0003_...", "settingsapp": "0001_initial"}``;
names of parallel leaves are joined by ``+``). Apps may add migrations freely:
nothing here lists migration names.

- The code's version is the leaf nodes of the migration graph on disk.
- The database's version is the latest applied migration of each app in
  ``django_migrations``; it is recorded in the settings table under
  ``db|schemaversion`` after every migrate (also a plain ``manage.py migrate``,
  through a ``post_migrate`` receiver) so other tools can read it.
- The database is *ahead* of the code when ``django_migrations`` holds applied
  migrations of project apps that the code does not know (neither on disk nor
  replaced by a squashed migration on disk), or when its schema generation is
  newer than the code's. It is *behind* when a migration of the code is not
  applied.

Schema generations
------------------
When the migrations of a release are squashed and the old files deleted, the
code starts a new *generation* (``SCHEMA_GENERATION``). A database of the
previous generation enters the new one by a :class:`GenerationReset`: if it
is exactly at the last migration of the old generation, its old
``django_migrations`` rows are replaced by rows for the new generation's
migrations that describe the same schema, and ``schema_generation`` is
updated. A database anywhere else is refused with an explanation: it must
first be migrated to the reset version with the old code.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from aiidasite.exceptions import IncompatibleDatabaseSchema, NotExistent
from settingsapp.manager import (
    SCHEMA_GENERATION_KEY,
    SCHEMA_VERSION_KEY,
    SettingsManager,
)

__all__ = ["SCHEMA_GENERATION_KEY", "SCHEMA_VERSION_KEY", "BackendManager"]

REPAIR_COMMAND = "python manage.py schema repair"
FIRST_GENERATION = 1
# Raise by one, and add a GenerationReset to GENERATION_RESETS, when the
# project's migrations are squashed and the replaced files deleted.
SCHEMA_GENERATION = 1

SchemaVersion = dict[str, str]
MigrationKey = tuple[str, str]


@dataclass(frozen=True)
class GenerationReset:
    """How a database of generation ``generation - 1`` enters ``generation``.

    :param old_migrations: per app, every migration of the old generation in
        order; the database must have applied exactly these.
    :param new_migrations: per app, the new generation's migrations that
        describe the same schema; they are recorded as applied instead.
    """

    generation: int
    old_migrations: Mapping[str, Sequence[str]]
    new_migrations: Mapping[str, Sequence[str]]

    @property
    def reset_version(self) -> SchemaVersion:
        """The schema version a database must be at to be reset."""
        return {app: names[-1] for app, names in self.old_migrations.items() if names}


GENERATION_RESETS: tuple[GenerationReset, ...] = ()


def _is_generation(value: Any) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and value >= FIRST_GENERATION
    )


class SchemaState(enum.StrEnum):
    CURRENT = "current"
    BEHIND = "behind"
    AHEAD = "ahead"
    NEEDS_RESET = "needs generation reset"
    UNMIGRATED = "not migrated"


@dataclass(frozen=True)
class SchemaStatus:
    """A snapshot of how the database's schema compares with the code's."""

    state: SchemaState
    code_version: SchemaVersion
    database_version: SchemaVersion
    recorded_version: SchemaVersion | None
    code_generation: int
    database_generation: int
    unapplied: list[MigrationKey] = field(default_factory=list)
    unknown: list[MigrationKey] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": str(self.state),
            "code_generation": self.code_generation,
            "database_generation": self.database_generation,
            "code_version": self.code_version,
            "database_version": self.database_version,
            "recorded_version": self.recorded_version,
            "unapplied": [f"{app}.{name}" for app, name in self.unapplied],
            "unknown": [f"{app}.{name}" for app, name in self.unknown],
        }

    def describe(self) -> str:
        """One sentence for an error message or a status line."""
        if self.state is SchemaState.AHEAD:
            if self.database_generation > self.code_generation:
                text = (
                    f"the database is at schema generation "
                    f"{self.database_generation}, newer than this code's "
                    f"generation {self.code_generation}: use a newer release"
                )
                if not self.unknown:
                    # No migration of a newer release: the number was set
                    # by hand.
                    text += (
                        "; if none migrated it (this code knows every "
                        f"migration it applied), run `{REPAIR_COMMAND}`"
                    )
                return text
            names = ", ".join(f"{app}.{name}" for app, name in self.unknown)
            return (
                f"the database schema is newer than this code: it has applied "
                f"migrations the code does not know ({names}); use a newer release"
            )
        if self.state is SchemaState.NEEDS_RESET:
            return (
                f"the database is at schema generation {self.database_generation} "
                f"and this code at {self.code_generation}: run "
                f"`python manage.py schema migrate`"
            )
        if self.state is SchemaState.BEHIND:
            return (
                f"the database schema is behind this code: {len(self.unapplied)} "
                f"migration(s) not applied; run `python manage.py migrate`"
            )
        if self.state is SchemaState.UNMIGRATED:
            return "the database has not been migrated: run `python manage.py migrate`"
        return "the database schema matches this code"


@dataclass(frozen=True)
class MigrationResult:
    """What :meth:`BackendManager.migrate` did."""

    applied: list[MigrationKey]
    generations_reset: list[int]
    version: SchemaVersion


def default_schema_apps() -> list[str]:
    """Labels of the project's own apps: those beside ``manage.py``."""
    configured = getattr(settings, "AIIDASITE_SCHEMA_APPS", None)
    if configured is not None:
        return list(configured)
    base = Path(settings.BASE_DIR).resolve()
    return [
        config.label
        for config in apps.get_app_configs()
        if Path(config.path).resolve().parent == base
    ]


class BackendManager:
    """Schema version and generation of one database, and its migration.

    :param using: the Django database alias.
    :param app_labels: the apps whose migrations make the schema (default:
        :func:`default_schema_apps`).
    :param generation: the code's schema generation.
    :param resets: the generation resets the code knows.
    """

    def __init__(
        self,
        using: str = DEFAULT_DB_ALIAS,
        *,
        app_labels: Iterable[str] | None = None,
        generation: int = SCHEMA_GENERATION,
        resets: Iterable[GenerationReset] = GENERATION_RESETS,
    ) -> None:
        self.using = using
        self._app_labels = list(app_labels) if app_labels is not None else None
        self.generation = generation
        self.resets = {reset.generation: reset for reset in resets}

    @property
    def connection(self):
        return connections[self.using]

    @property
    def schema_generation(self) -> int:
        """The code's schema generation."""
        return self.generation

    def get_settings_manager(self) -> SettingsManager:
        """A settings manager that may write the schema's own keys."""
        return SettingsManager(using=self.using, schema_keys=True)

    # -- the code ----------------------------------------------------------

    def _schema_apps(self, loader: MigrationLoader) -> list[str]:
        labels = self._app_labels
        if labels is None:
            labels = default_schema_apps()
        return sorted(label for label in labels if label in loader.migrated_apps)

    def get_schema_version_code(self) -> SchemaVersion:
        """The latest migration of each project app, as found on disk."""
        loader = MigrationLoader(None, ignore_no_migrations=True)
        return self._leaf_version(loader)

    def _leaf_version(self, loader: MigrationLoader) -> SchemaVersion:
        return {
            app: "+".join(sorted(name for _, name in loader.graph.leaf_nodes(app)))
            for app in self._schema_apps(loader)
        }

    def _known_migrations(self, loader: MigrationLoader) -> set[MigrationKey]:
        known = set(loader.disk_migrations)
        for migration in loader.disk_migrations.values():
            known.update(migration.replaces or ())
        return known

    # -- the database ------------------------------------------------------

    def _has_settings_table(self) -> bool:
        try:
            self.get_settings_manager().validate_table_existence()
        except NotExistent:
            return False
        return True

    def _stored(self, key: str, missing: Any) -> Any:
        """The value stored under ``key``; ``missing`` without the setting or
        the settings table."""
        if not self._has_settings_table():
            return missing
        try:
            return self.get_settings_manager().get(key).value
        except NotExistent:
            return missing

    def get_schema_version_database(self) -> SchemaVersion | None:
        """The version recorded under ``db|schemaversion``, or ``None``."""
        value = self._stored(SCHEMA_VERSION_KEY, None)
        return value if isinstance(value, dict) else None

    def set_schema_version_database(self, version: Mapping[str, str]) -> None:
        """Record ``version`` under ``db|schemaversion``.

        :raises NotExistent: if the settings table does not exist.
        """
        manager = self.get_settings_manager()
        manager.validate_table_existence()
        manager.set(
            SCHEMA_VERSION_KEY,
            dict(version),
            description="latest applied migration of each app, per django_migrations",
        )

    def get_schema_generation_database(self) -> int:
        """The generation recorded in the database (the first one if none).

        :raises IncompatibleDatabaseSchema: if the stored value is not a
            generation (a whole number from 1); ``schema repair`` fixes it.
        """
        value = self._stored(SCHEMA_GENERATION_KEY, FIRST_GENERATION)
        if not _is_generation(value):
            raise IncompatibleDatabaseSchema(
                f"the stored setting {SCHEMA_GENERATION_KEY!r} is {value!r}, not a "
                f"schema generation (a whole number from {FIRST_GENERATION}): "
                f"run `{REPAIR_COMMAND}`"
            )
        return value

    def set_schema_generation_database(self, generation: int) -> None:
        """:raises NotExistent: if the settings table does not exist."""
        manager = self.get_settings_manager()
        manager.validate_table_existence()
        manager.set(
            SCHEMA_GENERATION_KEY,
            int(generation),
            description="generation of the database schema",
        )

    def _applied_version(self, executor: MigrationExecutor) -> SchemaVersion:
        loader = executor.loader
        version = {}
        for app in self._schema_apps(loader):
            mine = {
                key
                for key in loader.applied_migrations
                if key[0] == app and key in loader.graph.node_map
            }
            # The latest applied migrations are those no applied one follows.
            latest = sorted(
                key[1]
                for key in mine
                if not any(c.key in mine for c in loader.graph.node_map[key].children)
            )
            if latest:
                version[app] = "+".join(latest)
        return version

    def get_schema_version_applied(self) -> SchemaVersion:
        """The latest applied migration of each project app (``django_migrations``)."""
        return self._applied_version(MigrationExecutor(self.connection))

    def _unknown_migrations(self, loader: MigrationLoader) -> list[MigrationKey]:
        """Applied migrations of project apps that the code does not know."""
        apps_ = self._schema_apps(loader)
        known = self._known_migrations(loader)
        return sorted(
            key
            for key in MigrationRecorder(self.connection).applied_migrations()
            if key[0] in apps_ and key not in known
        )

    def status(self) -> SchemaStatus:
        """Compare the database with the code."""
        executor = MigrationExecutor(self.connection)
        loader = executor.loader
        applied = set(loader.applied_migrations)
        unknown = self._unknown_migrations(loader)
        # Every app counts for "behind": migrate applies them all.
        targets = loader.graph.leaf_nodes()
        unapplied = [
            (migration.app_label, migration.name)
            for migration, _ in executor.migration_plan(targets)
        ]
        database_generation = self.get_schema_generation_database()
        if database_generation > self.generation:
            state = SchemaState.AHEAD
        elif database_generation < self.generation and applied:
            state = SchemaState.NEEDS_RESET
        elif unknown:
            state = SchemaState.AHEAD
        elif not applied:
            state = SchemaState.UNMIGRATED
        elif unapplied:
            state = SchemaState.BEHIND
        else:
            state = SchemaState.CURRENT
        return SchemaStatus(
            state=state,
            code_version=self._leaf_version(loader),
            database_version=self._applied_version(executor),
            recorded_version=self.get_schema_version_database(),
            code_generation=self.generation,
            database_generation=database_generation,
            unapplied=unapplied,
            unknown=unknown,
        )

    def is_database_schema_ahead(self) -> bool:
        """Whether the database has a schema this code does not know."""
        return self.status().state is SchemaState.AHEAD

    def is_database_schema_behind(self) -> bool:
        """Whether the code has migrations the database has not applied."""
        return self.status().state in {SchemaState.BEHIND, SchemaState.UNMIGRATED}

    def validate_schema(self) -> None:
        """:raises IncompatibleDatabaseSchema: unless the schema is the code's."""
        status = self.status()
        if status.state is not SchemaState.CURRENT:
            raise IncompatibleDatabaseSchema(status.describe())

    def record_schema_version(self) -> None:
        """Record the applied version (and a first generation) in the settings.

        Does nothing while the settings table does not exist.
        """
        if not self._has_settings_table():
            return
        self.set_schema_version_database(self.get_schema_version_applied())
        if SCHEMA_GENERATION_KEY not in self.get_settings_manager():
            self.set_schema_generation_database(self.generation)

    def repair(self) -> SchemaVersion:
        """Rewrite the schema's own settings from ``django_migrations``.

        For a database whose ``schema_generation`` or ``db|schemaversion`` was
        changed by hand: the version is recorded anew, and a generation that
        is not a number, or is newer than the code's, becomes the code's
        generation; an older valid generation stays for ``schema migrate`` to
        reset. Returns the version recorded.

        :raises IncompatibleDatabaseSchema: if the database has applied
            migrations this code does not know (a newer release migrated it);
            nothing is changed then.
        :raises NotExistent: if the settings table does not exist.
        """
        executor = MigrationExecutor(self.connection)
        unknown = self._unknown_migrations(executor.loader)
        if unknown:
            names = ", ".join(f"{app}.{name}" for app, name in unknown)
            raise IncompatibleDatabaseSchema(
                f"the database has applied migrations this code does not know "
                f"({names}): a newer release migrated it; use that release"
            )
        version = self._applied_version(executor)
        stored = self._stored(SCHEMA_GENERATION_KEY, FIRST_GENERATION)
        with transaction.atomic(using=self.using):
            if not _is_generation(stored) or stored > self.generation:
                self.set_schema_generation_database(self.generation)
            self.set_schema_version_database(version)
        return version

    # -- generations -------------------------------------------------------

    def get_schema_version_reset(self, generation: int) -> SchemaVersion:
        """The version a database must be exactly at to enter ``generation``.

        :raises NotExistent: if the code knows no reset into ``generation``.
        """
        try:
            return self.resets[generation].reset_version
        except KeyError:
            raise NotExistent(
                f"no reset into schema generation {generation} is defined"
            ) from None

    def reset_generation(self) -> list[int]:
        """Bring the database's generation up to the code's, one step at a time.

        :returns: the generations entered.
        :raises IncompatibleDatabaseSchema: if the database is of a newer
            generation, a step is not defined, or the database is not exactly
            at a step's reset version; nothing is changed then.
        """
        current = self.get_schema_generation_database()
        if current > self.generation:
            raise IncompatibleDatabaseSchema(
                f"the database is at schema generation {current}, newer than "
                f"this code's generation {self.generation}"
            )
        entered = []
        for generation in range(current + 1, self.generation + 1):
            if generation not in self.resets:
                raise IncompatibleDatabaseSchema(
                    f"the database is at schema generation {generation - 1} and "
                    f"this code defines no reset into generation {generation}"
                )
            self._apply_reset(self.resets[generation])
            entered.append(generation)
        return entered

    def _apply_reset(self, reset: GenerationReset) -> None:
        loader = MigrationLoader(None, ignore_no_migrations=True)
        for app, names in reset.new_migrations.items():
            missing = [
                name for name in names if (app, name) not in loader.disk_migrations
            ]
            if missing:
                raise ImproperlyConfigured(
                    f"the reset into generation {reset.generation} names "
                    f"migrations of {app!r} that do not exist: {', '.join(missing)}"
                )
        recorder = MigrationRecorder(self.connection)
        applied = set(recorder.applied_migrations())
        for app, names in reset.old_migrations.items():
            have = sorted(name for key_app, name in applied if key_app == app)
            if set(have) != set(names):
                raise IncompatibleDatabaseSchema(
                    f"cannot reset {app!r} into schema generation "
                    f"{reset.generation}: the database must be exactly at "
                    f"{names[-1]} (generation {reset.generation - 1}), but has "
                    f"applied {', '.join(have) or 'nothing'}; migrate it to "
                    f"{names[-1]} with a release of generation "
                    f"{reset.generation - 1} first"
                )
        with transaction.atomic(using=self.using):
            for app, names in reset.old_migrations.items():
                recorder.migration_qs.filter(app=app, name__in=list(names)).delete()
            for app, names in reset.new_migrations.items():
                for name in names:
                    recorder.record_applied(app, name)
            self.set_schema_generation_database(reset.generation)

    # -- migrating ---------------------------------------------------------

    def migrate(self, *, verbosity: int = 0, stdout: Any = None) -> MigrationResult:
        """Reset the generation if needed, apply every migration, record the version.

        ``verbosity`` and ``stdout`` go to Django's ``migrate``, which reports
        each migration as it is applied.

        :raises IncompatibleDatabaseSchema: if the database is ahead of the
            code, or cannot be reset into the code's generation; nothing is
            changed then.
        """
        status = self.status()
        if status.state is SchemaState.AHEAD:
            raise IncompatibleDatabaseSchema(status.describe())
        entered = []
        if status.state is SchemaState.NEEDS_RESET:
            entered = self.reset_generation()
            status = self.status()
        call_command(
            "migrate",
            database=self.using,
            interactive=False,
            verbosity=verbosity,
            stdout=stdout,
        )
        self.record_schema_version()
        return MigrationResult(
            applied=status.unapplied,
            generations_reset=entered,
            version=self.get_schema_version_applied(),
        )
