"""Processes in every state, some failed, one old, one in a group."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from nodes import services, types
from nodes.models import DbNode


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create(username="alice", is_superuser=True)


@pytest.fixture
def processes(user) -> dict[str, DbNode]:
    """By name: running, waiting, ok (finished 0), failed (finished 310),
    excepted, old (finished 0, 30 days ago), workflow (calls ``failed``)."""

    def store(state, exit_status=None, node_type=types.CALCJOB, **fields):
        attributes = {"process_state": state, "process_label": "PwCalculation"}
        if exit_status is not None:
            attributes["exit_status"] = exit_status
        attributes.update(fields.pop("attributes", {}))
        return services.node_store(
            user=user, node_type=node_type, attributes=attributes, **fields
        )

    made = {
        "running": store("running"),
        "waiting": store("waiting"),
        "ok": store("finished", 0),
        "failed": store(
            "finished",
            310,
            attributes={"exit_message": "The output file could not be read."},
        ),
        "excepted": store("excepted"),
        "old": store("finished", 0, ctime=timezone.now() - datetime.timedelta(days=30)),
    }
    made["workflow"] = store(
        "finished",
        0,
        node_type=types.WORKCHAIN,
        attributes={"process_label": "PwBandsWorkChain"},
    )
    services.link_add(
        source=made["workflow"].pk,
        target=made["failed"].pk,
        label="bands",
        link_type="call_calc",
    )
    structure = services.node_store(user=user, node_type=types.INT, label="x")
    services.link_add(
        source=structure.pk, target=made["failed"].pk, label="x", link_type="input_calc"
    )
    made["data"] = structure
    return made
