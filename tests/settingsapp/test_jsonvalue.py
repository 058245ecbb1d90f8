"""Exact JSON text for the settings column, and what it refuses."""

from __future__ import annotations

import json

import pytest

from aiidasite.exceptions import InputValidationError
from settingsapp.jsonvalue import ExactJSONEncoder, dumps_exact, validate_json_value


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e300, "1" + "0" * 300 + ".0"),
        (1.5e20, "150000000000000000000.0"),
        (1e-300, "1e-300"),
        (0.1, "0.1"),
        (2**70, str(2**70)),
        ({"a": [1, None, True]}, '{"a":[1,null,true]}'),
        ("ünï", '"ünï"'),
    ],
)
def test_dumps_exact_writes_floats_without_positive_exponents(value, text):
    assert dumps_exact(value) == text
    assert json.loads(text) == value


@pytest.mark.parametrize("value", [1e300, 1.7976931348623157e308, 5e-324, -2.5e17])
def test_dumps_exact_names_the_same_double(value):
    parsed = json.loads(dumps_exact(value))
    assert isinstance(parsed, float)
    assert parsed == value


def test_encoder_keeps_indentation_for_display():
    assert json.dumps({"a": 1}, cls=ExactJSONEncoder, indent=2) == '{\n  "a": 1\n}'


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "JSON cannot hold"),
        ({"a": float("inf")}, "JSON cannot hold"),
        ({1: "x"}, "keys must be strings"),
        ((1, 2), "tuple"),
        ({"a": {1, 2}}, "set"),
        ("a\x00b", "NUL"),
        (["\ud800"], "surrogate"),
    ],
)
def test_validate_json_value_refuses_what_cannot_round_trip(value, message):
    with pytest.raises(InputValidationError, match=message):
        validate_json_value(value)
