"""Django's ``migrate``, refusing in one line a SQLite file it cannot create.

``migrate``'s own model checks open the database before the schema check
can say why it cannot be opened, so a missing folder is reported first.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.core.management.commands import migrate

from settingsapp.checks import missing_folder_problem, missing_sqlite_folder


class Command(migrate.Command):
    def execute(self, *args: Any, **options: Any) -> Any:
        alias = options.get("database") or "default"
        folder = missing_sqlite_folder(alias)
        if folder is not None:
            raise CommandError(f"Database {alias!r}: {missing_folder_problem(folder)}.")
        return super().execute(*args, **options)
