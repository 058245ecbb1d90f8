"""``manage.py statistics [--user U] [--format json]``."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aiidasite.exceptions import AiidaSiteError
from queries import services


class Command(BaseCommand):
    help = (
        "Count the nodes: in total, per node type and per creation day "
        "(in the site's time zone)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", help="only this user's nodes (pk or username)")
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            stats = services.statistics_get(user=options["user"])
        except AiidaSiteError as exc:
            raise CommandError(str(exc)) from exc
        if options["format"] == "json":
            self.stdout.write(json.dumps(stats, indent=2))
            return
        self.stdout.write(f"total: {stats['total']}")
        self.stdout.write("types:")
        for node_type, count in stats["types"].items():
            self.stdout.write(f"  {node_type:<50} {count:>10}")
        self.stdout.write("created per day:")
        for day, count in stats["ctime_by_day"].items():
            self.stdout.write(f"  {day}  {count:>10}")
