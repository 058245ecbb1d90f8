"""SQL for a path into a JSON column, with the same answers on both databases.

PostgreSQL stores Django's ``JSONField`` as ``jsonb`` and has operators for
it; SQLite stores text and has ``json_type``/``json_extract``/``json_each``.
Each :class:`JsonPath` method returns an expression that evaluates to the
same value on both, ``NULL`` included: a path that is missing, or that holds
a value of another JSON type, gives ``NULL`` rather than an error, so callers
can compare without guarding.

Type names follow JSON (and PostgreSQL's ``jsonb_typeof``): ``object``,
``array``, ``string``, ``number``, ``boolean``, ``null``.

A path is a list of keys. As AiiDA documents, an all-digit key (ASCII
``0``-``9``) is an array index: ``attributes.mesh.0`` is the first element of
the array ``mesh``, and finds nothing when ``mesh`` is an object, even one
with a key ``"0"`` (``has_key`` and ``contains`` reach such keys). Keys may
hold any character but ``"`` (SQLite's path syntax cannot quote it), and a
dotted field cannot hold a ``.`` in a key.

SQLite before 3.45 matches a path key against the key's text as stored in
the document, escapes included: ``"\\u00fc"`` and ``"ü"`` are the same key to
JSON but not to ``json_extract``. A key that JSON may escape (non-ASCII, a
backslash, a control character) is therefore looked up by its decoded name
in ``json_each``, whose ``fullkey`` is the path as the document spells it.
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
from queries.bound import json_array
from queries.limits import (
    MAX_CONTAINS_DEPTH,
    MAX_CONTAINS_ITEMS,
    MAX_EQUALS_DEPTH,
    MAX_JSON_KEYS,
    depth,
)
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
    # Below 2**53 every integer is a float, so no integer falls between a
    # float and the next one; above, the gap is 2 or more and would hide some.
    if not abs(value) < 2**53:
        return None
    point = float(value)
    inf = math.inf
    below, at, above = (bool(compare(x, point)) for x in (-inf, point, inf))
    low = -inf if below else point if at else math.nextafter(point, inf)
    high = inf if above else point if at else math.nextafter(point, -inf)
    if below and above:
        return None
    return low, high


def is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


Segment = str | int


def parse_keys(keys: list[str]) -> list[Segment]:
    """The dotted path's keys, all-digit ones as array indices.

    :raises InputValidationError: an empty key, a key holding ``"``, an index
        beyond 2**31 - 1, or more than ``MAX_JSON_KEYS`` keys.
    """
    if len(keys) > MAX_JSON_KEYS:
        raise InputValidationError(
            f"A JSON path has at most {MAX_JSON_KEYS} keys, got {len(keys)}."
        )
    segments: list[Segment] = []
    for key in keys:
        _check_key(key)
        if key.isascii() and key.isdigit():
            if int(key) > 2**31 - 1:
                raise InputValidationError(
                    f"Array index {key} is too large (at most {2**31 - 1})."
                )
            segments.append(int(key))
        else:
            segments.append(key)
    return segments


def _check_key(key: Any) -> None:
    if not isinstance(key, str) or not key or '"' in key:
        raise InputValidationError(
            f"JSON path keys must be non-empty and free of '\"', got {key!r}."
        )


def _plain(key: str) -> bool:
    """Whether ``key`` has one spelling in JSON text (nothing to escape)."""
    return key.isascii() and key.isprintable() and "\\" not in key


def _concat(base: Any, text: str, *, inline: bool) -> Any:
    """The SQLite path ``base`` (an expression, or None for none) then ``text``."""
    if base is None:
        return sa.literal(text, sa.String, literal_execute=inline)
    if not text:
        return base
    return base.concat(sa.literal(text, sa.String))


def _sqlite_step(segment: Segment) -> str:
    return f"[{segment}]" if isinstance(segment, int) else f'."{segment}"'


def _pg_jsonpath_step(segment: Segment) -> str:
    return f"[{segment}]" if isinstance(segment, int) else f".{json.dumps(segment)}"


class JsonPath:
    """The value at ``keys`` inside the JSON expression ``document``.

    ``keys`` are the dotted path's keys (all-digit ones become array
    indices); ``segments``, given instead, are already typed (``int`` is an
    index, ``str`` an object key).
    """

    def __init__(
        self,
        document: Any,
        keys: list[str],
        dialect: str,
        *,
        sqlite_base: Any = None,
        segments: list[Segment] | None = None,
    ) -> None:
        self.segments = parse_keys(keys) if segments is None else segments
        self.document = document
        self.dialect = dialect
        # A SQL expression for the path of ``document``'s root, when it is an
        # element found by json_each rather than the column itself.
        self.sqlite_base = sqlite_base

    @property
    def keys(self) -> list[str]:
        return [str(segment) for segment in self.segments]

    @property
    def _has_index(self) -> bool:
        return any(isinstance(segment, int) for segment in self.segments)

    # -- the SQLite path string and the PostgreSQL path array, as bound values

    def _sqlite_path(self, extra: tuple[str, ...] = ()) -> Any:
        """The SQLite path of the value (then of the object keys ``extra``)."""
        base, text = self.sqlite_base, "" if self.sqlite_base is not None else "$"
        for segment in [*self.segments, *extra]:
            if isinstance(segment, int) or _plain(segment):
                text += _sqlite_step(segment)
                continue
            elements = (
                sa.func.json_each(self.document, _concat(base, text, inline=not extra))
                .table_valued("key", "fullkey")
                .alias()
            )
            base = (
                sa.select(elements.c.fullkey)
                .where(elements.c.key == sa.literal(segment, sa.Text))
                .scalar_subquery()
            )
            text = ""
        # A path spelled out in the SQL (quoted and escaped by SQLAlchemy) is
        # parsed once per statement; a bound one once per row.
        return _concat(base, text, inline=not extra)

    def _pg_path(self) -> Any:
        return sa.literal(self.keys, ARRAY(sa.Text))

    def _pg_jsonpath(self) -> str:
        return "strict $" + "".join(map(_pg_jsonpath_step, self.segments))

    @property
    def _pg_value(self) -> Any:
        if not self.segments:
            return self.document
        if self._has_index:
            # ``#>`` would read an all-digit key of an object as well; a
            # strict SQL/JSON path reads array elements only.
            return sa.func.jsonb_path_query_first(
                self.document,
                sa.literal(self._pg_jsonpath(), JSONPATH),
                sa.cast(sa.literal("{}", sa.Text), JSONB),
                sa.true(),
                type_=JSONDocument,
            )
        return self.document.op("#>", return_type=JSONDocument)(self._pg_path())

    @property
    def _pg_text(self) -> Any:
        if self._has_index:
            return self._pg_value.op("#>>", return_type=sa.Text)(
                sa.literal([], ARRAY(sa.Text))
            )
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
            # numeric, not float: integers beyond 2**53 keep their order.
            return sa.case(
                (self.type() == "number", sa.cast(self._pg_text, sa.Numeric))
            )
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
        return sa.func.jsonb_path_exists(
            self.document,
            sa.literal(f"{self._pg_jsonpath()} ? (@ {symbol} $value)", JSONPATH),
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
        if isinstance(value, list | dict):
            return self._equals_document(value)
        raise InputValidationError(
            f"JSON values compare with JSON values, not {type(value).__name__}."
        )

    def _equals_document(self, value: list[Any] | dict[str, Any]) -> Any:
        """JSON equality with a list or an object: the same elements in the
        same order, or the same keys with equal values (key order aside)."""
        if depth(value) > MAX_EQUALS_DEPTH:
            raise InputValidationError(
                f"A list or object compared with '==' nests at most "
                f"{MAX_EQUALS_DEPTH} levels."
            )
        if self.dialect == "postgresql":
            return self._pg_value == sa.cast(
                sa.literal(json.dumps(value), sa.Text), JSONB
            )
        if isinstance(value, list):
            return sa.and_(
                self._sqlite_raw_type == "array",
                sa.func.json_array_length(self.document, self._sqlite_path())
                == len(value),
                *(self._child(i).equals(item) for i, item in enumerate(value)),
            )
        for key in value:
            _check_key(key)
        elements = (
            sa.func.json_each(self.document, self._sqlite_path())
            .table_valued("key")
            .alias()
        )
        keys = sa.select(sa.func.count()).select_from(elements).scalar_subquery()
        return sa.and_(
            self._sqlite_raw_type == "object",
            keys == len(value),
            *(self._child(key).equals(item) for key, item in value.items()),
        )

    def one_of(self, values: list[Any]) -> ColumnElement[bool]:
        """Equality with any of the scalars ``values``, typed as :meth:`equals`.

        One array parameter per JSON type, whatever the number of values, so
        compiling and running stay linear in it.
        """
        if not values:
            return sa.false()
        if self.dialect == "postgresql":
            # jsonb equality is typed and compares numbers as numbers.
            elements = sa.func.jsonb_array_elements(
                sa.cast(sa.literal(json.dumps(values), sa.Text), JSONB)
            )
            return self._pg_value.in_(sa.select(elements))
        strings = [value for value in values if isinstance(value, str)]
        numbers = [
            value
            for value in values
            if isinstance(value, int | float) and not isinstance(value, bool)
        ]
        clauses = [
            self.equals(special)
            for special in (None, True, False)
            if any(value is special for value in values)
        ]
        for group, expression in ((strings, self.string), (numbers, self.number)):
            if group:
                clauses.append(expression().in_(sa.select(json_array(group).c.value)))
        return sa.or_(*clauses)

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
        too_deep = depth(value) > MAX_CONTAINS_DEPTH
        if too_deep or _containers(value) > MAX_CONTAINS_ITEMS:
            raise InputValidationError(
                f"A 'contains' value nests at most {MAX_CONTAINS_DEPTH} levels and "
                f"holds at most {MAX_CONTAINS_ITEMS} lists and objects: split it "
                "into several 'contains' under 'and'."
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
        clauses.extend(
            self._sqlite_contains_scalars([i for i in value if is_scalar(i)])
        )
        for item in value:
            if is_scalar(item):
                continue
            elements = (
                sa.func.json_each(self.document, self._sqlite_path())
                .table_valued("value", "type", "fullkey")
                .alias()
            )
            element = JsonPath(
                self.document, [], "sqlite", sqlite_base=elements.c.fullkey
            )
            match = element._sqlite_contains(item)
            clauses.append(sa.exists(sa.select(1).select_from(elements).where(match)))
        return sa.and_(*clauses)

    def _sqlite_contains_scalars(self, items: list[Any]) -> list[Any]:
        """Conditions that the array holds every scalar of ``items``.

        Numbers and strings are each one count of the distinct elements found
        in one array parameter, so the cost does not grow with a subquery per
        item; true, false and null are one ``EXISTS`` each.
        """
        clauses = []
        for special in (None, True, False):
            if any(item is special for item in items):
                elements = self._sqlite_elements()
                match = _sqlite_element_equals(elements, special)
                clauses.append(
                    sa.exists(sa.select(1).select_from(elements).where(match))
                )
        numbers = {
            i for i in items if isinstance(i, int | float) and not isinstance(i, bool)
        }
        strings = {i for i in items if isinstance(i, str)}
        groups = ((list(numbers), ("integer", "real")), (list(strings), ("text",)))
        for group, types in groups:
            if group:
                elements = self._sqlite_elements()
                wanted = sa.select(json_array(group).c.value)
                found = (
                    sa.select(sa.func.count(sa.distinct(elements.c.value)))
                    .where(elements.c.type.in_(types), elements.c.value.in_(wanted))
                    .scalar_subquery()
                )
                # SQLite's DISTINCT, like Python's set, takes 1 and 1.0 as one.
                clauses.append(found == len(group))
        return clauses

    def _sqlite_elements(self) -> Any:
        return (
            sa.func.json_each(self.document, self._sqlite_path())
            .table_valued("value", "type", "fullkey")
            .alias()
        )

    def _child(self, segment: Segment) -> JsonPath:
        return JsonPath(
            self.document,
            [],
            self.dialect,
            sqlite_base=self.sqlite_base,
            segments=[*self.segments, segment],
        )

    def _sqlite_match(self, value: Any) -> ColumnElement[bool]:
        if isinstance(value, dict | list):
            return self._sqlite_contains(value)
        return self.equals(value)


def _containers(value: Any) -> int:
    """The lists and objects inside ``value`` (itself not counted)."""
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, dict | list):
                count += 1
                stack.append(child)
    return count


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
