"""Storing nodes and links through the services."""

from __future__ import annotations

import math
import uuid

import pytest

from aiidasite.exceptions import (
    InputValidationError,
    ModificationNotAllowed,
    MultipleObjectsError,
    NotExistent,
    StoringNotAllowed,
)
from nodes import bulk, services, types
from nodes.models import DbLink, DbNode
from nodes.services import IncomingLink, NodeSpec

pytestmark = pytest.mark.django_db


def test_store_keeps_type_attributes_and_owner(user):
    node = services.node_store(
        user=user,
        node_type=types.DICT,
        attributes={"a": 1, "nested": {"b": [1.5, "x", None, True]}},
        label="params",
    )
    stored = DbNode.objects.get(pk=node.pk)
    assert stored.node_type == types.DICT
    assert stored.attributes == {"a": 1, "nested": {"b": [1.5, "x", None, True]}}
    assert stored.user == user
    assert stored.label == "params"
    assert stored.mtime == stored.ctime


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"x": math.nan}, "cannot be stored as JSON"),
        ({"x": {1: "a"}}, "is not a string"),
        ({"x": [[{"ok": {2: "a"}}]]}, "is not a string"),
        ({3: "a"}, "is not a string"),
        ({"x": "a\x00b"}, "NUL"),
        ({"x": ["\ud800"]}, "lone surrogates"),
        ({"\udfff": 1}, "lone surrogates"),
        ({"x": math.inf}, "cannot be stored as JSON"),
        ({"x": object()}, "cannot be stored as JSON"),
        ([1, 2], "must be a JSON object"),
    ],
)
def test_store_refuses_attributes_that_are_not_json(user, attributes, message):
    with pytest.raises(InputValidationError, match=message):
        services.node_store(user=user, node_type=types.DICT, attributes=attributes)
    assert not DbNode.objects.exists()


def test_store_refuses_unknown_type_shapes(user):
    with pytest.raises(InputValidationError, match="invalid node_type"):
        services.node_store(user=user, node_type="Int")


def test_store_refuses_process_type_on_data(user):
    with pytest.raises(InputValidationError, match="process_type"):
        services.node_store(user=user, node_type=types.INT, process_type="x")


def test_store_with_incoming_links_validates_them_first(user, make_node):
    structure = make_node(types.STRUCTURE)
    calc = make_node(types.CALCJOB, inputs=[(structure, "structure", "input_calc")])
    assert DbLink.objects.get(output=calc).input == structure
    with pytest.raises(StoringNotAllowed, match="already has an incoming"):
        make_node(
            types.CALCJOB,
            inputs=[(structure, "s", "input_calc"), (structure, "s", "input_calc")],
        )
    with pytest.raises(StoringNotAllowed, match="goes from a calculation"):
        make_node(types.INT, inputs=[(structure, "result", "create")])
    assert DbNode.objects.count() == 2


def test_store_with_link_from_missing_node_is_not_existent(user):
    with pytest.raises(NotExistent, match="no node with pk 999"):
        services.node_store(
            user=user,
            node_type=types.CALCJOB,
            links=[IncomingLink(999, "x", "input_calc")],
        )
    assert not DbNode.objects.exists()


def test_bulk_store_links_batch_members_and_stored_nodes(user, make_node):
    structure = make_node(types.STRUCTURE)
    calc = NodeSpec(types.CALCJOB, attributes={"exit_status": 0})
    bands = NodeSpec(types.BANDS, attributes={"units": "eV"})
    pks = services.nodes_store_bulk(
        user=user,
        nodes=[calc, bands],
        links=[
            (structure.pk, calc, "structure", "input_calc"),
            (calc, bands, "bands", "create"),
        ],
    )
    assert DbNode.objects.get(pk=pks[0]).node_type == types.CALCJOB
    assert DbNode.objects.get(pk=pks[1]).attributes == {"units": "eV"}
    links = set(DbLink.objects.values_list("input_id", "output_id", "label", "type"))
    assert links == {
        (structure.pk, pks[0], "structure", "input_calc"),
        (pks[0], pks[1], "bands", "create"),
    }


def test_bulk_store_writes_nothing_when_one_link_is_bad(user):
    calc = NodeSpec(types.CALCJOB)
    first, second = NodeSpec(types.INT), NodeSpec(types.INT)
    with pytest.raises(StoringNotAllowed, match="already has a creator"):
        services.nodes_store_bulk(
            user=user,
            nodes=[calc, first, second],
            links=[(calc, first, "a", "create"), (calc, first, "b", "create")],
        )
    assert not DbNode.objects.exists()


def test_links_add_bulk_checks_against_stored_links(make_node):
    data = make_node(types.INT)
    calc = make_node(types.CALCFUNCTION)
    other = make_node(types.CALCFUNCTION)
    services.link_add(source=calc.pk, target=data.pk, label="out", link_type="create")
    with pytest.raises(StoringNotAllowed, match="already has a creator"):
        services.links_add_bulk(links=[(other.pk, data.pk, "out", "create")])
    with pytest.raises(NotExistent):
        services.link_add(
            source=data.pk, target=12345, label="x", link_type="input_calc"
        )
    assert DbLink.objects.count() == 1


def test_links_in_or_out_of_a_stored_sealed_process_are_refused(make_node):
    data = make_node(types.INT)
    work = make_node(types.WORKCHAIN)
    calc = make_node(types.CALCJOB, attributes={"sealed": True})
    refused = [
        (data.pk, calc.pk, "x", "input_calc"),
        (calc.pk, data.pk, "y", "create"),
        (work.pk, calc.pk, "call", "call_calc"),
    ]
    for source, target, label, kind in refused:
        with pytest.raises(ModificationNotAllowed, match="is a sealed process"):
            services.link_add(source=source, target=target, label=label, link_type=kind)
    with pytest.raises(ModificationNotAllowed, match="is a sealed process"):
        services.links_add_bulk(links=[(data.pk, work.pk, "x", "input_work"), *refused])
    with pytest.raises(ModificationNotAllowed, match="is a sealed process"):
        make_node(types.INT, inputs=[(calc, "y", "create")])
    assert DbLink.objects.count() == 0
    assert DbNode.objects.count() == 3


def test_a_batch_stores_its_own_sealed_process_with_its_links(user):
    data = NodeSpec(node_type=types.INT)
    calc = NodeSpec(node_type=types.CALCJOB, attributes={"sealed": True})
    result = NodeSpec(node_type=types.INT)
    services.nodes_store_bulk(
        user=user,
        nodes=[data, calc, result],
        links=[(data, calc, "x", "input_calc"), (calc, result, "y", "create")],
    )
    assert DbLink.objects.count() == 2


def test_links_add_bulk_adds_all(make_node):
    inputs = [make_node(types.INT) for _ in range(3)]
    calcs = [make_node(types.CALCJOB) for _ in range(2)]
    links = [
        (data.pk, calc.pk, f"x{i}", "input_calc")
        for calc in calcs
        for i, data in enumerate(inputs)
    ]
    assert services.links_add_bulk(links=links) == 6
    assert DbLink.objects.filter(type="input_calc").count() == 6


def test_node_update_changes_extras_label_description_only(make_node):
    node = make_node(types.INT, attributes={"value": 1})
    services.node_update(
        node=node, changes={"extras": {"tag": "x"}, "label": "one", "description": "d"}
    )
    stored = DbNode.objects.get(pk=node.pk)
    assert (stored.extras, stored.label, stored.description) == (
        {"tag": "x"},
        "one",
        "d",
    )
    assert stored.mtime > stored.ctime
    with pytest.raises(ModificationNotAllowed, match="attributes"):
        services.node_update(node=stored, changes={"attributes": {"value": 2}})
    with pytest.raises(ModificationNotAllowed, match="repository_metadata"):
        services.node_update(node=stored, changes={"repository_metadata": {}})
    assert DbNode.objects.get(pk=node.pk).attributes == {"value": 1}


def test_node_get_finds_by_pk_uuid_and_prefix(make_node):
    node = make_node()
    assert services.node_get(identifier=node.pk) == node
    assert services.node_get(identifier=str(node.uuid)) == node
    assert services.node_get(identifier=str(node.uuid)[:8]) == node
    with pytest.raises(NotExistent):
        services.node_get(identifier=str(uuid.uuid4()))
    with pytest.raises(NotExistent):
        services.node_get(identifier="not-a-uuid")
    with pytest.raises(NotExistent):
        services.node_get(identifier=node.pk + 100)


def test_node_get_refuses_an_ambiguous_prefix(user):
    for value in (
        "aaaa0000-0000-4000-8000-000000000001",
        "aaaa0000-0000-4000-8000-000000000002",
    ):
        DbNode.objects.create(node_type=types.INT, user=user, uuid=uuid.UUID(value))
    with pytest.raises(MultipleObjectsError):
        services.node_get(identifier="aaaa")
    assert services.node_get(
        identifier="aaaa0000-0000-4000-8000-000000000002"
    ).uuid.hex.endswith("2")


def test_node_get_reads_digits_as_a_uuid_start_when_no_pk_matches(user):
    node = DbNode.objects.create(
        node_type=types.INT,
        user=user,
        uuid=uuid.UUID("12345678-9abc-4def-8000-000000000000"),
    )
    assert services.node_get(identifier="123456789") == node
    assert services.node_get(identifier=node.pk) == node
    with pytest.raises(NotExistent, match="no node with pk 99999999"):
        services.node_get(identifier="99999999")


def test_bulk_store_takes_a_few_statements_not_one_per_node(
    user, make_node, django_assert_max_num_queries
):
    structure = make_node(types.STRUCTURE)
    specs = [NodeSpec(types.CALCJOB, attributes={"i": i}) for i in range(1500)]
    links = [(structure.pk, spec, "structure", "input_calc") for spec in specs]
    # A few statements, never one per node; SQLite builds that bind at most
    # 999 parameters per statement (--sqlite-max-variables) need more of them.
    budget = 12 if bulk.max_params() > 999 else 40
    with django_assert_max_num_queries(budget):
        pks = services.nodes_store_bulk(user=user, nodes=specs, links=links)
    assert len(set(pks)) == 1500
    assert DbLink.objects.filter(input=structure).count() == 1500
    assert DbNode.objects.get(pk=pks[-1]).attributes == {"i": 1499}


def test_store_keeps_a_given_ctime_and_refuses_a_naive_one(user):
    import datetime

    when = datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.UTC)
    node = services.node_store(user=user, node_type=types.INT, ctime=when)
    assert DbNode.objects.get(pk=node.pk).ctime == when
    with pytest.raises(InputValidationError, match="time zone"):
        services.node_store(
            user=user, node_type=types.INT, ctime=datetime.datetime(2024, 5, 1)
        )
    assert DbNode.objects.count() == 1


def test_store_accepts_characters_beyond_the_basic_plane(user):
    node = services.node_store(
        user=user, node_type=types.STR, attributes={"value": "bands \U0001f600"}
    )
    assert DbNode.objects.get(pk=node.pk).attributes == {"value": "bands \U0001f600"}


@pytest.mark.parametrize("label", ["a\x00b", "\ud800"])
def test_store_refuses_labels_postgresql_cannot_hold(user, label):
    with pytest.raises(InputValidationError, match="label"):
        services.node_store(user=user, node_type=types.INT, label=label)
    assert not DbNode.objects.exists()


def test_store_needs_a_stored_user(django_user_model):
    with pytest.raises(InputValidationError, match="stored user"):
        services.node_store(
            user=django_user_model(username="ghost"),
            node_type=types.FOLDER,
            files={"a.txt": b"never written"},
        )
    assert not DbNode.objects.exists()


@pytest.mark.parametrize(
    ("source", "target", "link_type"),
    [
        (types.CALCJOB, types.INT, "create"),  # one creator per data node
        (types.WORKCHAIN, types.CALCJOB, "call_calc"),  # one caller per process
    ],
)
def test_the_database_itself_refuses_a_second_creator_or_caller(
    make_node, source, target, link_type
):
    from django.db import IntegrityError, transaction

    from nodes import bulk

    node = make_node(target)
    first, second = make_node(source), make_node(source)
    bulk.insert_rows(
        bulk.LINK_TABLE, bulk.LINK_COLUMNS, [(first.pk, node.pk, "a", link_type)]
    )
    # What a writer racing past the rule checks would meet.
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert_rows(
            bulk.LINK_TABLE, bulk.LINK_COLUMNS, [(second.pk, node.pk, "b", link_type)]
        )
    assert DbLink.objects.filter(output=node).count() == 1


def test_links_that_close_a_provenance_cycle_are_refused(make_node):
    data = make_node(types.INT)
    calc = make_node(types.CALCFUNCTION, inputs=[(data, "x", "input_calc")])
    result = make_node(types.INT)
    services.link_add(
        source=calc.pk, target=result.pk, label="result", link_type="create"
    )
    later = make_node(types.CALCFUNCTION, inputs=[(result, "x", "input_calc")])

    # data -> calc -> result -> later -> data would go round.
    with pytest.raises(StoringNotAllowed, match="provenance cycle"):
        services.link_add(
            source=later.pk, target=data.pk, label="made", link_type="create"
        )
    assert DbLink.objects.count() == 3


def test_a_batch_whose_links_go_round_stores_nothing(user, make_node):
    first = NodeSpec(node_type=types.CALCFUNCTION)
    second = NodeSpec(node_type=types.INT)
    third = NodeSpec(node_type=types.INT)
    with pytest.raises(StoringNotAllowed, match="provenance cycle"):
        services.nodes_store_bulk(
            user=user,
            nodes=[first, second, third],
            links=[
                (first, second, "out", "create"),
                (second, first, "x", "input_calc"),
            ],
        )
    assert not DbNode.objects.exists()


def test_a_workflow_may_return_one_of_its_inputs(make_node):
    data = make_node(types.INT)
    workflow = make_node(types.WORKFUNCTION, inputs=[(data, "x", "input_work")])

    services.link_add(
        source=workflow.pk, target=data.pk, label="result", link_type="return"
    )

    assert DbLink.objects.filter(input=workflow, output=data).exists()
