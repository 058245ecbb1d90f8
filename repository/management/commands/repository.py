"""``manage.py repository info|maintain|verify``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from tqdm import tqdm

from aiidasite.exceptions import AiidaSiteError
from repository import services


def progress_callback(enabled: bool) -> Callable[[str, Any], None] | None:
    """A disk-objectstore style callback drawing one tqdm bar per phase."""
    if not enabled:
        return None
    bars: list[tqdm] = []

    def callback(action: str, value: Any) -> None:
        if action == "init":
            bars.append(
                tqdm(total=value["total"], desc=value.get("description"), leave=False)
            )
        elif action == "update" and bars:
            bars[-1].update(value)
        elif action == "close" and bars:
            bars.pop().close()

    return callback


class Command(BaseCommand):
    help = (
        "Inspect and maintain the file repository: 'info' shows what it holds, "
        "'maintain' packs (and with --full repacks) objects and deletes objects "
        "no node references, 'verify' recomputes every hash."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        # Lets --verbosity follow the action too; SUPPRESS keeps a value given
        # before the action from being overwritten by a subparser default.
        common = argparse.ArgumentParser(add_help=False)
        common.add_argument(
            "-v",
            "--verbosity",
            type=int,
            choices=(0, 1, 2, 3),
            default=argparse.SUPPRESS,
            help="0 hides the progress bar",
        )
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        info = sub.add_parser(
            "info", help="show what the repository holds", parents=[common]
        )
        info.add_argument("--detailed", action="store_true", help="include sizes")
        info.add_argument("--format", choices=("text", "json"), default="text")
        maintain = sub.add_parser(
            "maintain", help="pack, clean and repack objects", parents=[common]
        )
        maintain.add_argument(
            "--full",
            action="store_true",
            help="also repack, clean and vacuum (other processes should not be "
            "using the repository meanwhile)",
        )
        maintain.add_argument(
            "--no-repack",
            dest="do_repack",
            action="store_const",
            const=False,
            default=None,
            help="with --full, skip the repack of pack files",
        )
        maintain.add_argument(
            "--compress",
            action="store_true",
            help="compress packed objects where it saves space",
        )
        maintain.add_argument(
            "--dry-run", action="store_true", help="report what would be done"
        )
        maintain.add_argument("--format", choices=("text", "json"), default="text")
        verify = sub.add_parser(
            "verify", help="recompute hashes, find missing objects", parents=[common]
        )
        verify.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        show_progress = options["verbosity"] > 0 and sys.stderr.isatty()
        try:
            if options["action"] == "info":
                result = services.repository_info(detailed=options["detailed"])
            elif options["action"] == "maintain":
                result = services.repository_maintain(
                    full=options["full"],
                    dry_run=options["dry_run"],
                    do_repack=options["do_repack"],
                    compress=options["compress"],
                    callback=progress_callback(show_progress),
                )
            else:
                result = services.repository_verify(
                    callback=progress_callback(show_progress)
                )
        except (AiidaSiteError, OSError, DatabaseError) as exc:
            raise CommandError(str(exc)) from exc
        if options["format"] == "json":
            self.stdout.write(json.dumps(result, indent=2, sort_keys=True))
        else:
            self.write_text(result)
        if options["action"] == "verify" and not result["ok"]:
            raise CommandError(
                f"repository verification failed: {len(result['corrupt'])} corrupt, "
                f"{len(result['missing'])} missing object(s)"
            )

    def write_text(self, data: dict[str, Any], indent: str = "") -> None:
        for name, value in data.items():
            label = name.replace("_", " ")
            if isinstance(value, dict):
                self.stdout.write(f"{indent}{label}:")
                self.write_text(value, indent + "  ")
            elif isinstance(value, list):
                self.stdout.write(f"{indent}{label}: {len(value)}")
                for item in value:
                    self.stdout.write(f"{indent}  {item}")
            else:
                self.stdout.write(f"{indent}{label}: {value}")
