"""Link rules, checked without a database."""

from __future__ import annotations

import pytest

from aiidasite.exceptions import (
    InputValidationError,
    ModificationNotAllowed,
    StoringNotAllowed,
)
from nodes import types
from nodes.links import Link, check_acyclic, check_links, validate_label

TYPES = {
    1: types.INT,
    2: types.DICT,
    10: types.CALCJOB,
    11: types.CALCFUNCTION,
    20: types.WORKCHAIN,
    21: types.WORKFUNCTION,
}


def test_allowed_links_pass_and_come_back_normalized():
    new = [
        Link(1, 10, "x", "INPUT_CALC"),
        Link(10, 2, "result", "create"),
        Link(20, 10, "call", "call_calc"),
        Link(20, 21, "sub", "call_work"),
        Link(1, 20, "x", "input_work"),
        Link(20, 2, "result", "return"),
    ]
    checked = check_links(new, TYPES)
    assert [link.type for link in checked] == [
        "input_calc",
        "create",
        "call_calc",
        "call_work",
        "input_work",
        "return",
    ]


@pytest.mark.parametrize(
    "link",
    [
        Link(1, 2, "x", "create"),  # data cannot create
        Link(20, 2, "x", "create"),  # a workflow returns, it does not create
        Link(10, 2, "x", "return"),  # a calculation cannot return
        Link(1, 20, "x", "input_calc"),  # input_calc goes into a calculation
        Link(10, 11, "x", "call_calc"),  # only workflows call
        Link(20, 1, "x", "call_work"),
        Link(2, 1, "x", "input_calc"),
    ],
)
def test_links_between_wrong_kinds_are_refused(link):
    with pytest.raises(StoringNotAllowed, match=f"a {link.type} link goes from"):
        check_links([link], TYPES)


def test_self_links_are_refused():
    with pytest.raises(StoringNotAllowed, match="to itself"):
        check_links([Link(20, 20, "x", "call_work")], TYPES)


def test_a_data_node_has_one_creator_even_across_batch_and_database():
    with pytest.raises(StoringNotAllowed, match="already has a creator"):
        check_links([Link(11, 2, "b", "create")], TYPES, [Link(10, 2, "a", "create")])
    with pytest.raises(StoringNotAllowed, match="already has a creator"):
        check_links([Link(10, 2, "a", "create"), Link(11, 2, "b", "create")], TYPES)


def test_a_process_has_one_caller_of_either_call_type():
    existing = [Link(20, 10, "a", "call_calc")]
    with pytest.raises(StoringNotAllowed, match="already has a caller"):
        check_links([Link(21, 10, "b", "call_calc")], TYPES, existing)


def test_input_labels_are_unique_per_target():
    with pytest.raises(StoringNotAllowed, match="incoming input_calc link"):
        check_links(
            [Link(1, 10, "x", "input_calc"), Link(2, 10, "x", "input_calc")], TYPES
        )
    # The same label into another process is fine.
    check_links([Link(1, 10, "x", "input_calc"), Link(1, 11, "x", "input_calc")], TYPES)


def test_output_labels_are_unique_per_source():
    with pytest.raises(StoringNotAllowed, match="outgoing create link"):
        check_links([Link(10, 1, "out", "create"), Link(10, 2, "out", "create")], TYPES)
    with pytest.raises(StoringNotAllowed, match="outgoing return link"):
        check_links(
            [Link(20, 2, "out", "return")], TYPES, [Link(20, 1, "out", "return")]
        )


def test_a_workflow_may_return_a_node_under_two_labels():
    check_links([Link(20, 2, "a", "return"), Link(20, 2, "b", "return")], TYPES)


def test_links_to_unknown_nodes_are_refused():
    with pytest.raises(StoringNotAllowed, match="not stored"):
        check_links([Link(1, 99, "x", "input_calc")], TYPES)


@pytest.mark.parametrize("label", ["_x", "x_", "1x", "a-b", "a b", "", "class", "é"])
def test_malformed_labels_are_refused(label):
    with pytest.raises(InputValidationError, match="invalid link label"):
        validate_label(label)


def test_labels_fit_the_255_characters_of_their_column():
    assert validate_label("x" * 255) == "x" * 255
    with pytest.raises(InputValidationError, match="at most 255 characters"):
        validate_label("x" * 256)


@pytest.mark.parametrize(
    ("link", "end"),
    [
        (Link(10, 2, "result", "create"), "from node 10"),
        (Link(20, 10, "call", "call_calc"), "to node 10"),
        (Link(1, 10, "x", "input_calc"), "to node 10"),
    ],
)
def test_a_sealed_process_takes_no_new_link_in_or_out(link, end):
    assert check_links([link], TYPES) == [link]
    with pytest.raises(ModificationNotAllowed, match=f"{end}: it is a sealed"):
        check_links([link], TYPES, sealed={10})


def test_labels_may_contain_inner_underscores_and_digits():
    assert validate_label("output_band2") == "output_band2"


def test_unknown_link_types_are_refused():
    with pytest.raises(InputValidationError, match="invalid link type"):
        check_links([Link(1, 10, "x", "input")], TYPES)


def test_acyclic_links_pass_and_a_cycle_is_named():
    check_acyclic([(1, 10), (10, 2), (2, 11), (1, 11)])

    with pytest.raises(StoringNotAllowed, match=r"cycle \(among nodes 2, 10, 11\)"):
        check_acyclic([(1, 10), (10, 2), (2, 11), (11, 10)])
