"""Django's ``makemigrations``, which needs no usable database.

Writing migrations reads the code, so the schema check (a database missing,
unreachable, not migrated or newer) does not stop it: ``makemigrations
--check`` runs on a fresh clone before ``migrate``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import makemigrations

from settingsapp.checks import database_unused


class Command(makemigrations.Command):
    def execute(self, *args: Any, **options: Any) -> Any:
        with database_unused():
            return super().execute(*args, **options)
