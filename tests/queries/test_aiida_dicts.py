"""Queries in the form aiida-core's ``QueryBuilder.as_dict()`` writes.

The dicts in tests/data/aiida_query_dicts.json were written by aiida-core
2.9.4 itself (tests/data/make_aiida_query_dicts.py); the differential test
runs hundreds more, fresh from aiida-core, when it is installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aiidasite.exceptions import InputValidationError
from queries.builder import QueryBuilder
from queries.compiler import KINDS
from tests.queries.conftest import BANDS, CALCJOB, FLOAT, INT, STRUCTURE

pytestmark = pytest.mark.django_db

DICTS = {
    entry["name"]: entry["dict"]
    for entry in json.loads(
        (Path(__file__).parents[1] / "data" / "aiida_query_dicts.json").read_text()
    )
}


@pytest.fixture
def small_graph(graph):
    user = graph.user
    user.email = "alice@example.org"
    user.save()
    ints = [graph.node(INT, label=f"i{v}", attributes={"value": v}) for v in (1, 2)]
    graph.node(FLOAT, label="f1", attributes={"value": 1.5})
    structure = graph.node(STRUCTURE, label="s1")
    calc = graph.node(CALCJOB, label="c1")
    bands = graph.node(BANDS, label="b1")
    created = graph.node(INT, label="i3", attributes={"value": 3})
    graph.link(structure, calc, "input_calc", "structure")
    graph.link(ints[0], calc, "input_calc", "x")
    graph.link(calc, bands, "create", "bands")
    graph.link(calc, created, "create", "result")
    graph.group("set", [structure, bands])
    return {"ints": [*ints, created]}


def run(name):
    return QueryBuilder.from_dict(DICTS[name])


def test_filters_order_with_cast_and_projections(small_graph):
    ints = small_graph["ints"]
    assert run("int_filter_order_cast").all() == [
        [str(ints[2].uuid), 3],
        [str(ints[1].uuid), 2],
    ]


def test_edges_between_nodes(small_graph):
    assert run("edges_through_a_calculation").dict() == [
        {
            "s": {"label": "s1"},
            "c": {"label": "c1"},
            "s--c": {"label": "structure"},
            "b": {"label": "b1"},
        }
    ]
    assert run("no_subclassing_with_outgoing").all() == [["i3", "c1"]]


def test_groups_users_and_descendants(small_graph):
    rows = sorted(map(tuple, run("group_node_user").all()))
    assert rows == [
        ("set", "b1", "alice@example.org"),
        ("set", "s1", "alice@example.org"),
    ]
    # Descendants of s1 are b1, c1 and i3; by label, the second and third.
    assert run("descendants_paged").all(flat=True) == ["c1", "i3"]


def test_outer_joins_keep_rows_without_a_match(small_graph):
    rows = sorted(run("outerjoin").all(), key=lambda row: (row[0], row[1] or ""))
    # Only c1 has an output labelled b1; every other node keeps its row.
    assert rows == [
        ["b1", None],
        ["c1", "b1"],
        ["f1", None],
        ["i1", None],
        ["i2", None],
        ["i3", None],
        ["s1", None],
    ]
    data = DICTS["outerjoin"]
    data = {**data, "path": [data["path"][0], {**data["path"][1], "outerjoin": False}]}
    assert QueryBuilder.from_dict(data).all() == [["c1", "b1"]]


def test_several_classes_at_once(small_graph):
    assert sorted(run("two_classes").all(flat=True)) == ["f1", "i1", "i2", "i3"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("unsupported_projection_cast", r"Projection options \['cast'\]"),
    ],
)
def test_what_has_no_counterpart_is_refused_by_name(name, message):
    with pytest.raises(InputValidationError, match=message):
        run(name).all()


def test_an_entity_the_site_does_not_query_is_named():
    if "computer" in KINDS:
        assert run("computer").all() is not None
        return
    with pytest.raises(InputValidationError, match="orm_base 'computer'"):
        run("computer")


def test_the_api_takes_aiida_core_dicts(api_client, small_graph):
    response = api_client.post(
        "/api/v1/querybuilder/", DICTS["int_filter_order_cast"], format="json"
    )
    assert response.status_code == 200, response.json()
    values = [row["i"]["attributes.value"] for row in response.json()["results"]]
    assert values == [3, 2]
    response = api_client.post(
        "/api/v1/querybuilder/", DICTS["unsupported_projection_cast"], format="json"
    )
    assert response.status_code == 400
    assert "cast" in response.json()["detail"]
