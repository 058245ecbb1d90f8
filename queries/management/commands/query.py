"""``manage.py query FILE.json`` (``-`` reads standard input)."""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aiidasite.exceptions import AiidaSiteError
from aiidasite.times import format_time
from queries import services


class Command(BaseCommand):
    help = (
        "Run a query written in QueryBuilder's JSON form (a file, or '-' for "
        "standard input) and print its rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE.json", help="'-': standard input")
        parser.add_argument(
            "--format",
            choices=("text", "json"),
            default="text",
            help="text: one tab-separated row per line; json: rows as "
            "{tag: {projection: value}}",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            query = services.query_parse(
                text=read_text(options["file"]), source=options["file"]
            )
            rows = query.dict() if options["format"] == "json" else query.all()
        except AiidaSiteError as exc:
            raise CommandError(str(exc)) from exc
        if options["format"] == "json":
            self.stdout.write(json.dumps(rows, indent=2, default=_json_default))
            return
        for row in rows:
            self.stdout.write("\t".join(_cell(value) for value in row))


def read_text(path: str) -> str:
    """The text of the file ``path``, or of standard input for ``-``."""
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"no query file {path!r}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path!r}: {exc}") from None


def _json_default(value: Any) -> str:
    # Times as the API writes them (TIME_ZONE); uuids and the rest as text.
    if isinstance(value, datetime.datetime):
        return format_time(value) or ""
    return str(value)


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, default=_json_default)
    return _json_default(value)
