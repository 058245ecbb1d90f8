"""QueryManager: statistics, past days, groups, bands and closest parents."""

from __future__ import annotations

import datetime

import pytest

from aiidasite.exceptions import InputValidationError, NotExistent
from queries import statistics
from queries.builder import QueryBuilder
from queries.graph import hill_formula
from queries.manager import QueryManager
from tests.queries.conftest import (
    BANDS,
    CALCJOB,
    DICT,
    FLOAT,
    INT,
    STRUCTURE,
    WORKCHAIN,
    recorded_statements,
)

pytestmark = pytest.mark.django_db


UTC = datetime.UTC


def at(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def test_creation_statistics_count_types_and_days(graph, django_user_model):
    other = django_user_model.objects.create_user(username="bob")
    graph.node(INT, ctime=at(2024, 3, 1, 10))
    graph.node(INT, ctime=at(2024, 3, 1, 23, 30))
    graph.node(FLOAT, ctime=at(2024, 3, 3, 0, 10))
    graph.node(DICT, ctime=at(2024, 3, 3, 1), user=other)
    stats = QueryManager().get_creation_statistics()
    assert stats == {
        "total": 4,
        "types": {DICT: 1, FLOAT: 1, INT: 2},
        "ctime_by_day": {"2024-03-01": 2, "2024-03-03": 2},
    }
    mine = QueryManager().get_creation_statistics(user_pk=graph.user.pk)
    assert mine["total"] == 3
    assert mine["ctime_by_day"] == {"2024-03-01": 2, "2024-03-03": 1}


@pytest.mark.parametrize(
    ("zone", "days"),
    [
        ("Europe/Zurich", {"2024-03-01": 1, "2024-03-02": 1, "2024-07-01": 1}),
        ("America/New_York", {"2024-03-01": 2, "2024-06-30": 1}),
        ("Asia/Kolkata", {"2024-03-01": 1, "2024-03-02": 1, "2024-07-01": 1}),
    ],
)
def test_days_are_counted_in_the_site_time_zone(graph, settings, zone, days):
    settings.TIME_ZONE = zone
    graph.node(INT, ctime=at(2024, 3, 1, 10))
    graph.node(INT, ctime=at(2024, 3, 1, 23, 30))  # Zurich: 00:30 next day
    graph.node(INT, ctime=at(2024, 7, 1, 1))  # New York: 21:00 the day before
    stats = QueryManager().get_creation_statistics()
    assert stats["ctime_by_day"] == days
    mine = QueryManager().get_creation_statistics(user_pk=graph.user.pk)
    assert mine["ctime_by_day"] == days


def test_days_follow_daylight_saving_changes(graph, settings):
    settings.TIME_ZONE = "Europe/Zurich"
    # 22:30 UTC is 23:30 in winter (same day) and 00:30 in summer (next day)
    graph.node(INT, ctime=at(2024, 3, 30, 22, 30))
    graph.node(INT, ctime=at(2024, 3, 31, 22, 30))
    expected = {"2024-03-30": 1, "2024-04-01": 1}
    assert QueryManager().get_creation_statistics()["ctime_by_day"] == expected
    mine = QueryManager().get_creation_statistics(user_pk=graph.user.pk)
    assert mine["ctime_by_day"] == expected


def test_creation_statistics_take_two_statements(graph):
    for _ in range(5):
        graph.node(INT)
    # A kept statement runs on the driver's cursor, unseen by the engine's
    # events: start from none kept.
    statistics._EVERY_USER.clear()
    with recorded_statements() as executed:
        QueryManager().get_creation_statistics()
    # Two aggregates over the nodes; PostgreSQL reads its summary in one.
    assert 1 <= len([s for s in executed if "count" in s.lower()]) <= 2


def test_query_past_days_and_groups_filter_the_first_node(graph):
    old = graph.node(INT, label="old", ctime=at(2000, 1, 1))
    new = graph.node(INT, label="new")
    new.ctime = datetime.datetime.now(UTC)
    new.save()
    graph.group("both", [old, new])
    graph.group("old-only", [old])
    manager = QueryManager()
    qb = manager.query_past_days(QueryBuilder().append(INT, project="label"), 7)
    assert qb.all(flat=True) == ["new"]
    qb = manager.query_group(QueryBuilder().append(INT, project="label"), ["old-only"])
    assert qb.all(flat=True) == ["old"]
    qb = manager.query_group(QueryBuilder().append(INT, tag="i"), ["both", "old-only"])
    assert sorted(row[0]["label"] for row in qb.all()) == ["new", "old"]
    group_pk = (
        QueryBuilder()
        .append("group", filters={"label": "old-only"}, project="id")
        .all(flat=True)[0]
    )
    qb = manager.query_group(QueryBuilder().append(INT, project="label"), [group_pk])
    assert qb.all(flat=True) == ["old"]
    with pytest.raises(NotExistent, match="ghost"):
        manager.query_group(QueryBuilder().append(INT), ["ghost"])
    with pytest.raises(InputValidationError):
        manager.query_past_days(QueryBuilder().append(INT), 0)


@pytest.mark.parametrize(
    ("symbols", "formula"),
    [
        (["C", "C", "H", "H", "H", "H", "H", "H", "O"], "C2H6O"),
        (["Ga", "As"], "AsGa"),
        (["Si", "Si"], "Si2"),
        (["O", "H", "H"], "H2O"),
        (["Cl", "C", "H", "Br"], "CHBrCl"),
    ],
)
def test_hill_formula_orders_carbon_hydrogen_then_alphabetically(
    graph, symbols, formula
):
    assert hill_formula(graph.structure(symbols).attributes) == formula


def test_hill_formula_of_no_sites_is_none():
    assert hill_formula({}) is None


def test_bands_get_the_formula_of_their_nearest_structure(graph, django_user_model):
    # structure -> calc -> bands
    si = graph.structure(["Si", "Si"])
    calc = graph.node(CALCJOB)
    graph.link(si, calc, "input_calc", "structure")
    direct = graph.node(BANDS, label="direct")
    graph.link(calc, direct, "create", "bands")
    # structure -> workflow -> calc -> bands, with an older structure further up
    older = graph.structure(["Ga", "As"])
    relax = graph.node(CALCJOB)
    graph.link(older, relax, "input_calc", "structure")
    relaxed = graph.structure(["C", "H", "H", "H", "H"])
    graph.link(relax, relaxed, "create", "relaxed")
    work = graph.node(WORKCHAIN)
    graph.link(relaxed, work, "input_work", "structure")
    inner = graph.node(CALCJOB)
    graph.link(work, inner, "call_calc", "CALL")
    deep = graph.node(BANDS, label="deep")
    graph.link(inner, deep, "create", "bands")
    orphan = graph.node(
        BANDS,
        label="orphan",
        user=django_user_model.objects.create_user(username="bob"),
    )

    rows = QueryManager().get_bands_and_parents_structure()
    by_label = {row["label"]: row for row in rows}
    assert [row["label"] for row in rows] == ["orphan", "deep", "direct"]
    assert by_label["direct"]["formula"] == "Si2"
    assert by_label["deep"]["formula"] == "CH4"
    assert by_label["orphan"]["formula"] is None
    assert by_label["direct"]["uuid"] == str(direct.uuid)
    assert by_label["direct"]["ctime"] == direct.ctime
    assert by_label["deep"]["id"] == deep.pk
    mine = QueryManager().get_bands_and_parents_structure(user_pk=graph.user.pk)
    assert {row["label"] for row in mine} == {"deep", "direct"}
    graph.group("picked", [deep, orphan])
    picked = QueryManager().get_bands_and_parents_structure(groups=["picked"])
    assert {row["label"] for row in picked} == {"deep", "orphan"}
    assert orphan.pk in {row["id"] for row in picked}


def test_nearest_structure_ties_go_to_the_newest(graph):
    first = graph.structure(["Si"])
    second = graph.structure(["Ge"])
    calc = graph.node(CALCJOB)
    graph.link(first, calc, "input_calc", "a")
    graph.link(second, calc, "input_calc", "b")
    bands = graph.node(BANDS)
    graph.link(calc, bands, "create", "bands")
    (row,) = QueryManager().get_bands_and_parents_structure()
    assert row["formula"] == "Ge"


def test_closest_parents_when_several_nodes_share_a_parent(graph):
    structure = graph.structure(["Si"])
    calc = graph.node(CALCJOB)
    graph.link(structure, calc, "input_calc", "s")
    outputs = [graph.node(DICT) for _ in range(3)]
    for i, output in enumerate(outputs):
        graph.link(calc, output, "create", f"out{i}")
    loose = graph.node(INT)
    pks = [o.pk for o in outputs] + [loose.pk, structure.pk]
    parents = QueryManager().get_closest_parents(pks, node_type=STRUCTURE, chunk_size=2)
    assert parents == {
        outputs[0].pk: structure.pk,
        outputs[1].pk: structure.pk,
        outputs[2].pk: structure.pk,
        loose.pk: None,
        structure.pk: None,
    }
    any_type = QueryManager().get_closest_parents([outputs[0].pk])
    assert any_type == {outputs[0].pk: calc.pk}
    process = QueryManager().get_closest_parents(
        [outputs[1].pk], node_type="process.calculation.CalculationNode."
    )
    assert process == {outputs[1].pk: calc.pk}


def test_closest_parents_is_one_recursive_statement_per_chunk(graph):
    leaves = []
    for _ in range(4):
        parent = graph.structure(["Si"])
        for depth in range(5):
            child = graph.node(CALCJOB if depth % 2 == 0 else DICT)
            graph.link(parent, child, "input_calc" if depth % 2 == 0 else "create", "x")
            parent = child
        leaves.append(parent)
    with recorded_statements() as executed:
        parents = QueryManager().get_closest_parents(
            [leaf.pk for leaf in leaves], node_type=STRUCTURE
        )
    assert all(parent is not None for parent in parents.values())
    assert len(set(parents.values())) == 4
    # Every pk answered: the recursive statement alone, once per chunk.
    assert len(executed) == 1 and "RECURSIVE" in executed[0].upper()
    with recorded_statements() as executed:
        QueryManager().get_closest_parents(
            [leaf.pk for leaf in leaves], node_type=STRUCTURE, chunk_size=2
        )
    assert len(executed) == 2
    # A pk without an answer costs one existence check more.
    orphan = graph.node(DICT)
    with recorded_statements() as executed:
        parents = QueryManager().get_closest_parents(
            [leaves[0].pk, orphan.pk], node_type=STRUCTURE
        )
    assert parents[orphan.pk] is None and parents[leaves[0].pk] is not None
    assert len(executed) == 2


def test_closest_parents_refuse_missing_and_malformed_pks(graph):
    node = graph.node(INT)
    with pytest.raises(NotExistent, match="999999"):
        QueryManager().get_closest_parents([node.pk, 999999])
    with pytest.raises(InputValidationError):
        QueryManager().get_closest_parents(["1"])
    with pytest.raises(InputValidationError):
        QueryManager().get_closest_parents([node.pk], node_type="Structure")
