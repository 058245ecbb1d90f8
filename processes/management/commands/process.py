"""``manage.py process list|show|report``, as ``verdi process`` has them."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.timesince import timesince

from aiidasite.exceptions import AiidaSiteError
from logs import report
from logs.services import LEVELS, process_report
from nodes.services import node_get
from processes import services


def state_text(row: dict[str, Any]) -> str:
    """``Finished [0]``, ``Excepted``, ``Running``..."""
    state = str(row["process_state"] or "unknown").capitalize()
    if row["process_state"] == "finished" and row["exit_status"] is not None:
        state += f" [{row['exit_status']}]"
    return state


class Command(BaseCommand):
    help = (
        "Processes: 'list' them (active ones unless --all), 'show ID', or "
        "'report ID' (the log records of a process and of those it called)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="list processes, oldest first")
        listing.add_argument(
            "-a", "--all", action="store_true", help="every state, not just active"
        )
        listing.add_argument(
            "-S",
            "--state",
            action="append",
            choices=services.PROCESS_STATES,
            help="only this process state (repeatable)",
        )
        listing.add_argument(
            "-F",
            "--failed",
            action="store_true",
            help="only processes finished with a non-zero exit status",
        )
        listing.add_argument(
            "-p", "--past-days", type=int, help="only those created in the last N days"
        )
        listing.add_argument("-G", "--group", help="only members of this group")
        listing.add_argument("-l", "--limit", type=int, help="only the newest N")
        listing.add_argument("--format", choices=["text", "json"], default="text")
        show = actions.add_parser("show", help="one process and its neighbours")
        show.add_argument("identifier", help="pk, uuid or uuid prefix")
        show.add_argument("--format", choices=["text", "json"], default="text")
        log = actions.add_parser(
            "report", help="log records of a process and those it called"
        )
        log.add_argument("identifier", help="pk, uuid or uuid prefix")
        log.add_argument(
            "-l",
            "--levelname",
            default="REPORT",
            type=str.upper,
            choices=list(LEVELS),
            help="lowest level shown (default REPORT)",
        )
        log.add_argument(
            "-m", "--max-depth", type=int, help="levels of called processes shown"
        )
        log.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            getattr(self, f"process_{action}")(**options)
        except AiidaSiteError as exc:
            raise CommandError(str(exc)) from None

    def process_list(
        self,
        *,
        all: bool,
        state: list[str] | None,
        failed: bool,
        past_days: int | None,
        group: str | None,
        limit: int | None,
        format: str,
        **options: Any,
    ) -> None:
        query = services.process_list(
            all_states=all,
            states=state,
            failed=failed,
            past_days=past_days,
            group=group,
            limit=limit,
        )
        rows = [services.process_row(node) for node in query.iterator()]
        if format == "json":
            self.stdout.write(json.dumps(rows, indent=2, default=str))
            return
        self.stdout.write(f"{'PK':>8}  {'Created':<18} {'Process label':<30} State")
        for row in rows:
            created = timesince(row["ctime"]).split(",")[0] + " ago"
            self.stdout.write(
                f"{row['pk']:>8}  {created:<18} {row['process_label']:<30} "
                f"{state_text(row)}"
            )
        self.stdout.write(f"\nTotal results: {len(rows)}")
        if not (all or state or failed):
            self.stdout.write("Active processes only; --all shows every state.")

    def process_show(self, *, identifier: str, format: str, **options: Any) -> None:
        data = services.process_show(identifier=identifier)
        if format == "json":
            self.stdout.write(json.dumps(data, indent=2, default=str))
            return
        for key in ("type", "state", "pk", "uuid", "label", "description"):
            value = state_text(data) if key == "state" else data[key]
            self.stdout.write(f"{key:<14} {value}")
        for key in ("ctime", "mtime", "process_label", "process_type"):
            self.stdout.write(f"{key:<14} {data[key]}")
        if data["exit_message"]:
            self.stdout.write(f"{'exit message':<14} {data['exit_message']}")
        for title, key in (
            ("Inputs", "inputs"),
            ("Outputs", "outputs"),
            ("Caller", "caller"),
            ("Called", "called"),
        ):
            if not data[key]:
                continue
            self.stdout.write(f"\n{title:<24} {'PK':>8}  Type")
            for item in data[key]:
                self.stdout.write(
                    f"{item['label']:<24} {item['pk']:>8}  {item['type']}"
                )
        self.stdout.write(f"\nLog messages: {data['log_count']}")

    def process_report(
        self,
        *,
        identifier: str,
        levelname: str,
        max_depth: int | None,
        format: str,
        **options: Any,
    ) -> None:
        entries = process_report(
            node=node_get(identifier=identifier),
            levelname=levelname,
            max_depth=max_depth,
        )
        if format == "json":
            self.stdout.write(json.dumps(report.report_data(entries), indent=2))
            return
        for line in report.report_lines(entries):
            self.stdout.write(line)
