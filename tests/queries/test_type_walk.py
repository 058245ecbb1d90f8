"""A limited query ordered by its first node's id, through a type and its
subtypes, returns exactly the rows a full sort would, however the stored
types change; on SQLite it walks the type index in id order."""

from __future__ import annotations

import pytest
from django.db import connection

from nodes.models import DbLink, DbNode
from queries import statements
from queries.builder import QueryBuilder
from queries.compiler import WALK_TYPES, Compiler
from queries.services import query_results
from queries.session import get_engine
from tests.queries.conftest import CALCJOB, DICT, INT, STRUCTURE, WORKCHAIN

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


def expected(
    order: str, offset: int, limit: int, prefix: str = "data.core.dict."
) -> list[int]:
    """What a full sort of every match gives, by the ORM."""
    rows = DbNode.objects.filter(
        node_type__startswith=prefix, attributes__v__lt=100
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


@pytest.mark.parametrize(
    ("entity", "prefix", "answer"),
    [
        ("Dict", "data.core.dict.", (DICT,)),
        ("data.core.", "data.core.", (DICT,)),
        ("data.core.", "data.core.", ("data.core.a.", INT, "data.core.z.")),
    ],
)
def test_a_stale_answer_still_gives_every_row(graph, dicts, entity, prefix, answer):
    """The statement is exact even when types were written or deleted
    between the question and the run: here the answer given is one the
    database does not hold."""
    graph.node(SUB_DICT, attributes={"v": 2})
    # A type that is the prefix itself: the first range includes its end.
    graph.node(prefix, attributes={"v": 3})
    builder = QueryBuilder.from_dict(query(entity, order="asc", limit=70))

    def stale(question):
        kind, _ = question
        return False if kind == "every" else answer

    dialect = get_engine().dialect.name
    statement, _ = Compiler(builder, dialect, stale).statement()
    with get_engine().connect() as sa_connection:
        rows = [row[0] for row in sa_connection.execute(statement)]
    assert rows == expected("asc", 0, 70, prefix)
    assert SUB_DICT in DbNode.objects.filter(id__in=rows).values_list(
        "node_type", flat=True
    )


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_several_types_under_a_prefix_merge_in_id_order(graph, dicts, order):
    for value in range(12):
        graph.node(STRUCTURE, attributes={"v": value})
        graph.node(SUB_DICT, attributes={"v": value})
    for offset in (0, 11, 60):
        window = {"limit": 9, "offset": offset}
        got = ids(query("data.core.", order=order, **window))
        assert got == expected(order, offset, 9, "data.core.")


def test_more_types_than_a_walk_merges_still_answer(graph, dicts):
    for index in range(WALK_TYPES + 2):
        graph.node(f"data.core.kind{index}.Kind{index}.", attributes={"v": index})
    got = ids(query("data.core.", order="asc", limit=25, offset=3))
    assert got == expected("asc", 3, 25, "data.core.")


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="PostgreSQL walks its primary key for these queries by itself",
)
@pytest.mark.parametrize("entity", ["Dict", "data.core."])
def test_sqlite_walks_the_type_index_in_id_order(graph, dicts, entity):
    # Not every node under the prefix: else no type filter is needed.
    graph.node(CALCJOB)
    builder = QueryBuilder.from_dict(query(entity, limit=5))
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


@pytest.mark.parametrize("relation", ["with_ancestors", "with_descendants"])
def test_a_closure_is_built_once_and_its_rows_come_in_id_order(graph, relation):
    statements.forget()
    structures = [graph.node(STRUCTURE) for _ in range(4)]
    dicts = [graph.node(DICT) for _ in range(4)]
    calcs = [graph.node(CALCJOB) for _ in range(4)]
    for structure, parameters, calc in zip(structures, dicts, calcs, strict=True):
        graph.link(structure, calc, "input_calc", "structure")
        graph.link(parameters, calc, "input_calc", "parameters")
        graph.link(calc, graph.node(DICT), "create", "output_parameters")
    data = {
        "path": [
            {"entity": "data.core.", "tag": "d"},
            {"entity": "node", "tag": "n", relation: "d"},
        ],
        "project": {"d": ["id"], "n": ["id"]},
        "order_by": [{"d": [{"id": {"order": "desc"}}]}],
        "limit": 5,
        "offset": 1,
    }
    builder = QueryBuilder.from_dict(data)
    statement, _, _ = builder._statement(get_engine().dialect.name)
    sql = str(statement.compile(dialect=get_engine().dialect))
    # One closure of the prefix's nodes, not one per type under it.
    assert sql.count("(start_id, node_id) AS") == 1, sql
    rows = [tuple(row) for row in builder.all()]
    full = QueryBuilder.from_dict({**data, "limit": None, "offset": None}).all()
    starts = sorted((row[0] for row in full), reverse=True)
    assert [row[0] for row in rows] == starts[1:6]
    # Inputs reach their calculation and its output; outputs reach their
    # calculation and its two inputs.
    assert len(full) == (16 if relation == "with_ancestors" else 12)


@pytest.fixture
def outputs(graph):
    """Calculations with several outputs each, linked in falling id order
    (so a table's own order is not the ids'), and a workflow that returns
    one output under two labels."""
    statements.forget()
    for index in range(5):
        calc = graph.node(CALCJOB, attributes={"v": index})
        made = [graph.node(DICT, attributes={"v": index}) for _ in range(4)]
        for number, output in enumerate(reversed(made)):
            graph.link(calc, output, "create", f"out_{number}")
        workflow = graph.node(WORKCHAIN)
        for label in ("second", "first"):
            graph.link(workflow, made[0], "return", label)
        graph.node(INT)


def joined(limit: int | None = None, offset: int = 0) -> dict:
    data = {
        "path": [
            {"entity": "process.", "tag": "c"},
            {"entity": "node", "tag": "o", "with_incoming": "c"},
        ],
        "project": {"c": ["id"], "o": ["id"], "c--o": ["id", "label"]},
        "offset": offset,
    }
    if limit is not None:
        data["limit"] = limit
    return data


def test_pages_of_a_joined_query_come_in_every_id_order_and_never_overlap(outputs):
    def rows(**window) -> list[tuple]:
        results = query_results(query=joined(**window))
        return [
            (row["c"]["id"], row["o"]["id"], row["c--o"]["id"])
            for row in results[0 : window.get("limit") or 10_000]
        ]

    every = rows()
    assert every == sorted(every)
    assert len(every) == len(set(every)) == 30
    pages = [rows(limit=7, offset=offset) for offset in range(0, 35, 7)]
    assert all(pages)
    assert [row for page in pages for row in page] == every


def test_a_walked_join_merges_in_every_id_order(outputs):
    data = joined(limit=9, offset=4)
    data["order_by"] = [{"c": ["id"]}, {"o": [{"id": "desc"}]}, {"c--o": ["id"]}]
    got = QueryBuilder.from_dict(data).all()
    links = DbLink.objects.filter(input__node_type__startswith="process.")
    full = sorted(
        ([link.input_id, link.output_id, link.pk, link.label] for link in links),
        key=lambda row: (row[0], -row[1], row[2]),
    )
    assert got == full[4:13]
