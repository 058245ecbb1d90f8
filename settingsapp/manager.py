"""The settings manager: read and write ``db_dbsetting`` rows by key.

Unlike AiiDA, deleting a setting removes its row instead of nulling its value,
and writing one is a single upsert, so two processes creating the same new key
at once both succeed and leave one row.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from aiidasite.exceptions import (
    InputValidationError,
    ModificationNotAllowed,
    NotExistent,
)
from aiidasite.prepared import PreparedLookup
from aiidasite.times import format_time
from settingsapp.jsonvalue import validate_json_value, validate_text
from settingsapp.models import KEY_MAX_LENGTH, DbSetting

# Keys the schema manager (settingsapp.schema) owns: every command and request
# reads them first, so a wrong value locks everyone out. Only a manager made
# with ``schema_keys=True`` writes them.
SCHEMA_VERSION_KEY = "db|schemaversion"
SCHEMA_GENERATION_KEY = "schema_generation"
RESERVED_KEYS = frozenset({SCHEMA_VERSION_KEY, SCHEMA_GENERATION_KEY})


@dataclass(frozen=True)
class Setting:
    """One setting as read from the database."""

    key: str
    value: Any
    description: str
    time: datetime.datetime

    @classmethod
    def from_row(cls, row: DbSetting) -> Setting:
        return cls(
            key=row.key, value=row.val, description=row.description, time=row.time
        )

    def as_dict(self) -> dict[str, Any]:
        """The setting as JSON-ready data, its time in ISO 8601 (``TIME_ZONE``)."""
        return {
            "key": self.key,
            "value": self.value,
            "description": self.description,
            "time": format_time(self.time),
        }


def validate_key(key: Any) -> str:
    """Return ``key`` if it can name a setting.

    :raises InputValidationError: if it is not a string, is empty or blank, is
        longer than the column, or holds a control character.
    """
    if not isinstance(key, str):
        raise InputValidationError(f"a setting key must be a string, got {key!r}")
    if not key.strip():
        raise InputValidationError("a setting key must not be empty")
    if len(key) > KEY_MAX_LENGTH:
        raise InputValidationError(
            f"a setting key is at most {KEY_MAX_LENGTH} characters, got {len(key)}"
        )
    if any(ord(char) < 32 or ord(char) == 127 for char in key):
        raise InputValidationError(
            f"the setting key {key!r} contains a control character"
        )
    validate_text(key, where="the setting key")
    return key


# Settings are read far more often than written: compiled once, not per read.
_SETTING_BY_KEY = PreparedLookup(
    lambda key: DbSetting.objects.filter(key=key), text=True
)


class SettingsManager:
    """Settings of one database, addressed by key.

    :param using: the Django database alias to work on.
    :param schema_keys: whether this manager may write :data:`RESERVED_KEYS`;
        only the schema manager sets it.
    """

    def __init__(
        self, using: str = DEFAULT_DB_ALIAS, *, schema_keys: bool = False
    ) -> None:
        self.using = using
        self.schema_keys = schema_keys

    def check_writable(self, key: str) -> None:
        if key in RESERVED_KEYS and not self.schema_keys:
            raise ModificationNotAllowed(
                f"the setting {key!r} belongs to the schema manager and cannot be "
                "changed by hand; `python manage.py schema migrate` and "
                "`python manage.py schema repair` keep it right"
            )

    def _rows(self):
        return DbSetting.objects.using(self.using)

    def validate_table_existence(self) -> None:
        """:raises NotExistent: if ``db_dbsetting`` has not been created yet."""
        table = DbSetting._meta.db_table
        with connections[self.using].cursor() as cursor:
            tables = connections[self.using].introspection.table_names(cursor)
        if table not in tables:
            raise NotExistent(
                f"the settings table {table} does not exist in database "
                f"{self.using!r}: run `python manage.py migrate` first"
            )

    def get(self, key: str) -> Setting:
        """Return the setting ``key``.

        :raises NotExistent: if there is no such setting.
        :raises InputValidationError: if ``key`` cannot name a setting.
        """
        validate_key(key)
        row = _SETTING_BY_KEY.get(key, using=self.using)
        if row is None:
            raise NotExistent(f"no setting with key {key!r}")
        return Setting.from_row(row)

    def set(self, key: str, value: Any, description: str | None = None) -> Setting:
        """Create or update the setting ``key`` and return it as stored.

        ``description=None`` keeps the current description (empty for a new
        key). The write is one ``INSERT ... ON CONFLICT (key) DO UPDATE``, so
        concurrent writers of the same key never collide on the unique index.

        :raises InputValidationError: for a bad key, a value that is not JSON,
            or a description that is not a string; nothing is written then.
        :raises ModificationNotAllowed: for a key of :data:`RESERVED_KEYS`,
            unless this manager writes schema keys.
        """
        validate_key(key)
        self.check_writable(key)
        validate_json_value(value)
        if description is not None:
            if not isinstance(description, str):
                raise InputValidationError("a setting description must be a string")
            validate_text(description, where="the description")
        row = DbSetting(
            key=key, val=value, description=description or "", time=timezone.now()
        )
        if description is not None:
            # Every column is written, so the row holds exactly these values.
            self._upsert(row, ["val", "description", "time"])
            return Setting(key, copy.deepcopy(value), description, row.time)
        with transaction.atomic(using=self.using):
            self._upsert(row, ["val", "time"])
            return self.get(key)

    def _upsert(self, row: DbSetting, update_fields: list[str]) -> None:
        self._rows().bulk_create(
            [row],
            update_conflicts=True,
            unique_fields=["key"],
            update_fields=update_fields,
        )

    def delete(self, key: str) -> None:
        """Remove the setting ``key``.

        :raises NotExistent: if there is no such setting.
        :raises InputValidationError: if ``key`` cannot name a setting.
        :raises ModificationNotAllowed: for a key of :data:`RESERVED_KEYS`,
            unless this manager writes schema keys.
        """
        validate_key(key)
        self.check_writable(key)
        deleted, _ = self._rows().filter(key=key).delete()
        if not deleted:
            raise NotExistent(f"no setting with key {key!r}")

    def all(self) -> list[Setting]:
        """Every setting, ordered by key."""
        return [Setting.from_row(row) for row in self._rows().order_by("key")]

    def __iter__(self) -> Iterator[Setting]:
        return iter(self.all())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._rows().filter(key=key).exists()
