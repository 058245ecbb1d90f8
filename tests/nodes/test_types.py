"""Node type strings: kinds, subtype matching and validation."""

from __future__ import annotations

import pytest

from aiidasite.exceptions import InputValidationError
from nodes import types


def test_every_known_type_is_either_data_or_process():
    for node_type in types.KNOWN_TYPES:
        assert types.is_data(node_type) != types.is_process(node_type)


def test_calculation_and_workflow_types_are_told_apart():
    assert types.is_calculation(types.CALCJOB)
    assert types.is_calculation(types.CALCFUNCTION)
    assert not types.is_calculation(types.WORKCHAIN)
    assert types.is_workflow(types.WORKFUNCTION)
    assert not types.is_workflow(types.INT)


def test_subtypes_match_their_parent_by_prefix():
    assert types.is_subtype(types.BANDS, types.ARRAY)
    assert types.is_subtype(types.KPOINTS, types.ARRAY)
    assert types.is_subtype(types.CALCJOB, types.CALCULATION)
    assert not types.is_subtype(types.ARRAY, types.BANDS)
    assert not types.is_subtype(types.INT, types.FLOAT)


def test_class_names_resolve_to_type_strings():
    assert types.resolve("Dict") == types.DICT
    assert types.resolve("data.core.int.Int.") == types.INT
    assert types.class_name(types.BANDS) == "BandsData"


def test_plugin_types_are_accepted():
    custom = "data.quantumespresso.force_constants.ForceConstantsData."
    assert types.validate_node_type(custom) == custom


@pytest.mark.parametrize("bad", ["", "Int", "data.core.int.Int", "node.Node.", 3])
def test_malformed_types_are_refused(bad):
    with pytest.raises(InputValidationError, match="invalid node_type"):
        types.validate_node_type(bad)


def test_a_node_row_answers_the_same_questions():
    from nodes.models import DbNode

    bands = DbNode(node_type=types.BANDS)
    assert bands.is_data and not bands.is_process
    assert bands.is_a(types.ARRAY) and not bands.is_a(types.DICT)
    calc = DbNode(node_type=types.CALCFUNCTION)
    assert calc.is_process and calc.is_calculation and not calc.is_workflow
    assert DbNode(node_type=types.WORKFUNCTION).is_workflow
