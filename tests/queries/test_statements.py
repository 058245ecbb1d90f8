"""A query asked again reuses its built statement, and answers as if built anew."""

from __future__ import annotations

import datetime

import pytest

from queries import statements
from queries.builder import QueryBuilder
from queries.compiler import Compiler
from tests.queries.conftest import FLOAT, INT

pytestmark = pytest.mark.django_db


def labels(query: dict) -> list[str]:
    return sorted(row[0] for row in QueryBuilder.from_dict(query).all())


def int_labels(minimum: int) -> dict:
    return {
        "path": [{"entity": "Int", "tag": "i"}],
        "filters": {"i": {"attributes.value": {">=": minimum}}},
        "project": {"i": ["label"]},
    }


@pytest.fixture
def builds(monkeypatch) -> list[int]:
    """One entry per statement the compiler builds."""
    counted: list[int] = []
    original = Compiler.statement

    def counting(self):
        counted.append(1)
        return original(self)

    monkeypatch.setattr(Compiler, "statement", counting)
    statements.forget()
    return counted


def test_the_same_query_twice_is_built_once(graph, builds):
    graph.node(INT, label="a", attributes={"value": 1})
    assert labels(int_labels(1)) == labels(int_labels(1)) == ["a"]
    assert len(builds) == 1


def test_rows_written_between_two_runs_are_seen(graph, builds):
    graph.node(INT, label="a", attributes={"value": 1})
    assert labels(int_labels(1)) == ["a"]
    graph.node(INT, label="b", attributes={"value": 2})
    graph.node(INT, label="c", attributes={"value": 0})
    assert labels(int_labels(1)) == ["a", "b"]


def test_queries_differing_in_a_value_are_answered_apart(graph, builds):
    graph.node(INT, label="a", attributes={"value": 1})
    graph.node(INT, label="b", attributes={"value": 2})
    assert labels(int_labels(1)) == ["a", "b"]
    assert labels(int_labels(2)) == ["b"]
    assert len(builds) == 2


def test_a_type_filter_built_when_every_node_matched_holds_once_one_does_not(
    graph, builds
):
    query = {"path": [{"entity": "Int", "tag": "i"}], "project": {"i": ["label"]}}
    graph.node(INT, label="a")
    assert labels(query) == ["a"]
    graph.node(FLOAT, label="f")
    assert labels(query) == ["a"]
    graph.node(INT, label="b")
    assert labels(query) == ["a", "b"]


def test_naive_times_are_read_in_the_zone_of_each_run(graph, builds, settings):
    stamp = datetime.datetime(2020, 1, 1, 7, 0, tzinfo=datetime.UTC)
    graph.node(INT, label="a", ctime=stamp)
    query = {
        "path": [{"entity": "Int", "tag": "i"}],
        "filters": {"i": {"ctime": {">": "2020-01-01T05:00:00"}}},
        "project": {"i": ["label"]},
    }
    settings.TIME_ZONE = "UTC"
    assert labels(query) == ["a"]
    # 05:00 in New York is 10:00 UTC, after the node.
    settings.TIME_ZONE = "America/New_York"
    assert labels(query) == []


def test_python_values_are_not_kept(graph, builds):
    stamp = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    graph.node(INT, label="a")
    query = QueryBuilder().append(
        "Int", filters={"ctime": {">": stamp}}, project=["label"]
    )
    assert query.all() == query.all() == [["a"]]
    assert len(builds) == 2
    assert statements.kept() == 0


def test_at_most_size_statements_are_kept(graph, builds, monkeypatch):
    monkeypatch.setattr(statements, "SIZE", 3)
    for minimum in range(5):
        labels(int_labels(minimum))
    assert statements.kept() == 3
    # The most recent are the ones kept.
    labels(int_labels(4))
    assert len(builds) == 5
