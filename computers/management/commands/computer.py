"""``manage.py computer list|show LABEL|delete LABEL``, as verdi has them."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aiidasite.exceptions import AiidaSiteError
from computers import services


class Command(BaseCommand):
    help = "Computers: 'list' them, 'show LABEL' one, 'delete LABEL' an unused one."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="every computer, by label")
        listing.add_argument("--format", choices=["text", "json"], default="text")
        show = actions.add_parser("show", help="one computer's fields")
        show.add_argument("label", help="label, pk or uuid")
        show.add_argument("--format", choices=["text", "json"], default="text")
        delete = actions.add_parser("delete", help="delete a computer no node uses")
        delete.add_argument("label", help="label, pk or uuid")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            getattr(self, f"computer_{action}")(**options)
        except AiidaSiteError as exc:
            raise CommandError(str(exc)) from None

    def computer_list(self, *, format: str, **options: Any) -> None:
        rows = [
            {
                "label": c.label,
                "hostname": c.hostname,
                "scheduler_type": c.scheduler_type,
                "transport_type": c.transport_type,
                "nodes": c.node_count,
            }
            for c in services.computer_list()
        ]
        if format == "json":
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not rows:
            self.stdout.write("No computers.")
        for row in rows:
            self.stdout.write(
                f"* {row['label']:<20} {row['hostname']:<30} "
                f"{row['scheduler_type']}/{row['transport_type']} "
                f"({row['nodes']} nodes)"
            )

    def computer_show(self, *, label: str, format: str, **options: Any) -> None:
        computer = services.computer_get(identifier=label)
        data = {
            "id": computer.pk,
            "uuid": str(computer.uuid),
            "label": computer.label,
            "hostname": computer.hostname,
            "description": computer.description,
            "scheduler_type": computer.scheduler_type,
            "transport_type": computer.transport_type,
            "metadata": computer.metadata,
            "nodes": computer.dbnodes.count(),
        }
        if format == "json":
            self.stdout.write(json.dumps(data, indent=2))
            return
        for key, value in data.items():
            if key == "metadata":
                for name, item in sorted(value.items()):
                    self.stdout.write(f"{name:<16} {json.dumps(item)}")
            else:
                self.stdout.write(f"{key:<16} {value}")

    def computer_delete(self, *, label: str, **options: Any) -> None:
        computer = services.computer_get(identifier=label)
        services.computer_delete(computer=computer)
        self.stdout.write(f"Deleted computer {computer.label!r}.")
