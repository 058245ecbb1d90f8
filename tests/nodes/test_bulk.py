"""Set-based helpers of ``nodes.bulk`` give the same answers on both databases."""

from __future__ import annotations

import pytest

from nodes import bulk, types
from nodes.models import DbNodeObject

pytestmark = pytest.mark.django_db


def test_keys_with_array_syntax_in_them_are_matched_exactly(make_node):
    node = make_node(types.INT)
    odd = ['a"b', "c\\d", "e,f", "{g}", "NULL", " h ", "ü"]
    DbNodeObject.objects.bulk_create(DbNodeObject(node=node, key=k) for k in odd)
    asked = [*odd, "a", "c\\\\d", "NUL", "h", "g"]
    assert bulk.referenced_object_keys(asked) == set(odd)


def test_array_literals_quote_text_and_leave_numbers_bare():
    assert bulk.array_literal([3, 1, 2]) == "{3,1,2}"
    assert bulk.array_literal(['a"b', "c\\d"]) == '{"a\\"b","c\\\\d"}'
