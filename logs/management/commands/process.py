"""``manage.py process report NODE``, as ``verdi process report`` prints it."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aiidasite.exceptions import AiidaSiteError
from logs import services
from nodes.services import node_get


class Command(BaseCommand):
    help = "Processes: 'report NODE', the log records of a process and its callees."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        report = actions.add_parser(
            "report", help="log records of a process and those it called"
        )
        report.add_argument("node", help="pk, uuid or uuid prefix")
        report.add_argument(
            "-l",
            "--levelname",
            default="REPORT",
            type=str.upper,
            choices=list(services.LEVELS),
            help="lowest level shown (default REPORT)",
        )
        report.add_argument(
            "-m", "--max-depth", type=int, help="levels of called processes shown"
        )
        report.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            getattr(self, f"process_{action}")(**options)
        except AiidaSiteError as exc:
            raise CommandError(str(exc)) from None

    def process_report(
        self,
        *,
        node: str,
        levelname: str,
        max_depth: int | None,
        format: str,
        **options: Any,
    ) -> None:
        entries = services.process_report(
            node=node_get(identifier=node), levelname=levelname, max_depth=max_depth
        )
        if format == "json":
            self.stdout.write(json.dumps([entry_dict(e) for e in entries], indent=2))
            return
        if not any(entry.logs for entry in entries):
            self.stdout.write("No log messages recorded for this entry")
            return
        for entry in entries:
            indent = "  " * entry.depth
            if entry.depth or len(entries) > 1:
                self.stdout.write(f"{indent}+-> {entry.node} [{entry.node.pk}]")
            for log in entry.logs:
                self.stdout.write(
                    f"{indent}{log.time:%Y-%m-%d %H:%M:%S} [{log.pk} | "
                    f"{log.levelname}]: {log.message}"
                )


def entry_dict(entry: services.ReportEntry) -> dict[str, Any]:
    return {
        "depth": entry.depth,
        "node": entry.node.pk,
        "logs": [
            {
                "id": log.pk,
                "time": log.time.isoformat(),
                "levelname": log.levelname,
                "message": log.message,
            }
            for log in entry.logs
        ],
    }
