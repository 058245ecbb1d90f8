"""QueryBuilder over real rows; the same assertions hold on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime
import math
import uuid

import pytest

from aiidasite.exceptions import InputValidationError
from queries.builder import QueryBuilder
from queries.compiler import type_prefix
from queries.tables import get_tables
from tests.queries.conftest import BANDS, CALCJOB, DICT, FLOAT, INT, STR, STRUCTURE

pytestmark = pytest.mark.django_db


@pytest.fixture
def dicts(graph):
    documents = {
        "a": {
            "n": 1,
            "s": "abc",
            "flag": True,
            "list": [1, 2, "x"],
            "nested": {"k": "v", "deep": {"z": 1}},
            "none": None,
        },
        "b": {
            "n": 2.5,
            "s": "ABD",
            "flag": False,
            "list": [3, [4, 5]],
            "nested": {"k": "w"},
        },
        "c": {"n": "1", "s": 7, "list": {"0": 1}, "nested": []},
        "d": {},
    }
    return {
        label: graph.node(DICT, label=label, attributes=attributes)
        for label, attributes in documents.items()
    }


def labels(filters, entity="data.core.dict.Dict."):
    qb = QueryBuilder().append(entity, filters=filters, project="label")
    return sorted(qb.all(flat=True))


def test_type_prefix_matches_subtypes_unless_told_otherwise():
    assert type_prefix("data.core.int.Int.") == ("data.core.int.", True)
    assert type_prefix("data.core.int.Int.", False) == ("data.core.int.Int.", False)
    assert type_prefix("data.core.") == ("data.core.", True)


def test_node_types_match_their_subtypes(graph):
    graph.node(INT, label="i")
    graph.node("data.core.array.ArrayData.", label="array")
    graph.node(BANDS, label="bands")
    graph.node(CALCJOB, label="calc")
    assert labels({}, "ArrayData") == ["array", "bands"]
    assert sorted(
        QueryBuilder()
        .append("ArrayData", subclassing=False, project="label")
        .all(flat=True)
    ) == ["array"]
    assert labels({}, "data.") == ["array", "bands", "i"]
    assert labels({}, "node") == ["array", "bands", "calc", "i"]
    assert labels({}, "process.calculation.CalculationNode.") == ["calc"]


def test_column_filters_cover_every_operator(graph):
    for label in ["alpha", "Beta", "gamma_1", "gammax1"]:
        graph.node(INT, label=label)
    assert labels({"label": "alpha"}, "Int") == ["alpha"]
    assert labels({"label": {"!=": "alpha"}}, "Int") == ["Beta", "gamma_1", "gammax1"]
    assert labels({"label": {"in": ["Beta", "zeta"]}}, "Int") == ["Beta"]
    assert labels({"label": {"!in": ["Beta"]}}, "Int") == [
        "alpha",
        "gamma_1",
        "gammax1",
    ]
    assert labels({"label": {"like": "gamma\\_%"}}, "Int") == ["gamma_1"]
    assert labels({"label": {"like": "gamma_1"}}, "Int") == ["gamma_1", "gammax1"]
    assert labels({"label": {"like": "beta"}}, "Int") == []
    assert labels({"label": {"ilike": "beta"}}, "Int") == ["Beta"]
    assert labels({"label": {"~like": "g%"}}, "Int") == ["Beta", "alpha"]
    # byte order: uppercase sorts before lowercase on both databases
    assert labels({"label": {"<": "a"}}, "Int") == ["Beta"]
    assert labels({"label": {">=": "b", "<=": "gamma_1"}}, "Int") == ["gamma_1"]
    assert labels({"or": [{"label": "alpha"}, {"label": "Beta"}]}, "Int") == [
        "Beta",
        "alpha",
    ]
    assert labels({"~": {"label": {"like": "gamma%"}}}, "Int") == ["Beta", "alpha"]
    assert labels(
        {"label": {"and": [{"like": "gamma%"}, {"!=": "gammax1"}]}}, "Int"
    ) == ["gamma_1"]


def test_filters_on_ids_times_and_uuids(graph):
    nodes = [graph.node(INT, label=str(i)) for i in range(3)]
    assert labels({"id": {">": nodes[0].pk}}, "Int") == ["1", "2"]
    assert labels({"pk": nodes[1].pk}, "Int") == ["1"]
    assert labels({"uuid": str(nodes[2].uuid)}, "Int") == ["2"]
    assert labels({"ctime": {"<": nodes[1].ctime.isoformat()}}, "Int") == ["0"]
    assert labels({"ctime": {">=": nodes[1].ctime}}, "Int") == ["1", "2"]
    assert labels({"process_type": None}, "Int") == ["0", "1", "2"]


def test_json_comparisons_are_typed(dicts):
    assert labels({"attributes.n": 1}) == ["a"]
    assert labels({"attributes.n": "1"}) == ["c"]
    assert labels({"attributes.n": {">": 1}}) == ["b"]
    assert labels({"attributes.n": {"<=": 2.5}}) == ["a", "b"]
    assert labels({"attributes.s": {">": "B"}}) == ["a"]
    assert labels({"attributes.s": {"like": "ab%"}}) == ["a"]
    assert labels({"attributes.s": {"ilike": "ab%"}}) == ["a", "b"]
    assert labels({"attributes.flag": True}) == ["a"]
    assert labels({"attributes.flag": False}) == ["b"]
    assert labels({"attributes.none": None}) == ["a"]
    assert labels({"attributes.n": {"in": [1, "1"]}}) == ["a", "c"]
    assert labels({"attributes.n": {"!in": [1, "1"]}}) == ["b", "d"]
    assert labels({"attributes.nested.k": "v"}) == ["a"]
    assert labels({"attributes.nested.deep.z": {"==": 1}}) == ["a"]
    assert labels({"attributes.n": {"!=": 1}}) == ["b", "c", "d"]
    # booleans and strings never satisfy numeric comparisons
    assert labels({"attributes.flag": {">": 0}}) == []
    assert labels({"attributes.flag": {">=": 0.5}}) == []
    assert labels({"attributes.flag": 1}) == []
    assert labels({"attributes.s": {">": 5}}) == ["c"]
    assert labels({"attributes.s": {"<": 100}}) == ["c"]
    assert labels({"attributes.list": {">": 0}}) == []
    assert labels({"attributes.nested": {"<": 10}}) == []


def test_json_structure_operators(dicts):
    assert labels({"attributes": {"has_key": "flag"}}) == ["a", "b"]
    assert labels({"attributes.nested": {"has_key": "deep"}}) == ["a"]
    assert labels({"attributes.list": {"has_key": "0"}}) == ["c"]
    assert labels({"attributes.list": {"of_type": "array"}}) == ["a", "b"]
    assert labels({"attributes.n": {"of_type": "number"}}) == ["a", "b"]
    assert labels({"attributes.n": {"of_type": "string"}}) == ["c"]
    assert labels({"attributes.flag": {"of_type": "boolean"}}) == ["a", "b"]
    assert labels({"attributes.none": {"of_type": "null"}}) == ["a"]
    assert labels({"attributes.nested": {"of_type": "object"}}) == ["a", "b"]
    assert labels({"attributes.list": {"of_length": 2}}) == ["b"]
    assert labels({"attributes.list": {"longer": 2}}) == ["a"]
    assert labels({"attributes.list": {"shorter": 3}}) == ["b"]
    assert labels({"attributes.nested": {"shorter": 1}}) == ["c"]
    assert labels({"attributes.list": {"contains": [2, "x"]}}) == ["a"]
    assert labels({"attributes.list": {"contains": ["2"]}}) == []
    assert labels({"attributes.list": {"contains": [[5]]}}) == ["b"]
    assert labels({"attributes.list": {"contains": []}}) == ["a", "b"]
    assert labels({"attributes.nested": {"contains": {"deep": {"z": 1}}}}) == ["a"]
    assert labels({"attributes": {"contains": {"flag": False, "s": "ABD"}}}) == ["b"]
    assert labels({"attributes.list": {"!contains": [1]}}) == ["b", "c", "d"]


def test_projections_of_columns_json_paths_and_stars(dicts):
    qb = QueryBuilder().append(
        DICT,
        filters={"label": "a"},
        project=[
            "id",
            "uuid",
            "attributes.nested",
            "attributes.s",
            "attributes.missing",
            "attributes.list",
            "*",
        ],
    )
    (row,) = qb.all()
    node = dicts["a"]
    assert row[:6] == [
        node.pk,
        str(node.uuid),
        {"k": "v", "deep": {"z": 1}},
        "abc",
        None,
        [1, 2, "x"],
    ]
    star = row[6]
    assert star["attributes"] == node.attributes
    assert star["ctime"] == node.ctime
    assert star["uuid"] == str(node.uuid)
    assert qb.dict()[0]["dict"]["attributes.s"] == "abc"


def test_default_projection_is_the_last_entity(graph):
    node = graph.node(INT, label="only")
    (row,) = QueryBuilder().append(INT).all()
    assert row[0]["id"] == node.pk
    assert row[0]["label"] == "only"


def test_order_limit_offset_distinct_count_first_and_iterall(graph):
    for value in [3, 1, 2, 10]:
        graph.node(INT, label=f"n{value}", attributes={"value": value})
    graph.node(INT, label="text", attributes={"value": "x"})
    graph.node(INT, label="missing")
    qb = QueryBuilder().append(INT, tag="i", project="label")
    qb.order_by({"i": [{"attributes.value": "desc"}]})
    assert qb.all(flat=True) == ["n10", "n3", "n2", "n1", "text", "missing"]
    qb.order_by({"i": "attributes.value"})
    assert qb.all(flat=True) == ["n1", "n2", "n3", "n10", "text", "missing"]
    assert qb.first() == ["n1"]
    qb.limit(2).offset(1)
    assert qb.all(flat=True) == ["n2", "n3"]
    assert qb.count() == 2
    qb.limit(None).offset(None)
    assert [row[0] for row in qb.iterall(batch_size=2)] == qb.all(flat=True)
    assert qb.count() == 6
    by_type = QueryBuilder().append(INT, project="node_type").distinct()
    assert by_type.all(flat=True) == [INT]


def test_links_between_nodes_and_their_edges(graph):
    structure = graph.structure(["Si", "Si"], label="s")
    calc = graph.node(CALCJOB, label="calc")
    param = graph.node(DICT, label="params")
    bands = graph.node(BANDS, label="bands")
    graph.link(structure, calc, "input_calc", "structure")
    graph.link(param, calc, "input_calc", "parameters")
    graph.link(calc, bands, "create", "bands")

    qb = QueryBuilder()
    qb.append("node", tag="input", project="label")
    qb.append(CALCJOB, tag="calc", with_incoming="input", edge_project=["label"])
    qb.order_by({"input": "label"})
    assert qb.all() == [["params", "parameters"], ["s", "structure"]]

    qb = QueryBuilder().append(CALCJOB, tag="calc")
    qb.append(
        "node", with_incoming="calc", project="label", edge_filters={"type": "create"}
    )
    assert qb.all(flat=True) == ["bands"]

    qb = QueryBuilder().append(STRUCTURE, tag="s")
    qb.append("link", tag="l", with_incoming="s", project=["label", "type"])
    qb.append("node", with_incoming="l", project="label")
    assert qb.all() == [["structure", "input_calc", "calc"]]

    qb = QueryBuilder().append(BANDS, tag="b", project="label")
    qb.append(STRUCTURE, with_descendants="b", project="label")
    assert qb.all() == [["bands", "s"]]
    qb = QueryBuilder().append(STRUCTURE, tag="s")
    qb.append("node", with_ancestors="s", project="label")
    assert sorted(qb.all(flat=True)) == ["bands", "calc"]


def test_groups_and_users(graph, django_user_model):
    other = django_user_model.objects.create_user(username="bob")
    a, b = graph.node(INT, label="a"), graph.node(FLOAT, label="b")
    graph.node(STR, label="c", user=other)
    graph.group("g1", [a, b])
    qb = QueryBuilder().append("group", tag="g", filters={"label": "g1"})
    qb.append("node", with_group="g", project="label")
    assert sorted(qb.all(flat=True)) == ["a", "b"]
    qb = (
        QueryBuilder()
        .append(INT, tag="n")
        .append("group", with_node="n", project="label")
    )
    assert qb.all(flat=True) == ["g1"]
    qb = QueryBuilder().append("user", tag="u", filters={"username": "bob"})
    qb.append("node", with_user="u", project="label")
    assert qb.all(flat=True) == ["c"]
    qb = (
        QueryBuilder()
        .append(STR, tag="n")
        .append("user", with_node="n", project=["username", "*"])
    )
    (row,) = qb.all()
    assert row[0] == "bob"
    assert "password" not in row[1]


def test_json_form_round_trips(graph):
    graph.node(INT, label="x", attributes={"value": 1})
    qb = QueryBuilder()
    qb.append(INT, tag="i", filters={"attributes.value": {">": 0}}, project=["label"])
    qb.order_by({"i": [{"id": "desc"}]}).limit(5)
    data = qb.as_dict()
    assert data["path"] == [{"entity": INT, "tag": "i", "subclassing": True}]
    assert data["order_by"] == [{"i": [{"id": {"order": "desc"}}]}]
    again = QueryBuilder.from_dict(data)
    assert again.as_dict() == data
    assert again.all() == [["x"]]


def test_json_form_accepts_edges_and_relations(graph):
    calc = graph.node(CALCJOB)
    graph.link(graph.node(INT, label="in"), calc, "input_calc", "x")
    qb = QueryBuilder.from_dict(
        {
            "path": [
                {"entity": "CalcJobNode", "tag": "c"},
                {"entity": "node", "tag": "n", "with_outgoing": "c"},
            ],
            "filters": {"c--n": {"label": "x"}},
            "project": {"n": ["label"], "c--n": ["type"]},
        }
    )
    assert qb.all() == [["in", "input_calc"]]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"path": [{"entity": "Nope"}]}, "Unknown entity"),
        ({"path": ["node"], "filters": {"node": {"colour": 1}}}, "Unknown field"),
        (
            {"path": ["node"], "filters": {"node": {"id": {"~~": 1}}}},
            "Unknown operator",
        ),
        ({"path": ["node"], "filters": {"node": {"id": "one"}}}, "not an integer"),
        ({"path": ["node"], "filters": {"node": {"ctime": "yesterday"}}}, "ISO 8601"),
        ({"path": ["node"], "filters": {"node": {"label.x": 1}}}, "only JSON"),
        (
            {"path": ["node"], "filters": {"node": {"label": {"has_key": "x"}}}},
            "JSON fields only",
        ),
        (
            {"path": ["node"], "filters": {"node": {"attributes.x": {"in": [[1]]}}}},
            "list of scalars",
        ),
        (
            {
                "path": ["node"],
                "filters": {"node": {"attributes.x": {"of_type": "int"}}},
            },
            "of_type",
        ),
        (
            {"path": ["node"], "filters": {"node": {"attributes.x": {"longer": "2"}}}},
            "integer",
        ),
        ({"path": ["node"], "filters": {"node": {'attributes.a"b': 1}}}, "JSON path"),
        ({"path": ["node"], "filters": {"node": {"id": {"in": 3}}}}, "takes a list"),
        ({"path": ["node"], "project": {"node": ["password"]}}, "Unknown field"),
        ({"path": ["user"], "project": {"user": ["password"]}}, "Unknown field"),
        ({"path": ["node", "node"]}, "relation"),
        ({"path": ["node", {"entity": "node", "with_group": "node"}]}, "group"),
        ({"path": ["node", {"entity": "node", "with_node": "node"}]}, "takes"),
        ({"path": ["node"], "order_by": {"ghost": "id"}}, "Unknown tag"),
        ({"path": ["node"], "limit": -1}, "limit"),
        ({"path": ["node"], "select": 1}, "Unknown query keys"),
        ({"path": []}, "non-empty"),
    ],
)
def test_bad_queries_raise_input_validation_errors(query, message):
    with pytest.raises(InputValidationError, match=message):
        QueryBuilder.from_dict(query).all()


def test_values_are_bound_parameters_never_sql(graph):
    graph.node(INT, label="safe")
    hostile = "x' OR '1'='1"
    assert labels({"label": hostile}, "Int") == []
    assert labels({"attributes.a": {"has_key": hostile}}, "Int") == []
    assert hostile not in str(QueryBuilder().append(INT, filters={"label": hostile}))


def test_naive_datetimes_are_read_in_the_site_time_zone(graph):
    node = graph.node(INT, label="t")
    naive = datetime.datetime.now() + datetime.timedelta(days=1)
    assert labels({"ctime": {"<": naive}}, "Int") == ["t"]
    assert node.ctime is not None


def test_json_number_ranges_are_exact_at_their_ends(graph):
    values = {
        "int": 2,
        "above": 2.000000000000001,
        "below": 1.9999999999999998,
        "three": 3,
        "negative": -2,
        "huge": 2**60 + 1,
        "text": "2",
        "zero": 0,
        "true": True,
    }
    for label, value in values.items():
        graph.node(DICT, label=label, attributes={"n": value})
    assert labels({"attributes.n": {">": 2}}) == ["above", "huge", "three"]
    assert labels({"attributes.n": {">=": 2}}) == ["above", "huge", "int", "three"]
    assert labels({"attributes.n": {">": 2.0}}) == ["above", "huge", "three"]
    assert labels({"attributes.n": {"<": -1}}) == ["negative"]
    assert labels({"attributes.n": {"<=": -2}}) == ["negative"]
    assert labels({"attributes.n": {"<": -2}}) == []
    assert labels({"attributes.n": 2}) == ["int"]
    # Integers beyond a float's 53 bits compare exactly on both databases.
    assert labels({"attributes.n": {">": 2**60}}) == ["huge"]
    assert labels({"attributes.n": {">=": 2**60 + 2}}) == []
    assert labels({"attributes.n": 2**60 + 1}) == ["huge"]
    assert labels({"attributes.n": 2**60}) == []
    numbers = ["above", "below", "huge", "int", "negative", "three", "zero"]
    assert labels({"attributes.n": {"<": math.inf}}) == numbers
    assert labels({"attributes.n": {">": -math.inf}}) == numbers
    assert labels({"attributes.n": {"!>": 2}}) == [
        "below",
        "int",
        "negative",
        "text",
        "true",
        "zero",
    ]


def test_type_filters_hold_whether_or_not_every_node_matches(graph):
    graph.node(INT, label="i", attributes={"v": 1})
    graph.node("data.core.int.Int.Sub.", label="sub", attributes={"v": 2})
    only_ints = {"attributes.v": {">": 0}}
    assert labels(only_ints, "Int") == ["i", "sub"]
    assert QueryBuilder().append("Int", filters=only_ints).count() == 2
    graph.node("data.core.integer.X.", label="x", attributes={"v": 3})
    graph.node(FLOAT, label="f", attributes={"v": 4})
    assert labels(only_ints, "Int") == ["i", "sub"]
    assert labels(only_ints, "data.") == ["f", "i", "sub", "x"]
    assert QueryBuilder().append("Int", filters=only_ints).count() == 2
    assert labels(only_ints, "Float") == ["f"]


def test_uuids_come_back_in_their_canonical_form(graph):
    nodes = [graph.node(INT, label=str(index)) for index in range(20)]
    rows = QueryBuilder().append(INT, project=["label", "uuid"]).all()
    assert dict(rows) == {node.label: str(node.uuid) for node in nodes}


@pytest.mark.parametrize(
    "stored",
    [
        "1b4e28ba2fa111d2883f0016d3cca427",
        "1B4E28BA2FA111D2883F0016D3CCA427",
        "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
        "1B4E28BA-2FA1-11D2-883F-0016D3CCA427",
        "{1b4e28ba-2fa1-11d2-883f-0016d3cca427}",
        uuid.UUID("1b4e28ba-2fa1-11d2-883f-0016d3cca427"),
    ],
)
def test_a_uuid_column_reads_every_form_a_driver_gives(stored):
    column = get_tables().node.c.uuid
    read = column.type.process_result_value
    assert read(stored, None) == "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    assert read(None, None) is None


@pytest.mark.parametrize("pattern", ["ü%", "Ü%", "üBER", "ÜBER", "%é%", "%É%"])
def test_ilike_folds_every_letter_on_both_databases(graph, pattern):
    graph.node(INT, label="Über", attributes={"word": "Über"})
    graph.node(INT, label="über", attributes={"word": "über"})
    graph.node(INT, label="École", attributes={"word": "École"})
    graph.node(INT, label="uber", attributes={"word": "uber"})
    wanted = sorted(
        label
        for label in ("Über", "über", "École")
        if (pattern.strip("%").lower() in label.lower())
        and (pattern.endswith("%") or label.lower() == pattern.lower())
    )
    assert labels({"label": {"ilike": pattern}}, "Int") == wanted
    assert labels({"attributes.word": {"ilike": pattern}}, "Int") == wanted
    # Still a pattern: an escaped wildcard is a plain character.
    assert labels({"label": {"ilike": "Ü\\%"}}, "Int") == []
