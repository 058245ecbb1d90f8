"""manage.py process report."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError

from logs.models import DbLog
from nodes import services, types
from nodes.services import IncomingLink
from tests.related_graph import run

pytestmark = pytest.mark.django_db


def test_report_shows_a_workflow_and_its_callees_indented(graph):
    out = run("process", "report", graph["workflow"].pk)
    lines = out.splitlines()
    launching = next(line for line in lines if "launching" in line)
    slow = next(line for line in lines if "slow" in line)
    assert launching.startswith("20")
    assert slow.startswith("  20") and "[WARNING]" not in slow
    assert "WARNING]: slow" in slow
    assert "failed" in out
    # INFO is below REPORT, the default threshold.
    assert "detail" not in out


def test_levelname_lowers_or_raises_the_threshold(graph):
    out = run("process", "report", graph["calc"].pk, "--levelname", "INFO")
    assert "detail" in out
    out = run("process", "report", graph["workflow"].pk, "--levelname", "ERROR")
    assert "failed" in out and "slow" not in out and "launching" not in out


def test_max_depth_stops_at_the_callers_level(graph):
    data = json.loads(
        run(
            "process",
            "report",
            graph["workflow"].pk,
            "--max-depth",
            0,
            "--format",
            "json",
        )
    )
    assert [entry["node"] for entry in data] == [graph["workflow"].pk]
    data = json.loads(
        run("process", "report", graph["workflow"].pk, "--format", "json")
    )
    assert [(entry["depth"], entry["node"]) for entry in data] == [
        (0, graph["workflow"].pk),
        (1, graph["calc"].pk),
    ]


def test_callees_come_in_the_order_they_were_called(graph, author):
    second = services.node_store(
        user=author,
        node_type=types.CALCJOB,
        links=[IncomingLink(graph["workflow"].pk, "again", "call_calc")],
    )
    DbLog.objects.create(dbnode=second, levelname="REPORT", message="second")
    data = json.loads(
        run("process", "report", graph["workflow"].pk, "--format", "json")
    )
    assert [entry["node"] for entry in data] == [
        graph["workflow"].pk,
        graph["calc"].pk,
        second.pk,
    ]


def test_a_process_without_logs_says_so(graph, author):
    quiet = services.node_store(user=author, node_type=types.CALCJOB)
    assert "No log messages" in run("process", "report", quiet.pk)


def test_a_missing_node_is_one_line(graph):
    with pytest.raises(CommandError, match="no node with pk 999999"):
        run("process", "report", 999999)


def test_a_data_node_has_no_process_report(author):
    data = services.node_store(user=author, node_type=types.INT)
    with pytest.raises(CommandError, match=f"node {data.pk} is not a process"):
        run("process", "report", data.pk)
