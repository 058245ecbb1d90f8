"""How a process report reads: as ``verdi process report`` prints it, or as
JSON (what ``manage.py process report`` writes)."""

from __future__ import annotations

from typing import Any

from logs.services import ReportEntry


def report_lines(entries: list[ReportEntry]) -> list[str]:
    """Each record on a line, a called process's records indented under a
    ``+-> Node<pk>`` line, one level per depth."""
    if not any(entry.logs for entry in entries):
        return ["No log messages recorded for this entry"]
    lines = []
    for entry in entries:
        indent = "  " * entry.depth
        if entry.depth or len(entries) > 1:
            lines.append(f"{indent}+-> {entry.node} [{entry.node.pk}]")
        lines.extend(
            f"{indent}{log.time:%Y-%m-%d %H:%M:%S} [{log.pk} | "
            f"{log.levelname}]: {log.message}"
            for log in entry.logs
        )
    return lines


def report_data(entries: list[ReportEntry]) -> list[dict[str, Any]]:
    return [
        {
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
        for entry in entries
    ]
