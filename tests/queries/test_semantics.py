"""One QueryBuilder semantics on SQLite and PostgreSQL: ordering of distinct
rows, array indices, empty combinations, escaped keys, large integers and
the bounds on a query's size."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from aiidasite.exceptions import InputValidationError, MultipleObjectsError, NotExistent
from queries.builder import QueryBuilder
from queries.limits import (
    MAX_CONDITIONS,
    MAX_CONTAINS_DEPTH,
    MAX_CONTAINS_ITEMS,
    MAX_DEPTH,
    MAX_EQUALS_DEPTH,
    MAX_JSON_KEYS,
    MAX_NEGATIONS,
    MAX_PATH,
    MAX_VALUES,
)
from tests.queries.conftest import CALCJOB, DICT, INT, STRUCTURE

pytestmark = pytest.mark.django_db


def labels(filters, entity=DICT):
    qb = QueryBuilder().append(entity, filters=filters, project="label")
    return sorted(qb.all(flat=True))


# -- DISTINCT with ORDER BY


@pytest.fixture
def repeated(graph):
    """Labels b, a, c; b twice, with the later b holding the larger value."""
    return [
        graph.node(INT, label=label, attributes={"v": value})
        for label, value in [("b", 5), ("a", 2), ("c", 1), ("b", 9)]
    ]


def test_distinct_rows_order_by_a_projected_column(repeated):
    qb = QueryBuilder().append(INT, tag="i", project="label").distinct()
    assert qb.order_by({"i": "label"}).all(flat=True) == ["a", "b", "c"]
    assert qb.order_by({"i": {"label": "desc"}}).all(flat=True) == ["c", "b", "a"]
    assert qb.count() == 3


def test_distinct_rows_order_by_columns_and_paths_they_do_not_show(repeated):
    qb = QueryBuilder().append(INT, tag="i", project="label").distinct()
    # A label sorts by its first node in the order asked: b's earliest ctime
    # is the earliest of all; ascending by value b's least value is 5.
    assert qb.order_by({"i": "ctime"}).all(flat=True) == ["b", "a", "c"]
    assert qb.order_by({"i": "attributes.v"}).all(flat=True) == ["c", "a", "b"]
    assert qb.order_by({"i": {"attributes.v": "desc"}}).all(flat=True) == [
        "b",
        "a",
        "c",
    ]
    assert qb.order_by({"i": {"uuid": "desc"}}).count() == 3
    ids = QueryBuilder().append(INT, tag="i", project="id").distinct()
    ordered = ids.order_by({"i": {"ctime": "desc"}}).all(flat=True)
    assert ordered == [node.pk for node in reversed(repeated)]


def test_distinct_rows_through_ancestors_are_ordered(graph):
    structure = graph.node(STRUCTURE, label="s")
    calcs = [graph.node(CALCJOB, label=f"c{i}") for i in range(2)]
    for i, calc in enumerate(calcs):
        graph.link(structure, calc, "input_calc", "structure")
        graph.link(calc, graph.node(INT, label=f"out{i}"), "create", "result")
    qb = (
        QueryBuilder()
        .append(INT, tag="out")
        .append(STRUCTURE, tag="s", with_descendants="out", project="label")
        .distinct()
        .order_by({"out": {"label": "desc"}})
    )
    assert qb.all(flat=True) == ["s"]
    qb = (
        QueryBuilder()
        .append(STRUCTURE, tag="s")
        .append("node", tag="d", with_ancestors="s", project="label")
        .distinct()
        .order_by({"d": {"label": "desc"}})
    )
    assert qb.all(flat=True) == ["out1", "out0", "c1", "c0"]


def test_distinct_order_through_the_api(api_client, repeated):
    query = {
        "path": [{"entity": "Int", "tag": "i"}],
        "project": {"i": ["label"]},
        "order_by": [{"i": [{"label": {"order": "asc"}}]}],
        "distinct": True,
    }
    response = api_client.post("/api/v1/querybuilder/", query, format="json")
    assert response.status_code == 200, response.json()
    assert [row["i"]["label"] for row in response.json()["results"]] == [
        "a",
        "b",
        "c",
    ]


# -- array indices


@pytest.fixture
def meshes(graph):
    return {
        "list": graph.node(
            DICT,
            label="list",
            attributes={
                "mesh": [4, 2, 6],
                "labels": ["G", "X"],
                "grid": [[1], [2, 3]],
                "flags": [True, None],
            },
        ),
        # An object whose keys look like indices is not an array.
        "object": graph.node(
            DICT, label="object", attributes={"mesh": {"0": 4}, "labels": {"1": "X"}}
        ),
        "short": graph.node(DICT, label="short", attributes={"mesh": [5]}),
    }


def test_all_digit_keys_are_array_indices_in_every_operator(meshes):
    assert labels({"attributes.mesh.0": 4}) == ["list"]
    assert labels({"attributes.mesh.0": {">": 4}}) == ["short"]
    assert labels({"attributes.mesh.0": {">=": 4}}) == ["list", "short"]
    assert labels({"attributes.mesh.2": {"<": 7}}) == ["list"]
    assert labels({"attributes.mesh.1": {"in": [2, 3]}}) == ["list"]
    assert labels({"attributes.mesh.0": {"!=": 4}}) == ["object", "short"]
    assert labels({"attributes.labels.1": "X"}) == ["list"]
    assert labels({"attributes.labels.1": {"like": "X%"}}) == ["list"]
    assert labels({"attributes.labels.0": {"in": ["G"]}}) == ["list"]
    assert labels({"attributes.labels.1": {"of_type": "string"}}) == ["list"]
    assert labels({"attributes.grid.1.1": 3}) == ["list"]
    assert labels({"attributes.grid.1": {"of_length": 2}}) == ["list"]
    assert labels({"attributes.grid.1": {"contains": [3]}}) == ["list"]
    assert labels({"attributes.flags.0": True}) == ["list"]
    assert labels({"attributes.flags.1": None}) == ["list"]
    assert labels({"attributes.flags.1": {"of_type": "null"}}) == ["list"]
    assert labels({"attributes.mesh.7": {"of_type": "null"}}) == []
    # Keys that look like indices stay reachable as keys.
    assert labels({"attributes.mesh": {"has_key": "0"}}) == ["object"]
    assert labels({"attributes.mesh": {"contains": {"0": 4}}}) == ["object"]


def test_array_indices_in_projections_and_order(meshes):
    qb = QueryBuilder().append(
        DICT,
        tag="d",
        project=[
            "label",
            "attributes.mesh.0",
            "attributes.grid.1",
            "attributes.mesh.9",
        ],
    )
    rows = {row[0]: row[1:] for row in qb.all()}
    assert rows["list"] == [4, [2, 3], None]
    assert rows["object"] == [None, None, None]
    assert rows["short"] == [5, None, None]
    ordered = (
        QueryBuilder()
        .append(DICT, tag="d", project="label")
        .order_by({"d": {"attributes.mesh.0": "desc"}})
    )
    assert ordered.all(flat=True) == ["short", "list", "object"]


def test_indices_must_be_reasonable():
    with pytest.raises(InputValidationError, match="too large"):
        labels({"attributes.mesh.99999999999": 1})


# -- empty "and" / "or"


@pytest.mark.parametrize(
    "filters",
    [
        {"or": []},
        {"and": []},
        {"~": {"or": []}},
        {"~": {"and": []}},
        {"label": {"or": []}},
        {"label": {"and": []}},
        {"or": [{"and": []}, {"label": "b"}]},
        {"attributes.v": {"in": []}},
        {"id": {"in": []}},
    ],
)
def test_a_filter_and_its_negation_split_the_rows(repeated, filters):
    total = QueryBuilder().append(INT).count()
    kept = QueryBuilder().append(INT, filters=filters).count()
    dropped = QueryBuilder().append(INT, filters={"~": filters}).count()
    assert kept + dropped == total


def test_an_empty_or_is_false_and_an_empty_and_true(repeated):
    assert labels({"or": []}, INT) == []
    assert labels({"~": {"or": []}}, INT) == ["a", "b", "b", "c"]
    assert labels({"and": []}, INT) == ["a", "b", "b", "c"]
    assert labels({"~": {"and": []}}, INT) == []
    assert labels({"label": {"or": []}}, INT) == []


# -- keys that JSON escapes


@pytest.fixture
def odd_keys(api_client, user):
    api_client.force_authenticate(user)
    extras = {"ü": 1, "a\\b": 2, "tab\tkey": {"é": "x"}, "plain": {"ü": [7]}}
    response = api_client.post(
        "/api/v1/nodes/",
        {"node_type": "Dict", "label": "api", "extras": extras},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_keys_that_json_escapes_are_found(odd_keys):
    assert labels({"extras.ü": 1}) == ["api"]
    assert labels({"extras.a\\b": {">": 1}}) == ["api"]
    assert labels({"extras.tab\tkey.é": "x"}) == ["api"]
    assert labels({"extras.plain.ü.0": 7}) == ["api"]
    assert labels({"extras": {"has_key": "ü"}}) == ["api"]
    assert labels({"extras.plain": {"has_key": "ü"}}) == ["api"]
    assert labels({"extras": {"contains": {"ü": 1, "tab\tkey": {"é": "x"}}}}) == ["api"]
    assert labels({"extras.ü": 2}) == []
    qb = QueryBuilder().append(
        DICT, project=["extras.ü", "extras.a\\b", "extras.tab\tkey", "extras.plain.ü"]
    )
    assert qb.all() == [[1, 2, {"é": "x"}, [7]]]


def test_keys_found_whichever_way_the_stored_text_spells_them(graph):
    node = graph.node(DICT, label="raw")
    # Archives keep their JSON text as written, unescaped here.
    text = json.dumps({"ü": {"ß": 3}}, ensure_ascii=False)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE db_dbnode SET extras = %s WHERE id = %s", [text, node.pk]
        )
    assert labels({"extras.ü.ß": 3}) == ["raw"]
    assert labels({"extras": {"has_key": "ü"}}) == ["raw"]


def test_keys_with_quotes_are_refused_on_both_databases():
    with pytest.raises(InputValidationError, match="free of"):
        labels({'extras.a"b': 1})


# -- large integers


@pytest.fixture
def big(graph):
    values = {"at": 2**53, "above": 2**53 + 1, "far": 2**62, "small": 3}
    return {
        label: graph.node(DICT, label=label, attributes={"x": value})
        for label, value in values.items()
    }


def test_integers_beyond_a_float_compare_exactly(big):
    assert labels({"attributes.x": {">": 2**53}}) == ["above", "far"]
    assert labels({"attributes.x": {">=": 2**53 + 1}}) == ["above", "far"]
    assert labels({"attributes.x": {"<": 2**53 + 1}}) == ["at", "small"]
    assert labels({"attributes.x": 2**53 + 1}) == ["above"]
    assert labels({"attributes.x": {"in": [2**53 + 1, 3]}}) == ["above", "small"]
    assert labels({"attributes.x": {">": 2.0**53}}) == ["above", "far"]
    ordered = (
        QueryBuilder()
        .append(DICT, tag="d", project="label")
        .order_by({"d": {"attributes.x": "desc"}})
    )
    assert ordered.all(flat=True) == ["far", "above", "at", "small"]


@pytest.mark.parametrize(
    "filters",
    [
        {"attributes.x": {">": 2**64}},
        {"attributes.x": -(2**63) - 1},
        {"attributes.x": {"in": [1, 2**70]}},
        {"id": {">": 2**64}},
        {"attributes": {"contains": {"x": 2**64}}},
    ],
)
def test_integers_no_database_compares_are_refused(big, filters):
    with pytest.raises(InputValidationError, match="64-bit"):
        labels(filters)


def test_integers_beyond_64_bits_are_a_400(api_client, big):
    for query in [
        {"path": ["Dict"], "filters": {"dict": {"attributes.x": {">": 2**64}}}},
        {"path": ["Dict"], "offset": 2**64},
        {"path": ["Dict"], "limit": 2**70},
    ]:
        response = api_client.post("/api/v1/querybuilder/", query, format="json")
        assert response.status_code == 400, query
        assert "64-bit" in response.json()["detail"]


# -- JSON equality, one(), iterdict(), project_map


def test_equality_with_lists_and_objects_is_json_equality(meshes, graph):
    graph.node(DICT, label="doc", attributes={"d": {"a": 1, "b": [1, {"c": None}]}})
    assert labels({"attributes.mesh": [4, 2, 6]}) == ["list"]
    assert labels({"attributes.mesh": [4, 2]}) == []
    assert labels({"attributes.mesh": [4.0, 2, 6]}) == ["list"]
    # An object value is {operator: value}: equality with an object is "==".
    assert labels({"attributes.mesh": {"==": {"0": 4}}}) == ["object"]
    assert labels({"attributes.d": {"==": {"b": [1, {"c": None}], "a": 1}}}) == ["doc"]
    assert labels({"attributes.d": {"==": {"a": 1}}}) == []
    assert labels({"attributes.d": {"==": {"a": 1, "b": [1, {"c": 0}]}}}) == []
    assert labels({"attributes.mesh": {"!=": [4, 2, 6]}}) == ["doc", "object", "short"]
    assert labels({"attributes.grid": [[1], [2, 3]]}) == ["list"]


def test_one_iterdict_and_project_map(repeated):
    qb = QueryBuilder().append(INT, tag="i", filters={"label": "a"}, project="label")
    assert qb.one() == ["a"]
    with pytest.raises(MultipleObjectsError):
        QueryBuilder().append(INT, filters={"label": "b"}).one()
    with pytest.raises(NotExistent):
        QueryBuilder().append(INT, filters={"label": "zz"}).one()
    mapped = QueryBuilder.from_dict(
        {
            "path": [{"entity": "Int", "tag": "i"}],
            "project": {"i": ["label", "attributes.v"]},
            "project_map": {"i": {"attributes.v": "value"}},
            "order_by": [{"i": ["id"]}],
        }
    )
    rows = list(mapped.iterdict(batch_size=1))
    assert rows == mapped.dict()
    assert rows[0] == {"i": {"label": "b", "value": 5}}
    assert len(rows) == 4


# -- bounds on a query's size


def test_a_long_in_list_on_a_json_path_runs(graph):
    graph.node(DICT, label="hit", attributes={"k": 49_999, "s": "v49999"})
    miss = graph.node(DICT, label="miss", attributes={"k": 50_000})
    values = list(range(50_000))
    assert labels({"attributes.k": {"in": values}}) == ["hit"]
    assert labels({"attributes.s": {"in": [f"v{i}" for i in values]}}) == ["hit"]
    # Ids end at the new nodes': PostgreSQL's sequence runs on across tests.
    ids = range(max(miss.pk - 50_000, 0), miss.pk + 1)
    assert labels({"id": {"in": [*ids, 10**12]}}) == ["hit", "miss"]


def test_long_contains_lists_hold_every_value(graph):
    graph.node(DICT, label="all", attributes={"k": [*range(3000), "a", True, None]})
    graph.node(DICT, label="some", attributes={"k": [*range(2999), "a", 1.5]})
    values = list(range(3000))
    assert labels({"attributes.k": {"contains": values}}) == ["all"]
    assert labels({"attributes.k": {"contains": [*values[:5], 4.0, "a"]}}) == [
        "all",
        "some",
    ]
    assert labels({"attributes.k": {"contains": [True, None, "a", 0]}}) == ["all"]
    assert labels({"attributes.k": {"contains": [False]}}) == []
    assert labels({"attributes.k": {"contains": ["0"]}}) == []
    assert labels({"attributes.k": {"contains": [1.5, 2]}}) == ["some"]
    nested = [[i] for i in range(MAX_CONTAINS_ITEMS + 1)]
    with pytest.raises(InputValidationError, match="at most"):
        labels({"attributes.k": {"contains": nested}})


def test_too_many_conditions_are_refused(repeated):
    many = {"or": [{"label": f"x{i}"} for i in range(MAX_CONDITIONS)]}
    with pytest.raises(InputValidationError, match="conditions"):
        labels(many, INT)
    fits = {
        "or": [{"label": f"x{i}"} for i in range(MAX_CONDITIONS - 10)]
        + [{"label": "a"}]
    }
    assert labels(fits, INT) == ["a"]


def test_too_many_values_are_refused():
    with pytest.raises(InputValidationError, match=f"more than {MAX_VALUES}"):
        labels({"id": {"in": list(range(MAX_VALUES + 1))}})


def nested(operator, depth):
    filters = {"label": "a"}
    for _ in range(depth):
        filters = {"~": filters} if operator == "~" else {operator: [filters]}
    return filters


@pytest.mark.parametrize(
    ("operator", "depth", "message"),
    [
        ("~", 62, "'~' inside"),
        ("~", MAX_NEGATIONS + 1, "'~' inside"),
        ("and", 235, "nest deeper"),
        ("or", MAX_DEPTH // 2, "nest deeper"),
        ("~", 5000, "'~' inside"),
    ],
)
def test_deep_nesting_is_refused(operator, depth, message):
    with pytest.raises(InputValidationError, match=message):
        labels(nested(operator, depth), INT)


def test_nesting_within_the_bound_works(repeated, graph):
    # an odd number of negations keeps the others, an even one "a"
    assert labels(nested("~", MAX_NEGATIONS - 1), INT) == ["b", "b", "c"]
    assert labels(nested("~", MAX_NEGATIONS), INT) == ["a"]
    assert labels(nested("or", MAX_DEPTH // 2 - 1), INT) == ["a"]
    mixed = {"label": "a"}
    for _ in range(MAX_NEGATIONS // 2):
        mixed = {"and": [{"~": {"or": [{"~": mixed}, {"label": "zz"}]}}]}
    assert labels(mixed, INT) == ["a"]
    deep: list = [1]
    for _ in range(MAX_CONTAINS_DEPTH - 1):
        deep = [deep]
    graph.node(DICT, label="deep", attributes={"x": deep})
    assert labels({"attributes.x": {"contains": deep}}) == ["deep"]
    assert labels({"attributes.x": {"==": deep}}) == ["deep"]
    with pytest.raises(InputValidationError, match="at most"):
        labels({"attributes.x": {"contains": [deep]}})
    deeper = deep
    for _ in range(MAX_EQUALS_DEPTH - MAX_CONTAINS_DEPTH):
        deeper = [deeper]
    assert labels({"attributes.x": {"==": deeper}}) == []
    with pytest.raises(InputValidationError, match="at most"):
        labels({"attributes.x": {"==": [deeper]}})


def test_deep_nesting_through_the_api_is_a_400(api_client):
    for operator, depth in [("~", 62), ("and", 235)]:
        query = {"path": ["Int"], "filters": {"int": nested(operator, depth)}}
        response = api_client.post("/api/v1/querybuilder/", query, format="json")
        assert response.status_code == 400
        # the body parser or the query's own bound, whichever is hit first
        detail = response.json()["detail"]
        assert "deeper than" in detail or "inside one another" in detail


def test_long_paths_are_refused():
    qb = QueryBuilder().append("node", tag="n0")
    with pytest.raises(InputValidationError, match=f"at most {MAX_PATH}"):
        for i in range(1, MAX_PATH + 1):
            qb.append("node", tag=f"n{i}", with_incoming=f"n{i - 1}")
    keys = ".".join(["k"] * (MAX_JSON_KEYS + 1))
    with pytest.raises(InputValidationError, match="at most"):
        labels({f"attributes.{keys}": 1})


# -- outer joins


def test_outer_joins_through_every_relation(graph):
    structure = graph.node(STRUCTURE, label="s")
    calc = graph.node(CALCJOB, label="c")
    graph.node(INT, label="lone")
    graph.link(structure, calc, "input_calc", "structure")
    graph.group("g", [structure])

    def rows(relation, entity="node", **extra):
        qb = QueryBuilder().append("node", tag="a", project="label")
        qb.append(
            entity, tag="b", outerjoin=True, project="label", **{relation: "a"}, **extra
        )
        return sorted(qb.all(), key=lambda row: (row[0], row[1] or ""))

    assert rows("with_incoming") == [["c", None], ["lone", None], ["s", "c"]]
    assert rows("with_incoming", edge_filters={"label": "nope"}) == [
        ["c", None],
        ["lone", None],
        ["s", None],
    ]
    assert rows("with_ancestors", "CalcJobNode") == [
        ["c", None],
        ["lone", None],
        ["s", "c"],
    ]
    assert rows("with_node", "group") == [["c", None], ["lone", None], ["s", "g"]]
    assert rows("with_outgoing", filters={"label": "s"}) == [
        ["c", "s"],
        ["lone", None],
        ["s", None],
    ]
