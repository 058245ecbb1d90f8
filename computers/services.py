"""Looking up, listing and deleting computers; what commands, views and the
admin call."""

from __future__ import annotations

import uuid as uuid_module

from django.db import transaction
from django.db.models import Count, QuerySet

from aiidasite.exceptions import NotExistent, ObjectInUse
from aiidasite.identifiers import pk_from_text
from computers.models import DbComputer


def computer_list() -> QuerySet[DbComputer]:
    """Every computer by label, each with ``node_count``, the nodes using it."""
    return DbComputer.objects.annotate(node_count=Count("dbnodes")).order_by("label")


def computer_get(*, identifier: int | str) -> DbComputer:
    """The computer with this label, pk or UUID (the label first, as verdi).

    :raises NotExistent: if no computer matches.
    """
    text = str(identifier).strip()
    if "\x00" in text:
        # No label holds one, and PostgreSQL refuses to compare with it.
        raise NotExistent(f"no computer {text!r}")
    query = DbComputer.objects.all()
    computer = query.filter(label=text).first()
    pk = pk_from_text(text)
    if computer is None and pk is not None:
        computer = query.filter(pk=pk).first()
    if computer is None:
        try:
            computer = query.filter(uuid=uuid_module.UUID(text)).first()
        except ValueError:
            pass
    if computer is None:
        raise NotExistent(f"no computer {text!r}")
    return computer


def computer_delete(*, computer: DbComputer) -> None:
    """Delete ``computer`` and its auth infos.

    Like ``verdi computer delete``, a computer that nodes use stays.

    :raises ObjectInUse: if nodes ran on or sit on the computer, with their
        count; nothing is deleted.
    """
    with transaction.atomic():
        used = computer.dbnodes.count()
        if used:
            raise ObjectInUse(
                f"computer {computer.label!r} is used by {used} node(s); "
                "delete those nodes first"
            )
        computer.delete()
