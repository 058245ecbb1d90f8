"""``manage.py bands list [--past-days N] [--group G ...] [--all-users]`` and
``manage.py bands plot ID [--format png|svg|json] [-o FILE]``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aiidasite.exceptions import AiidaSiteError
from aiidasite.times import format_time
from queries import services


class Command(BaseCommand):
    help = (
        "List BandsData nodes with the Hill formula of their nearest "
        "StructureData ancestor."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        listing = sub.add_parser("list", help="list bands and their structures")
        listing.add_argument(
            "--past-days", type=int, help="only bands created in the last N days"
        )
        listing.add_argument(
            "--group",
            action="append",
            default=[],
            help="only bands in this group (label or pk; repeatable)",
        )
        owner = listing.add_mutually_exclusive_group()
        owner.add_argument("--user", help="only this user's bands (pk or username)")
        owner.add_argument(
            "--all-users",
            action="store_true",
            help="bands of every user (the default when --user is not given)",
        )
        listing.add_argument("--format", choices=("text", "json"), default="text")
        plot = sub.add_parser("plot", help="plot one band structure to a file")
        plot.add_argument("identifier", help="pk, uuid or uuid prefix of a BandsData")
        plot.add_argument("--format", choices=("png", "svg", "json"), default="png")
        plot.add_argument(
            "-o", "--output", type=Path, help="file to write (default bands_PK.FORMAT)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "plot":
            self.plot(**options)
            return
        try:
            rows = services.bands_list(
                past_days=options["past_days"],
                groups=options["group"],
                user=None if options["all_users"] else options["user"],
            )
        except AiidaSiteError as exc:
            raise CommandError(str(exc)) from exc
        for row in rows:
            row.update(uuid=str(row["uuid"]), ctime=format_time(row["ctime"]))
        if options["format"] == "json":
            self.stdout.write(json.dumps(rows, indent=2))
            return
        self.stdout.write(f"{'id':>8}  {'ctime':<32} {'formula':<16} label")
        for row in rows:
            self.stdout.write(
                f"{row['id']:>8}  {row['ctime']:<32} "
                f"{row['formula'] or '-':<16} {row['label']}"
            )

    def plot(
        self, *, identifier: str, format: str, output: Path | None, **options: Any
    ) -> None:
        from nodes import services as nodes
        from pictures import services as pictures

        try:
            node = nodes.node_get(identifier=identifier)
            content = pictures.node_download(node=node, fmt=format).content
        except AiidaSiteError as exc:
            raise CommandError(str(exc)) from exc
        output = output or Path(f"bands_{node.pk}.{format}")
        try:
            output.write_bytes(content)
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}") from None
        self.stdout.write(f"Wrote {output}")
