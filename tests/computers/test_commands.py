"""manage.py computer list|show|delete and node show's computer."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError

from comments.models import DbComment
from computers.models import DbComputer
from logs.models import DbLog
from nodes import types
from nodes.models import DbNode
from tests.related_graph import run

pytestmark = pytest.mark.django_db


def test_list_shows_each_computer_with_its_nodes(graph):
    rows = json.loads(run("computer", "list", "--format", "json"))
    assert [(row["label"], row["nodes"]) for row in rows] == [
        ("cluster", 2),
        ("laptop", 0),
    ]
    assert "cluster.example.org" in run("computer", "list")


def test_show_gives_fields_and_metadata(graph):
    out = run("computer", "show", "cluster")
    assert "core.slurm" in out
    assert 'workdir          "/scratch"' in out
    data = json.loads(run("computer", "show", "cluster", "--format", "json"))
    assert data["nodes"] == 2


def test_show_of_a_missing_computer_is_one_line(graph):
    with pytest.raises(CommandError, match="no computer 'nowhere'"):
        run("computer", "show", "nowhere")


def test_delete_refuses_a_computer_in_use_with_the_count(graph):
    with pytest.raises(CommandError, match="used by 2 node"):
        run("computer", "delete", "cluster")
    assert DbComputer.objects.filter(label="cluster").exists()
    run("computer", "delete", "laptop")
    assert not DbComputer.objects.filter(label="laptop").exists()


def test_node_show_gives_computer_and_counts(graph):
    data = json.loads(run("node", "show", graph["calc"].pk, "--format", "json"))
    assert (data["computer"], data["comments"], data["logs"]) == ("cluster", 1, 3)
    out = run("node", "show", graph["calc"].pk)
    assert "computer      cluster" in out
    assert "logs          3" in out


def test_demo_data_creates_computers_comments_and_logs():
    out = run("demo_data", "--nodes", 30)
    assert "2 computers" in out
    calcs = DbNode.objects.filter(node_type=types.CALCJOB)
    assert calcs.exists() and not calcs.filter(dbcomputer__isnull=True).exists()
    assert set(calcs.values_list("dbcomputer__label", flat=True)) == {
        "daint",
        "workstation",
    }
    assert DbComment.objects.filter(dbnode__in=calcs).exists()
    assert DbLog.objects.filter(
        dbnode__node_type=types.WORKCHAIN, levelname="REPORT"
    ).exists()
    assert DbLog.objects.filter(dbnode__in=calcs).count() == calcs.count()
