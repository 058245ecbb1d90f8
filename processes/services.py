"""Listing and describing processes, with ``verdi process`` semantics.

A process's state, exit status, label and message live in its attributes
(``process_state``, ``exit_status``, ``process_label``, ``exit_message``),
as aiida-core's ``ProcessNode`` keeps them.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from aiidasite.exceptions import InputValidationError
from aiidasite.times import past_days_start
from nodes import services, types
from nodes.models import DbNode

PROCESS_STATES = types.PROCESS_STATES
# What ``verdi process list`` shows without ``--all``.
ACTIVE_STATES = ("created", "waiting", "running")
CALL_TYPES = ("call_calc", "call_work")


def failed_query(queryset: QuerySet) -> QuerySet:
    """Finished with a non-zero exit status: ``verdi process list --failed``
    (aiida-core ``cmd_process.process_list``: exit status above zero)."""
    return queryset.filter(
        attributes__process_state="finished", attributes__exit_status__gt=0
    )


def process_list(
    *,
    all_states: bool = False,
    states: list[str] | None = None,
    failed: bool = False,
    past_days: int | None = None,
    group: str | None = None,
    limit: int | None = None,
) -> QuerySet:
    """Process nodes, oldest first as verdi lists them.

    Without ``all_states`` or ``states`` only active ones (created, waiting,
    running); ``failed`` means finished with a non-zero exit status;
    ``past_days`` keeps those created in the last N days; ``group`` is a
    group's pk, uuid or label. ``limit`` keeps the newest N.

    :raises InputValidationError: an unknown state, or a non-positive
        number of days or limit.
    :raises NotExistent: no such group.
    """
    query = DbNode.objects.filter(node_type__startswith="process.").select_related(
        "user"
    )
    unknown = sorted(set(states or []) - set(PROCESS_STATES))
    if unknown:
        raise InputValidationError(
            f"unknown process state {', '.join(unknown)}; "
            f"choose from {', '.join(PROCESS_STATES)}"
        )
    if failed:
        query = failed_query(query)
    elif states:
        query = query.filter(attributes__process_state__in=states)
    elif not all_states:
        query = query.filter(attributes__process_state__in=ACTIVE_STATES)
    if past_days is not None:
        query = query.filter(ctime__gte=past_days_start(past_days))
    if group is not None:
        query = query.filter(dbgroups=services.group_get(identifier=group))
    if limit is not None:
        if limit < 1:
            raise InputValidationError("the limit must be positive")
        newest = list(query.order_by("-ctime", "-id").values_list("id", flat=True))
        query = query.filter(id__in=newest[:limit])
    return query.order_by("ctime", "id")


def process_row(node: DbNode) -> dict[str, Any]:
    """One line of ``process list``: pk, ctime, label, state, exit status."""
    attributes = node.attributes or {}
    return {
        "pk": node.pk,
        "ctime": node.ctime,
        "process_label": attributes.get("process_label")
        or types.class_name(node.node_type),
        "process_state": attributes.get("process_state"),
        "exit_status": attributes.get("exit_status"),
        "process_status": attributes.get("process_status") or "",
    }


def _neighbour(link: Any, end: str) -> dict[str, Any]:
    other = getattr(link, end)
    return {
        "label": link.label,
        "link_type": link.type,
        "pk": other.pk,
        "type": types.class_name(other.node_type),
    }


def process_show(*, identifier: str) -> dict[str, Any]:
    """What ``verdi process show`` prints: properties, inputs, outputs,
    caller and called, each neighbour with its link label, pk and class, and
    how many log records the process has.

    :raises NotExistent: no such node.
    :raises InputValidationError: the node is not a process.
    """
    node = services.node_get(identifier=identifier)
    if not node.is_process:
        raise InputValidationError(f"node {node.pk} is not a process")
    attributes = node.attributes or {}
    incoming, outgoing = services.node_links(node=node)
    return {
        "pk": node.pk,
        "uuid": str(node.uuid),
        "type": types.class_name(node.node_type),
        "label": node.label,
        "description": node.description,
        "ctime": node.ctime,
        "mtime": node.mtime,
        "process_label": attributes.get("process_label"),
        "process_state": attributes.get("process_state"),
        "exit_status": attributes.get("exit_status"),
        "exit_message": attributes.get("exit_message"),
        "process_type": node.process_type,
        "inputs": [
            _neighbour(li, "input") for li in incoming if li.type not in CALL_TYPES
        ],
        "outputs": [
            _neighbour(li, "output") for li in outgoing if li.type not in CALL_TYPES
        ],
        "caller": [_neighbour(li, "input") for li in incoming if li.type in CALL_TYPES],
        "called": [
            _neighbour(li, "output") for li in outgoing if li.type in CALL_TYPES
        ],
        "log_count": node.dblogs.count(),
    }
