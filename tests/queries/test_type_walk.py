"""A limited query ordered by its first node's id, through a type and its
subtypes, returns exactly the rows a full sort would, however the stored
types change; on SQLite it walks the type index in id order."""

from __future__ import annotations

import pytest
from django.db import connection

from nodes.models import DbNode
from queries import statements
from queries.builder import QueryBuilder
from queries.compiler import Compiler
from queries.services import query_results
from queries.session import get_engine
from tests.queries.conftest import DICT, INT

pytestmark = pytest.mark.django_db

SUB_DICT = "data.core.dict.Dict.Sub."


def query(entity: str = "Dict", order: str | None = None, **window) -> dict:
    data = {
        "path": [{"entity": entity, "tag": "d"}],
        "filters": {"d": {"attributes.v": {"<": 100}}},
        "project": {"d": ["id"]},
        **window,
    }
    if order:
        data["order_by"] = [{"d": [{"id": {"order": order}}]}]
    return data


def ids(data: dict) -> list[int]:
    return QueryBuilder.from_dict(data).all(flat=True)


def expected(order: str, offset: int, limit: int) -> list[int]:
    """What a full sort of every matching Dict gives, by the ORM."""
    rows = DbNode.objects.filter(
        node_type__startswith="data.core.dict.", attributes__v__lt=100
    ).order_by("-id" if order == "desc" else "id")
    return list(rows.values_list("id", flat=True))[offset : offset + limit]


@pytest.fixture
def dicts(graph):
    statements.forget()
    for value in range(30):
        graph.node(DICT, attributes={"v": value if value % 3 else 500})
        graph.node(INT, attributes={"v": value})


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("offset", [0, 7])
def test_windows_match_a_full_sort_as_types_come_and_go(graph, dicts, order, offset):
    window = {"limit": 5, "offset": offset}

    def check() -> None:
        assert ids(query(order=order, **window)) == expected(order, offset, 5)

    check()
    # A subtype written after the statement was kept: its rows join in order.
    for value in range(10):
        graph.node(SUB_DICT, attributes={"v": value})
    check()
    # The subtype alone, then nothing at all.
    DbNode.objects.filter(node_type=DICT).delete()
    check()
    DbNode.objects.filter(node_type=SUB_DICT).delete()
    assert ids(query(order=order, **window)) == []


def test_the_implicit_id_order_of_the_api_walks_too(graph, dicts):
    results = query_results(query=query(limit=8))
    first = [row["d"]["id"] for row in results[0:8]]
    assert first == expected("asc", 0, 8)
    graph.node(SUB_DICT, attributes={"v": 1})
    again = [row["d"]["id"] for row in query_results(query=query(limit=50))[0:50]]
    assert again == expected("asc", 0, 50)
    assert query_results(query=query(limit=50)).count() == len(again)


def test_a_stale_answer_still_gives_every_row(graph, dicts):
    """The statement is exact even when a subtype was written between the
    question and the run: here the answer given is one the database no
    longer holds."""
    graph.node(SUB_DICT, attributes={"v": 2})
    builder = QueryBuilder.from_dict(query(order="asc", limit=40))

    def stale(question):
        kind, _ = question
        return False if kind == "every" else DICT

    dialect = get_engine().dialect.name
    statement, _ = Compiler(builder, dialect, stale).statement()
    with get_engine().connect() as sa_connection:
        rows = [row[0] for row in sa_connection.execute(statement)]
    assert rows == expected("asc", 0, 40)
    assert SUB_DICT in DbNode.objects.filter(id__in=rows).values_list(
        "node_type", flat=True
    )


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="PostgreSQL walks its primary key for these queries by itself",
)
def test_sqlite_walks_the_type_index_in_id_order(dicts):
    builder = QueryBuilder.from_dict(query(limit=5))
    builder.order_by({"d": ["id"]})
    statement, _, _ = builder._statement("sqlite")
    sql = str(
        statement.compile(
            dialect=get_engine().dialect, compile_kwargs={"literal_binds": True}
        )
    )
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        plan = [row[-1] for row in cursor.fetchall()]
    # The only type by equality: the rows of the index come in id order.
    assert any("(node_type=?)" in step for step in plan), plan
    assert "MERGE (UNION ALL)" in plan, plan
