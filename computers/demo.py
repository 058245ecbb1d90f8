"""Computers, comments and log records for the demo graph, so its pages show
what real AiiDA data holds: calculations on two machines, notes by the
scientist, what the workflows reported and what went wrong."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from comments.models import DbComment
from computers.models import DbAuthInfo, DbComputer
from logs.models import DbLog
from nodes import types
from nodes.models import DbNode

COMPUTERS = (
    ("daint", "daint.cscs.ch", "core.slurm", "core.ssh"),
    ("workstation", "localhost", "core.direct", "core.local"),
)
CODE = "data.core.code.installed.InstalledCode."


def demo_annotations_create(*, user: Any) -> dict[str, int]:
    """Two computers (with the user's auth infos) that the calculations ran
    on in turn; a comment on every third calculation; a REPORT per workflow
    and a WARNING per calculation. Answers what was made, by kind."""
    computers = []
    for label, hostname, scheduler, transport in COMPUTERS:
        computer, _ = DbComputer.objects.get_or_create(
            label=label,
            defaults={
                "hostname": hostname,
                "description": f"{label} for the demo",
                "scheduler_type": scheduler,
                "transport_type": transport,
                "metadata": {"workdir": "/scratch/{username}/aiida"},
            },
        )
        DbAuthInfo.objects.get_or_create(aiidauser=user, dbcomputer=computer)
        computers.append(computer)
    calcs = list(
        DbNode.objects.filter(Q(node_type=types.CALCJOB) | Q(node_type=CODE))
        .order_by("pk")
        .values_list("pk", "label")
    )
    for index, computer in enumerate(computers):
        ran_here = [pk for pk, _ in calcs[index :: len(computers)]]
        DbNode.objects.filter(pk__in=ran_here).update(dbcomputer=computer)
    comments = [
        DbComment(dbnode_id=pk, user=user, content=f"{label}: checked the output")
        for pk, label in calcs[::3]
    ]
    logs = [
        DbLog(
            dbnode_id=pk,
            loggername="aiida.orm.nodes.process.calculation.calcjob.CalcJobNode",
            levelname="WARNING",
            message=f"{label}: SCF needed more than 50 iterations",
        )
        for pk, label in calcs
    ]
    for pk, label in DbNode.objects.filter(node_type=types.WORKCHAIN).values_list(
        "pk", "label"
    ):
        logs.append(
            DbLog(
                dbnode_id=pk,
                loggername="aiida.orm.nodes.process.workflow.workchain.WorkChainNode",
                levelname="REPORT",
                message=f"{label}: launching the scf and bands calculations",
            )
        )
    DbComment.objects.bulk_create(comments, batch_size=1000)
    DbLog.objects.bulk_create(logs, batch_size=1000)
    return {"computers": len(computers), "comments": len(comments), "logs": len(logs)}
