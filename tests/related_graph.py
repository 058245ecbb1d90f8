"""A small graph with computers, comments and logs, as the computers, comments
and logs tests need (their conftest modules import these fixtures)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from comments.models import DbComment
from computers.models import DbAuthInfo, DbComputer
from logs.models import DbLog
from nodes import services, types
from nodes.models import DbNode
from nodes.services import IncomingLink


def run(*args: object) -> str:
    """What ``manage.py ARGS...`` writes to stdout (arguments as text)."""
    out = StringIO()
    call_command(*map(str, args), stdout=out)
    return out.getvalue()


@pytest.fixture
def author(django_user_model):
    return django_user_model.objects.create_user(
        username="ada", password="pw", email="ada@example.org"
    )


@pytest.fixture
def graph(author):
    """A workflow calling a calculation on a computer that a code sits on;
    a comment on the calculation, logs on both."""
    cluster = DbComputer.objects.create(
        label="cluster",
        hostname="cluster.example.org",
        scheduler_type="core.slurm",
        transport_type="core.ssh",
        metadata={"workdir": "/scratch"},
    )
    DbComputer.objects.create(label="laptop", scheduler_type="core.direct")
    DbAuthInfo.objects.create(
        aiidauser=author, dbcomputer=cluster, auth_params={"key": "secret"}
    )
    workflow = services.node_store(user=author, node_type=types.WORKCHAIN)
    code = services.node_store(
        user=author, node_type="data.core.code.installed.InstalledCode."
    )
    calc = services.node_store(
        user=author,
        node_type=types.CALCJOB,
        links=[
            IncomingLink(workflow.pk, "run", "call_calc"),
            IncomingLink(code.pk, "code", "input_calc"),
        ],
    )
    DbNode.objects.filter(pk__in=[code.pk, calc.pk]).update(dbcomputer=cluster)
    DbComment.objects.create(dbnode=calc, user=author, content="looks right")
    DbLog.objects.create(dbnode=workflow, levelname="REPORT", message="launching")
    DbLog.objects.create(dbnode=calc, levelname="WARNING", message="slow")
    DbLog.objects.create(dbnode=calc, levelname="ERROR", message="failed")
    DbLog.objects.create(dbnode=calc, levelname="INFO", message="detail")
    return {"workflow": workflow, "code": code, "calc": calc, "computer": cluster}
