"""SQL for a path into a JSON column, with the same answers on both databases.

PostgreSQL stores Django's ``JSONField`` as ``jsonb`` and has operators for
it; SQLite stores text and has ``json_type``/``json_extract``/``json_each``.
Each :class:`JsonPath` method returns an expression that evaluates to the
same value on both, ``NULL`` included: a path that is missing, or that holds
a value of another JSON type, gives ``NULL`` rather than an error, so callers
can compare without guarding.

Type names follow JSON (and PostgreSQL's ``jsonb_typeof``): ``object``,
``array``, ``string``, ``number``, ``boolean``, ``null``. Paths are object
keys only; array elements are reached with ``contains``.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, JSONPATH
from sqlalchemy.sql.elements import ColumnElement

from aiidasite.exceptions import InputValidationError
from queries.tables import JSONDocument

JSON_TYPES = ("object", "array", "string", "number", "boolean", "null")

_SQLITE_TYPES = {
    "text": "string",
    "integer": "number",
    "real": "number",
    "true": "boolean",
    "false": "boolean",
}


# SQL/JSON path comparisons, which compare numbers only with numbers.
_PG_PATH_OPERATORS = {
    operator.eq: "==",
    operator.gt: ">",
    operator.ge: ">=",
    operator.lt: "<",
    operator.le: "<=",
}

# Constant type names, spelled out in the SQL like the paths.
_SQLITE_NUMBERS = (sa.literal_column("'integer'"), sa.literal_column("'real'"))
_SQLITE_TEXT = sa.literal_column("'text'")


def _number_bounds(
    compare: Callable[[Any, Any], Any], value: int | float
) -> tuple[float, float] | None:
    """Inclusive ``(low, high)`` holding exactly the numbers ``x`` for which
    ``compare(x, value)`` holds, or None when floats cannot say it exactly.

    SQLite compares integers with reals exactly, so the float next to
    ``value`` turns a strict comparison into an inclusive one.
    """
    if isinstance(value, int) and abs(value) > 2**53:
        return None
    point = float(value)
    if not math.isfinite(point):
        return None
    inf = math.inf
    below, at, above = (bool(compare(x, point)) for x in (-inf, point, inf))
    low = -inf if below else point if at else math.nextafter(point, inf)
    high = inf if above else point if at else math.nextafter(point, -inf)
    if below and above:
        return None
    return low, high


def is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


class JsonPath:
    """The value at ``keys`` inside the JSON expression ``document``."""

    def __init__(
        self,
        document: Any,
        keys: list[str],
        dialect: str,
        *,
        sqlite_base: Any = None,
    ) -> None:
        for key in keys:
            if not isinstance(key, str) or not key or '"' in key:
                raise InputValidationError(
                    f"JSON path keys must be non-empty and free of '\"', got {key!r}."
                )
        self.document = document
        self.keys = keys
        self.dialect = dialect
        # A SQL expression for the path of ``document``'s root, when it is an
        # element found by json_each rather than the column itself.
        self.sqlite_base = sqlite_base

    # -- the SQLite path string and the PostgreSQL path array, as bound values

    def _sqlite_path(self, extra: tuple[str, ...] = ()) -> Any:
        suffix = "".join(f'."{key}"' for key in [*self.keys, *extra])
        if self.sqlite_base is None:
            # A path spelled out in the SQL (quoted and escaped by SQLAlchemy)
            # is parsed once per statement; a bound one once per row.
            return sa.literal("$" + suffix, sa.String, literal_execute=not extra)
        if not suffix:
            return self.sqlite_base
        return self.sqlite_base.concat(sa.literal(suffix, sa.String))

    def _pg_path(self) -> Any:
        return sa.literal(self.keys, ARRAY(sa.Text))

    @property
    def _pg_value(self) -> Any:
        if not self.keys:
            return self.document
        return self.document.op("#>", return_type=JSONDocument)(self._pg_path())

    @property
    def _pg_text(self) -> Any:
        return self.document.op("#>>", return_type=sa.Text)(
            sa.literal(self.keys, ARRAY(sa.Text))
        )

    @property
    def _sqlite_raw_type(self) -> Any:
        return sa.func.json_type(self.document, self._sqlite_path())

    # -- values

    def value(self) -> Any:
        """The JSON value itself, decoded to Python in results."""
        if self.dialect == "postgresql":
            return self._pg_value
        return self.document.op("->", return_type=JSONDocument)(self._sqlite_path())

    def type(self) -> Any:
        """The JSON type name (one of :data:`JSON_TYPES`), NULL when missing."""
        if self.dialect == "postgresql":
            return sa.func.jsonb_typeof(self._pg_value)
        raw = self._sqlite_raw_type
        return sa.case(
            *(
                (raw == name, sa.literal(json_name))
                for name, json_name in _SQLITE_TYPES.items()
            ),
            else_=raw,
        )

    def number(self) -> Any:
        if self.dialect == "postgresql":
            return sa.case((self.type() == "number", sa.cast(self._pg_text, sa.Float)))
        return sa.case(
            (
                self._sqlite_raw_type.in_(_SQLITE_NUMBERS),
                sa.func.json_extract(self.document, self._sqlite_path()),
            )
        )

    def string(self) -> Any:
        if self.dialect == "postgresql":
            return sa.case((self.type() == "string", self._pg_text))
        return sa.case(
            (
                self._sqlite_raw_type == _SQLITE_TEXT,
                sa.func.json_extract(self.document, self._sqlite_path()),
            )
        )

    def compare_number(
        self, compare: Callable[[Any, Any], Any], value: int | float
    ) -> ColumnElement[bool]:
        """``compare(number at the path, value)``; false for any other type."""
        if self.dialect == "postgresql":
            return self._pg_compare_number(compare, value)
        if compare(0, value) or compare(1, value):
            return compare(self.number(), value)
        # Cheaper than asking json_type: SQLite sorts text above every number,
        # so a range with infinite ends drops strings, arrays and objects, and
        # booleans (0 and 1 once extracted) cannot satisfy this comparison
        # anyway. BETWEEN extracts the value once per row where two
        # comparisons would extract it twice.
        extracted = sa.func.json_extract(self.document, self._sqlite_path())
        bounds = _number_bounds(compare, value)
        if bounds is None:
            return sa.and_(
                compare(extracted, value), extracted < sa.literal_column("''")
            )
        return extracted.between(*bounds)

    def _pg_compare_number(
        self, compare: Callable[[Any, Any], Any], value: int | float
    ) -> ColumnElement[bool]:
        symbol = _PG_PATH_OPERATORS.get(compare)
        if symbol is None or not math.isfinite(value):
            return compare(self.number(), value)
        # A path predicate reads the value once and compares it exactly as a
        # number, where a type check and a cast to float would read it twice
        # (and round integers beyond 2**53). ``strict``: an array is not
        # searched for a matching element.
        keys = "".join(f".{json.dumps(key)}" for key in self.keys)
        return sa.func.jsonb_path_exists(
            self.document,
            sa.literal(f"strict ${keys} ? (@ {symbol} $value)", JSONPATH),
            sa.cast(sa.literal(json.dumps({"value": value}), sa.Text), JSONB),
            sa.true(),
            type_=sa.Boolean,
        )

    def length(self) -> Any:
        """The number of elements of an array; NULL for anything else."""
        if self.dialect == "postgresql":
            return sa.case(
                (self.type() == "array", sa.func.jsonb_array_length(self._pg_value))
            )
        return sa.case(
            (
                self._sqlite_raw_type == "array",
                sa.func.json_array_length(self.document, self._sqlite_path()),
            )
        )

    # -- predicates

    def equals(self, value: Any) -> ColumnElement[bool]:
        """Equality with a scalar, typed: ``1`` never equals ``"1"`` or ``true``."""
        if isinstance(value, bool):
            if self.dialect == "postgresql":
                return sa.and_(
                    self.type() == "boolean",
                    self._pg_text == ("true" if value else "false"),
                )
            return self._sqlite_raw_type == ("true" if value else "false")
        if value is None:
            return self.type() == "null"
        if isinstance(value, int | float):
            return self.compare_number(operator.eq, value)
        if isinstance(value, str):
            return self.string() == value
        raise InputValidationError(
            "JSON values compare with '==' only to scalars; use 'contains' "
            f"for {type(value).__name__} values."
        )

    def has_key(self, key: Any) -> ColumnElement[bool]:
        """True when the value is an object with ``key``."""
        if not isinstance(key, str) or '"' in key:
            raise InputValidationError(f"'has_key' needs a key string, got {key!r}.")
        if self.dialect == "postgresql":
            return sa.and_(
                self.type() == "object",
                self._pg_value.op("?", return_type=sa.Boolean)(sa.literal(key)),
            )
        return sa.and_(
            self._sqlite_raw_type == "object",
            sa.func.json_type(self.document, self._sqlite_path((key,))).is_not(None),
        )

    def contains(self, value: Any) -> ColumnElement[bool]:
        """``jsonb`` containment: every key or element of ``value`` is present.

        A list is contained when each of its elements equals (or, for lists
        and objects, is contained in) some element of the array; an object
        when each of its keys is present with a contained value.
        """
        if not isinstance(value, dict | list):
            raise InputValidationError(
                f"'contains' needs a list or an object, got {value!r}."
            )
        if self.dialect == "postgresql":
            return self._pg_value.op("@>", return_type=sa.Boolean)(
                sa.cast(sa.literal(json.dumps(value), sa.Text), JSONB)
            )
        return self._sqlite_contains(value)

    def _sqlite_contains(self, value: Any) -> ColumnElement[bool]:
        if isinstance(value, dict):
            return sa.and_(
                self._sqlite_raw_type == "object",
                *(self._child(key)._sqlite_match(item) for key, item in value.items()),
            )
        clauses = [self._sqlite_raw_type == "array"]
        for item in value:
            elements = (
                sa.func.json_each(self.document, self._sqlite_path())
                .table_valued("value", "type", "fullkey")
                .alias()
            )
            if isinstance(item, dict | list):
                element = JsonPath(
                    self.document, [], "sqlite", sqlite_base=elements.c.fullkey
                )
                match = element._sqlite_contains(item)
            else:
                match = _sqlite_element_equals(elements, item)
            clauses.append(sa.exists(sa.select(1).select_from(elements).where(match)))
        return sa.and_(*clauses)

    def _child(self, key: str) -> JsonPath:
        return JsonPath(
            self.document, [*self.keys, key], "sqlite", sqlite_base=self.sqlite_base
        )

    def _sqlite_match(self, value: Any) -> ColumnElement[bool]:
        if isinstance(value, dict | list):
            return self._sqlite_contains(value)
        return self.equals(value)


def _sqlite_element_equals(elements: Any, item: Any) -> ColumnElement[bool]:
    if isinstance(item, bool):
        return elements.c.type == ("true" if item else "false")
    if item is None:
        return elements.c.type == "null"
    if isinstance(item, int | float):
        return sa.and_(
            elements.c.type.in_(["integer", "real"]), elements.c.value == item
        )
    return sa.and_(elements.c.type == "text", elements.c.value == item)
