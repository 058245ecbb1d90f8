"""A kept statement run again goes to the driver directly, with the answers
SQLAlchemy gave the first time, the rows written since included."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection

from queries import driver, statements
from queries.builder import QueryBuilder
from tests.queries.conftest import DICT, INT, recorded_statements

pytestmark = pytest.mark.django_db


def every_kind(minimum: int) -> dict:
    return {
        "path": [{"entity": "Dict", "tag": "d"}],
        "filters": {"d": {"attributes.index": {">=": minimum}}},
        "project": {
            "d": ["id", "uuid", "ctime", "attributes", "attributes.index", "label"]
        },
        "order_by": [{"d": ["id"]}],
    }


def rows(query: dict) -> list[list]:
    return QueryBuilder.from_dict(query).all()


@pytest.fixture(autouse=True)
def fresh() -> None:
    statements.forget()


def test_a_query_asked_again_skips_sqlalchemy_and_answers_the_same(graph):
    node = graph.node(DICT, label="a", attributes={"index": 3, "tags": ["x"]})
    graph.node(INT, label="i", attributes={"value": 1})
    with recorded_statements() as first_run:
        first = rows(every_kind(1))
    with recorded_statements() as second_run:
        second = rows(every_kind(1))
    assert first_run and not second_run
    assert first == second
    [[pk, uuid, ctime, attributes, index, label]] = second
    assert (pk, uuid, index, label) == (node.pk, str(node.uuid), 3, "a")
    assert attributes == {"index": 3, "tags": ["x"]}
    assert ctime == node.ctime and ctime.tzinfo is not None


def test_rows_written_between_runs_are_seen_by_the_driver(graph):
    graph.node(DICT, label="a", attributes={"index": 1})
    assert [row[-1] for row in rows(every_kind(1))] == ["a"]
    graph.node(DICT, label="b", attributes={"index": 2})
    graph.node(DICT, label="c", attributes={"index": 0})
    with recorded_statements() as executed:
        labels = [row[-1] for row in rows(every_kind(1))]
    assert labels == ["a", "b"]
    assert not executed


def test_queries_differing_in_a_value_are_run_apart(graph):
    graph.node(DICT, label="a", attributes={"index": 1})
    graph.node(DICT, label="b", attributes={"index": 2})
    for _ in range(2):
        assert [row[-1] for row in rows(every_kind(1))] == ["a", "b"]
        assert [row[-1] for row in rows(every_kind(2))] == ["b"]
        assert [row[-1] for row in rows(every_kind(3))] == []


def test_pages_and_counts_of_a_query_asked_again(graph):
    for index in range(5):
        graph.node(DICT, label=f"n{index}", attributes={"index": index})
    query = QueryBuilder.from_dict(every_kind(1))
    for _ in range(2):
        assert [row[-1] for row in query.window(1, 2).all()] == ["n2", "n3"]
        assert query.count() == 4
        assert [row["d"]["label"] for row in query.window(3, 5).dict()] == ["n4"]
    graph.node(DICT, label="n5", attributes={"index": 5})
    assert query.count() == 5
    assert [row[-1] for row in query.window(3, 5).all()] == ["n4", "n5"]


def test_batches_of_a_query_asked_again_are_converted(graph):
    stamp = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    for index in range(3):
        graph.node(DICT, label=f"n{index}", attributes={"index": index}, ctime=stamp)
    query = every_kind(0)
    expected = rows(query)
    batched = list(QueryBuilder.from_dict(query).iterall(batch_size=2))
    assert batched == expected
    assert [row[2] for row in batched] == [stamp] * 3


def prepared_names() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM pg_prepared_statements "
            "WHERE name LIKE 'aiidasite_query_%%'"
        )
        return [name for (name,) in cursor.fetchall()]


needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)


@needs_postgresql
def test_a_session_keeps_at_most_so_many_prepared_queries(graph, monkeypatch):
    monkeypatch.setattr(driver, "PREPARED_PER_SESSION", 2)
    for index in range(4):
        graph.node(DICT, label=f"n{index}", attributes={"index": index})
    before = set(prepared_names())
    for _ in range(2):
        for minimum in range(4):
            labels = [row[-1] for row in rows(every_kind(minimum))]
            assert labels == [f"n{index}" for index in range(minimum, 4)]
    assert len(set(prepared_names()) - before) <= 2


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_new_database_session_prepares_the_query_again(graph):
    graph.node(DICT, label="a", attributes={"index": 1})
    assert [row[-1] for row in rows(every_kind(1))] == ["a"]
    assert [row[-1] for row in rows(every_kind(1))] == ["a"]
    assert prepared_names()
    connection.close()
    graph.node(DICT, label="b", attributes={"index": 2})
    assert prepared_names() == []
    with recorded_statements() as executed:
        assert [row[-1] for row in rows(every_kind(1))] == ["a", "b"]
    assert not executed


def test_dict_rows_are_shaped_as_iterdict_shapes_them(graph):
    graph.node(DICT, label="a", attributes={"index": 1})
    query = QueryBuilder.from_dict(
        {
            "path": [
                {"entity": "Dict", "tag": "d"},
                {"entity": "user", "tag": "u", "with_node": "d"},
            ],
            "project": {"d": ["label", "attributes.index", "label"], "u": ["email"]},
            "project_map": {"d": {"attributes.index": "index"}},
        }
    )
    for _ in range(2):
        [row] = query.dict()
        assert [row] == list(query.iterdict())
        assert list(row) == ["d", "u"]
        assert list(row["d"].items()) == [("label", "a"), ("index", 1)]
        assert row["u"] == {"email": graph.user.email}
