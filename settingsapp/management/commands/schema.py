"""``manage.py schema status|migrate``: the database schema against the code's."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils.connection import ConnectionDoesNotExist

from aiidasite.exceptions import AiidaSiteError
from settingsapp.schema import BackendManager, SchemaStatus


class Command(BaseCommand):
    help = (
        "Show how the database schema compares with the code's (status), or "
        "bring it up to date, resetting its schema generation first if needed "
        "(migrate), or record the schema's settings anew after they were "
        "changed by hand (repair)."
    )
    # This command is how a database the checks refuse gets repaired.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default", help="database alias")
        actions = parser.add_subparsers(dest="action", required=True)
        status = actions.add_parser("status", help="compare database and code")
        status.add_argument("--format", choices=["text", "json"], default="text")
        actions.add_parser("migrate", help="reset the generation and migrate")
        actions.add_parser(
            "repair",
            help="record the schema version and generation anew from the "
            "applied migrations, after they were changed by hand",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        manager = BackendManager(options["database"])
        try:
            if options["action"] == "status":
                self.show_status(manager.status(), options["format"])
            elif options["action"] == "repair":
                self.repair(manager)
            else:
                self.migrate(manager, options["verbosity"])
        except (AiidaSiteError, ConnectionDoesNotExist) as exc:
            raise CommandError(str(exc)) from None
        except DatabaseError as exc:
            raise CommandError(
                f"cannot use database {options['database']!r}: "
                + " ".join(str(exc).split())
            ) from None

    def show_status(self, status: SchemaStatus, output: str) -> None:
        if output == "json":
            self.stdout.write(json.dumps(status.as_dict()))
            return
        self.stdout.write(f"state: {status.state} ({status.describe()})")
        self.stdout.write(
            f"generation: code {status.code_generation}, "
            f"database {status.database_generation}"
        )
        apps = sorted(set(status.code_version) | set(status.database_version))
        width = max((len(app) for app in apps), default=3)
        self.stdout.write(f"{'app':<{width}}  {'code':<32}  database")
        for app in apps:
            code = status.code_version.get(app, "-")
            database = status.database_version.get(app, "-")
            self.stdout.write(f"{app:<{width}}  {code:<32}  {database}")
        for app, name in status.unapplied:
            self.stdout.write(f"not applied: {app}.{name}")
        for app, name in status.unknown:
            self.stdout.write(f"unknown to the code: {app}.{name}")

    def repair(self, manager: BackendManager) -> None:
        version = manager.repair()
        self.stdout.write(
            f"recorded schema generation {manager.get_schema_generation_database()}"
        )
        for app, name in sorted(version.items()):
            self.stdout.write(f"{app}: {name}")

    def migrate(self, manager: BackendManager, verbosity: int) -> None:
        # The raw stream: a second OutputWrapper would end "Applying x..." lines.
        result = manager.migrate(verbosity=verbosity, stdout=self.stdout._out)
        for generation in result.generations_reset:
            self.stdout.write(f"reset to schema generation {generation}")
        self.stdout.write(f"applied {len(result.applied)} migration(s)")
        for app, name in sorted(result.version.items()):
            self.stdout.write(f"{app}: {name}")
