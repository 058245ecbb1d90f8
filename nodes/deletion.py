"""Deleting nodes the way AiiDA's traversal rules say, in set-based SQL.

The closure is walked breadth-first over the link table (a few queries per
hop, never one per node); rows go in set-based DELETEs in one transaction
(one per table on PostgreSQL, whose keys into nodes are checked once per
statement, see ``nodes.0010``; one per chunk of pks on SQLite); the
repository objects no remaining node references go once it commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from aiidasite.exceptions import PermissionDenied
from nodes import bulk, files
from nodes.models import DbNode, LinkType

ALWAYS_FORWARD = (LinkType.INPUT_CALC, LinkType.INPUT_WORK)
ALWAYS_BACKWARD = (
    LinkType.CREATE,
    LinkType.RETURN,
    LinkType.CALL_CALC,
    LinkType.CALL_WORK,
)


def delete_nodes(
    pks: Iterable[int],
    *,
    dry_run: bool = True,
    create_forward: bool = True,
    call_calc_forward: bool = True,
    call_work_forward: bool = True,
    user: Any = None,
) -> set[int]:
    """Delete ``pks`` and every node AiiDA's deletion rules take with them.

    Always followed: processes that used a deleted data node as input, its
    creator and the workflows that returned it, and a deleted process's
    caller. The options switch off following a calculation's outputs
    (``create_forward``) and a workflow's callees (``call_*_forward``).
    Returns the pks deleted, or that would be with ``dry_run``.

    ``user``, when given, is who asks: unless staff, every node the rules take
    must be theirs.

    :raises NotExistent: if one of ``pks`` does not exist (nothing deleted).
    :raises PermissionDenied: if the rules take nodes of another user than a
        non-staff ``user`` (nothing deleted, also with ``dry_run``).
    """
    start = {int(pk) for pk in pks}
    forward = list(ALWAYS_FORWARD)
    if create_forward:
        forward.append(LinkType.CREATE)
    if call_calc_forward:
        forward.append(LinkType.CALL_CALC)
    if call_work_forward:
        forward.append(LinkType.CALL_WORK)
    with transaction.atomic():
        bulk.existing_node_types(start)
        found = bulk.closure(start, forward, list(ALWAYS_BACKWARD))
        if user is not None and not user.is_staff:
            refuse_foreign_nodes(found, user)
        if not dry_run:
            delete_nodes_and_connections(found)
    return found


def refuse_foreign_nodes(pks: set[int], user: Any) -> None:
    """:raises PermissionDenied: if a node of ``pks`` belongs to another user."""
    count, first = 0, None
    for chunk in bulk.chunked(sorted(pks)):
        foreign = DbNode.objects.filter(pk__in=chunk).exclude(user_id=user.pk)
        found = list(foreign.order_by("pk").values_list("pk", flat=True)[:1])
        if found:
            count += foreign.count()
            first = found[0] if first is None else first
    if count:
        raise PermissionDenied(
            f"deleting would take {count} node(s) of other users (first: pk "
            f"{first}); only their owners or staff may delete them"
        )


def delete_nodes_and_connections(pks: Iterable[int]) -> None:
    """Delete exactly these nodes, their links and group memberships.

    No traversal rules apply: callers that want AiiDA's consistency use
    :func:`delete_nodes`. Repository objects that no remaining node
    references are removed once the transaction commits.
    """
    targets = sorted({int(pk) for pk in pks})
    with transaction.atomic():
        orphans = bulk.delete_rows(targets)
        if orphans:
            # Objects are content-addressed: another node may share one.
            orphans -= bulk.referenced_object_keys(orphans)
        if orphans:
            # The rows are gone for good by then; objects a failure leaves behind
            # are orphans that `repository maintain` removes.
            transaction.on_commit(lambda: files.delete_objects(orphans), robust=True)


def deletion_dependents(pks: Iterable[int]) -> dict[str, int]:
    """What else goes with these nodes, by kind: ``{"comments": 2,
    "log records": 5}`` (comments and logs go with their node in AiiDA)."""
    return bulk.count_dependents(pks)
