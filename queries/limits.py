"""How large a query may be, checked before any SQL is built.

A query arrives as JSON from anyone who may read. Its size decides how long
compiling takes (outside the statement timeout) and how deep the compilers
recurse, so every bound here is checked by one iterative walk over the raw
values, before a copy, a compile or a statement is made:

- ``MAX_VALUES`` scalars, lists and objects in all filters together (an
  ``in`` list of 50,000 values is one list and 50,000 scalars);
- ``MAX_CONDITIONS`` lists and objects in all filters together: each is a
  condition or a value the SQL spells out (an ``or`` of 50,000 equalities
  compiles and runs far slower than one ``in`` list of 50,000 values);
- ``MAX_DEPTH`` levels of lists and objects in one entity's filters (each
  ``and`` or ``or`` adds two, a ``~`` one), and at most ``MAX_NEGATIONS``
  ``~`` inside one another (each is a function call in the SQL, and SQLite's
  parser stack overflows near thirty);
- ``MAX_EQUALS_DEPTH`` levels in a list or object compared with ``==``;
- ``MAX_CONTAINS_DEPTH`` levels in a ``contains`` value and
  ``MAX_CONTAINS_ITEMS`` lists and objects in its lists (on SQLite each is a
  subquery, nested in the one of the level before: SQLite's parser gives up
  near ten levels, and a thousand subqueries take seconds to compile);
- ``MAX_PATH`` entities in a query and ``MAX_JSON_KEYS`` keys in one JSON path;
- integers within the signed 64-bit range (the widest integer SQLite holds;
  beyond it neither database compares a JSON number exactly with both); no
  NaN.
"""

from __future__ import annotations

import math
from typing import Any

from aiidasite.exceptions import InputValidationError

MAX_VALUES = 100_000
MAX_CONDITIONS = 500
MAX_DEPTH = 100
MAX_NEGATIONS = 20
MAX_EQUALS_DEPTH = 16
MAX_CONTAINS_DEPTH = 6
MAX_CONTAINS_ITEMS = 100
MAX_PATH = 32
MAX_JSON_KEYS = 32
MAX_INTEGER = 2**63 - 1


def check_integer(value: int, where: str) -> int:
    """``value`` if it fits a signed 64-bit integer.

    :raises InputValidationError: it does not.
    """
    if not -MAX_INTEGER - 1 <= value <= MAX_INTEGER:
        raise InputValidationError(
            f"{where}: {value} is beyond the 64-bit integers the databases compare "
            f"exactly; use a value between {-MAX_INTEGER - 1} and {MAX_INTEGER}."
        )
    return value


def depth(value: Any) -> int:
    """Levels of lists and objects in ``value`` (0 for a scalar), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list | tuple):
            level += 1
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level) for child in children)
    return deepest


def check_filters(filters: Any, where: str) -> tuple[int, int]:
    """The number of values (every list, object and scalar) and of lists and
    objects in ``filters``.

    Walks without recursion, so any depth is answered with a clear error.

    :raises InputValidationError: nesting deeper than ``MAX_DEPTH`` (or
        ``MAX_NEGATIONS`` negations), more than
        ``MAX_VALUES`` values or ``MAX_CONDITIONS`` lists and objects, an
        integer beyond 64 bits or a NaN.
    """
    count = containers = 0
    stack: list[tuple[Any, int, int]] = [(filters, 1, 0)]
    while stack:
        value, depth, negations = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise InputValidationError(
                f"Filters of {where} hold more than {MAX_VALUES} values: split the "
                "query, or filter on fewer values at once."
            )
        if isinstance(value, dict | list | tuple):
            containers += 1
            if containers > MAX_CONDITIONS:
                raise InputValidationError(
                    f"Filters of {where} hold more than {MAX_CONDITIONS} conditions "
                    "(lists and objects): compare one field with many values "
                    "through one 'in' list."
                )
            if depth > MAX_DEPTH:
                raise InputValidationError(
                    f"Filters of {where} nest deeper than {MAX_DEPTH} levels of "
                    "lists and objects: flatten the 'and', 'or' and '~' nesting."
                )
            if negations > MAX_NEGATIONS:
                raise InputValidationError(
                    f"Filters of {where} nest more than {MAX_NEGATIONS} '~' inside "
                    "one another: two negations cancel, drop them in pairs."
                )
            if isinstance(value, dict):
                stack.extend(
                    (item, depth + 1, negations + (key == "~"))
                    for key, item in value.items()
                )
            else:
                stack.extend((item, depth + 1, negations) for item in value)
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int):
            check_integer(value, f"Filters of {where}")
        elif isinstance(value, float) and math.isnan(value):
            raise InputValidationError(
                f"Filters of {where}: NaN compares with nothing."
            )
    return count, containers
