"""Reading the log records of processes: a node's records, and the report
``verdi process report`` prints (a process's records and those of the
processes it called, indented by depth; ``aiida.cmdline.utils.common.
get_workchain_report``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from aiidasite.exceptions import InputValidationError
from logs.models import DbLog
from nodes.models import DbLink, DbNode

# Python's level numbers, with AiiDA's REPORT between INFO and WARNING
# (``aiida.common.log.LOG_LEVEL_REPORT``).
LEVELS = {
    "DEBUG": 10,
    "INFO": 20,
    "REPORT": 23,
    "WARNING": 30,
    "ERROR": 40,
    "CRITICAL": 50,
}
CALL_LINKS = ("call_calc", "call_work")


def logs_of(*, node: DbNode, levelname: str | None = None) -> QuerySet[DbLog]:
    """The node's log records in time order; with ``levelname``, only that level.

    :raises InputValidationError: for a level AiiDA does not know.
    """
    query = DbLog.objects.filter(dbnode=node).order_by("time", "pk")
    if levelname:
        query = query.filter(levelname=_level(levelname))
    return query


def _level(levelname: str) -> str:
    name = levelname.upper()
    if name not in LEVELS:
        raise InputValidationError(
            f"unknown log level {levelname!r}; one of {', '.join(LEVELS)}"
        )
    return name


@dataclass
class ReportEntry:
    depth: int
    node: DbNode
    logs: list[DbLog]


def process_report(
    *, node: DbNode, levelname: str = "REPORT", max_depth: int | None = None
) -> list[ReportEntry]:
    """The records of ``node`` and the processes it called, depth first.

    As ``verdi process report``: records at ``levelname`` or above, each
    called process one level deeper, down to ``max_depth`` levels (all when
    ``None``); callees in the order they were called.

    :raises InputValidationError: for a node that is not a process (as
        verdi refuses it), an unknown level or a negative depth.
    """
    if not node.is_process:
        raise InputValidationError(f"node {node.pk} is not a process")
    threshold = LEVELS[_level(levelname)]
    if max_depth is not None and max_depth < 0:
        raise InputValidationError("max_depth must be 0 or more")
    wanted = [name for name, number in LEVELS.items() if number >= threshold]
    entries: list[ReportEntry] = []
    stack = [(0, node)]
    seen = set()
    while stack:
        depth, current = stack.pop()
        if current.pk in seen:
            continue
        seen.add(current.pk)
        records = DbLog.objects.filter(dbnode=current).order_by("time", "pk")
        # Records of levels AiiDA does not name are shown at any threshold.
        records = records.exclude(
            levelname__in=[name for name in LEVELS if name not in wanted]
        )
        entries.append(ReportEntry(depth, current, list(records)))
        if max_depth is not None and depth >= max_depth:
            continue
        callees = (
            DbLink.objects.filter(input=current, type__in=CALL_LINKS)
            .select_related("output")
            .order_by("-output__ctime", "-output_id")
        )
        stack.extend((depth + 1, link.output) for link in callees)
    return entries
