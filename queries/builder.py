"""QueryBuilder: AiiDA's query language over the graph's tables.

A query is a path of entities, each joined to an earlier one by a relation,
with filters, projections and an order. Build it in Python::

    qb = QueryBuilder()
    qb.append("StructureData", tag="structure", project=["id", "attributes.cell"])
    qb.append("CalcJobNode", tag="calc", with_incoming="structure",
              edge_filters={"type": "input_calc"})
    qb.append("BandsData", tag="bands", with_incoming="calc",
              filters={"ctime": {">": "2024-01-01T00:00:00+00:00"}}, project=["uuid"])
    qb.order_by({"bands": [{"ctime": "desc"}]}).limit(10)
    rows = qb.all()          # [[structure id, cell, bands uuid], ...]

or as JSON (:meth:`QueryBuilder.from_dict` / :meth:`QueryBuilder.as_dict`)::

    {
      "path": [
        {"entity": "StructureData", "tag": "structure"},
        {"entity": "CalcJobNode", "tag": "calc", "with_incoming": "structure"},
        {"entity": "BandsData", "tag": "bands", "with_incoming": "calc"}
      ],
      "filters": {"bands": {"ctime": {">": "2024-01-01T00:00:00+00:00"}},
                  "structure--calc": {"type": "input_calc"}},
      "project": {"structure": ["id", "attributes.cell"], "bands": ["uuid"]},
      "order_by": [{"bands": [{"ctime": {"order": "desc"}}]}],
      "limit": 10, "offset": 0, "distinct": false
    }

**Entities.** ``"node"``, ``"group"``, ``"user"``, ``"link"``; a node type
string (``"data.core.structure.StructureData."``) or its class name
(``"StructureData"``). A node type matches its subtypes (``"ArrayData"``
matches ``BandsData``) unless ``subclassing`` is false; a string ending in a
lowercase segment (``"data.core."``) is a plain prefix.

**Relations** (one per entity after the first, naming an earlier tag):
nodes take ``with_incoming`` (the other node, or link, points to this one),
``with_outgoing``, ``with_ancestors``, ``with_descendants`` (over ``create``
and ``input_calc`` links, AiiDA's data provenance), ``with_group`` and
``with_user``; groups take ``with_node`` and ``with_user``; users take
``with_node`` and ``with_group``; links take ``with_incoming`` (the link's
input node) and ``with_outgoing`` (its output node). Between two nodes the
link is an edge tagged ``"<other>--<tag>"`` (or ``edge_tag``) that takes
filters and projections of its own (``id``, ``label``, ``type``,
``input_id``, ``output_id``).

**Filters** map a field to a value (equality) or to ``{operator: value}``:
``==``, ``!=``, ``>``, ``>=``, ``<``, ``<=``, ``in``, ``like``, ``ilike``
(``%`` and ``_`` wildcards, ``\\`` escapes; ``like`` is case sensitive on
both databases). A leading ``!`` or ``~`` negates an operator (``!in``,
``~like``); a negated condition also holds where the field is NULL or
missing. ``{"and": [...]}`` / ``{"or": [...]}`` combine conditions, at the
top level or on one field, and ``{"~": {...}}`` negates filters. A dotted
field (``attributes.a.b``, ``extras.x``) is a JSON path, which also takes
``has_key``, ``contains`` (list or object), ``of_type`` (``object``,
``array``, ``string``, ``number``, ``boolean``, ``null``), ``of_length``,
``longer`` and ``shorter`` (arrays). JSON comparisons are typed: ``1``
matches numbers only, ``"1"`` strings only; strings compare byte-wise.

**Projections** are column names, JSON paths or ``"*"`` (every column, as a
dict). With no projection at all, the last entity is projected with ``"*"``.
Results: :meth:`all` (rows as lists), :meth:`dict` (rows as ``{tag:
{projection: value}}``), :meth:`first`, :meth:`iterall`, :meth:`count`.

Every value reaches the database as a bound parameter; unknown entities,
fields, operators or value types raise
:class:`~aiidasite.exceptions.InputValidationError`.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from django.db import connections, transaction
from django.utils import timezone
from sqlalchemy.sql.elements import ColumnElement

from aiidasite.exceptions import InputValidationError, QueryTimeout
from queries.jsonpath import JSON_TYPES, JsonPath, is_scalar
from queries.session import get_engine, get_scoped_session
from queries.tables import AwareDateTime, JSONDocument, UUIDText, get_tables

__all__ = ["QueryBuilder"]

NODE_TYPES = (
    "data.core.int.Int.",
    "data.core.float.Float.",
    "data.core.str.Str.",
    "data.core.bool.Bool.",
    "data.core.dict.Dict.",
    "data.core.list.List.",
    "data.core.structure.StructureData.",
    "data.core.array.ArrayData.",
    "data.core.array.bands.BandsData.",
    "data.core.array.kpoints.KpointsData.",
    "data.core.folder.FolderData.",
    "data.core.singlefile.SinglefileData.",
    "data.Data.",
    "process.ProcessNode.",
    "process.calculation.CalculationNode.",
    "process.calculation.calcjob.CalcJobNode.",
    "process.calculation.calcfunction.CalcFunctionNode.",
    "process.workflow.WorkflowNode.",
    "process.workflow.workchain.WorkChainNode.",
    "process.workflow.workfunction.WorkFunctionNode.",
)
NODE_TYPE_BY_CLASS = {t.rstrip(".").rsplit(".", 1)[-1]: t for t in NODE_TYPES}

KINDS = ("node", "group", "user", "link")
# relation -> kinds of the entity it may name, per kind of the appended entity
RELATIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "node": {
        "with_incoming": ("node", "link"),
        "with_outgoing": ("node", "link"),
        "with_ancestors": ("node",),
        "with_descendants": ("node",),
        "with_group": ("group",),
        "with_user": ("user",),
    },
    "group": {"with_node": ("node",), "with_user": ("user",)},
    "user": {"with_node": ("node",), "with_group": ("group",)},
    "link": {"with_incoming": ("node",), "with_outgoing": ("node",)},
}
RELATION_NAMES = (
    "with_incoming",
    "with_outgoing",
    "with_ancestors",
    "with_descendants",
    "with_group",
    "with_node",
    "with_user",
)
# Fields a query may read; users expose no password or permission flags.
FIELDS = {
    "user": ("id", "username", "email", "first_name", "last_name", "date_joined"),
    "link": ("id", "input_id", "output_id", "label", "type"),
}
PROVENANCE_LINK_TYPES = ("create", "input_calc")
COMPARISONS = {
    "==": lambda a, b: a == b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}
JSON_ONLY_OPERATORS = (
    "has_key",
    "contains",
    "of_type",
    "of_length",
    "longer",
    "shorter",
)
OPERATORS = (*COMPARISONS, "!=", "in", "like", "ilike", *JSON_ONLY_OPERATORS)
QUERY_KEYS = ("path", "filters", "project", "order_by", "limit", "offset", "distinct")
PATH_KEYS = ("entity", "tag", "subclassing", "edge_tag", *RELATION_NAMES)


@dataclass
class Vertex:
    tag: str
    entity: str
    kind: str
    node_type: str | None
    subclassing: bool
    relation: str | None = None
    target: str | None = None
    edge_tag: str | None = None

    def as_dict(self) -> dict[str, Any]:
        item: dict[str, Any] = {"entity": self.entity, "tag": self.tag}
        if self.kind == "node" and self.node_type:
            item["subclassing"] = self.subclassing
        if self.relation:
            item[self.relation] = self.target
        if self.edge_tag:
            item["edge_tag"] = self.edge_tag
        return item


def _resolve_entity(entity: Any) -> tuple[str, str | None]:
    if not isinstance(entity, str) or not entity:
        raise InputValidationError(f"An entity is a non-empty string, got {entity!r}.")
    if entity in KINDS:
        return entity, None
    if entity in NODE_TYPE_BY_CLASS:
        return "node", NODE_TYPE_BY_CLASS[entity]
    if "." in entity and entity.endswith("."):
        return "node", entity
    raise InputValidationError(
        f"Unknown entity {entity!r}: use one of {list(KINDS)}, a node type string "
        f"ending in '.', or a class name such as {sorted(NODE_TYPE_BY_CLASS)[:4]}."
    )


def type_prefix(node_type: str, subclassing: bool = True) -> tuple[str, bool]:
    """The ``node_type`` prefix matching a type and, if asked, its subtypes.

    Returns ``(string, is_prefix)``: ``("data.core.int.", True)`` for
    ``"data.core.int.Int."``; ``("data.core.int.Int.", False)`` without
    subclassing; a lowercase last segment (``"data.core."``) is a prefix.
    """
    segments = node_type.rstrip(".").split(".")
    if not segments[-1][:1].isupper():
        return node_type, True
    if not subclassing:
        return node_type, False
    return ".".join(segments[:-1]) + "." if len(segments) > 1 else "", True


def like(column: Any, pattern: str, dialect: str) -> ColumnElement[bool]:
    """Case-sensitive ``LIKE`` on both databases (SQLite's ``LIKE`` ignores case)."""
    if dialect != "sqlite":
        return column.like(pattern, escape="\\")
    glob, escaped = [], False
    for char in pattern:
        if escaped:
            glob.append(f"[{char}]" if char in "*?[" else char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            glob.append("*")
        elif char == "_":
            glob.append("?")
        else:
            glob.append(f"[{char}]" if char in "*?[" else char)
    return column.op("GLOB", return_type=sa.Boolean)("".join(glob))


def starts_with(column: Any, prefix: str, dialect: str) -> ColumnElement[bool]:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return like(column, escaped + "%", dialect)


def _is_string_column(column: Any) -> bool:
    return isinstance(column.type, sa.String) and not isinstance(
        column.type, UUIDText | JSONDocument
    )


def _byte_order(expression: Any, dialect: str) -> Any:
    # PostgreSQL sorts text by the database's locale; "C" matches SQLite.
    return expression.collate("C") if dialect == "postgresql" else expression


def _negate(clause: ColumnElement[bool]) -> ColumnElement[bool]:
    return sa.not_(sa.func.coalesce(clause, sa.false()))


def _coerce(column: Any, value: Any, field: str) -> Any:
    """``value`` as the column's Python type, or a clear error."""
    kind = column.type
    if value is None:
        return None
    if isinstance(kind, AwareDateTime):
        if isinstance(value, str):
            try:
                value = datetime.datetime.fromisoformat(value)
            except ValueError:
                raise InputValidationError(
                    f"{field}: {value!r} is not an ISO 8601 date and time."
                ) from None
        if isinstance(value, datetime.date) and not isinstance(
            value, datetime.datetime
        ):
            value = datetime.datetime.combine(value, datetime.time())
        if not isinstance(value, datetime.datetime):
            raise InputValidationError(f"{field}: {value!r} is not a date and time.")
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value
    if isinstance(kind, UUIDText):
        try:
            return str(uuid.UUID(str(value)))
        except ValueError:
            raise InputValidationError(f"{field}: {value!r} is not a UUID.") from None
    if isinstance(kind, sa.Integer):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputValidationError(f"{field}: {value!r} is not an integer.")
        return value
    if isinstance(kind, sa.Boolean):
        if not isinstance(value, bool):
            raise InputValidationError(f"{field}: {value!r} is not a boolean.")
        return value
    if isinstance(kind, sa.String):
        if not isinstance(value, str):
            raise InputValidationError(f"{field}: {value!r} is not a string.")
        return value
    raise InputValidationError(f"{field} cannot be compared with {value!r}.")


class QueryBuilder:
    """A query over nodes, groups, users and links; see the module docstring.

    :param alias: the Django database to query.
    """

    def __init__(
        self,
        *,
        alias: str = "default",
        path: list[Any] | None = None,
        filters: dict[str, Any] | None = None,
        project: dict[str, Any] | None = None,
        order_by: Any = None,
        limit: int | None = None,
        offset: int | None = None,
        distinct: bool = False,
    ) -> None:
        self._alias = alias
        self._path: list[Vertex] = []
        self._filters: dict[str, dict[str, Any]] = {}
        self._projections: dict[str, list[Any]] = {}
        self._order: list[dict[str, list[dict[str, dict[str, str]]]]] = []
        self._limit: int | None = None
        self._offset: int | None = None
        self._distinct = False
        for item in path or []:
            if isinstance(item, str):
                item = {"entity": item}
            if not isinstance(item, dict):
                raise InputValidationError(f"A path item is an object, got {item!r}.")
            unknown = set(item) - set(PATH_KEYS)
            if unknown:
                raise InputValidationError(
                    f"Unknown path keys {sorted(unknown)}; allowed: {list(PATH_KEYS)}."
                )
            self.append(
                item.get("entity", "node"),
                **{key: value for key, value in item.items() if key != "entity"},
            )
        for tag, spec in self._checked_mapping(filters, "filters").items():
            self.add_filter(tag, spec)
        for tag, spec in self._checked_mapping(project, "project").items():
            self.add_projection(tag, spec)
        if order_by:
            self.order_by(order_by)
        self.limit(limit)
        self.offset(offset)
        self.distinct(distinct)

    @staticmethod
    def _checked_mapping(value: Any, name: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise InputValidationError(f"'{name}' maps tags to values, got {value!r}.")
        return value

    # -- building -----------------------------------------------------------

    @property
    def _tags(self) -> dict[str, str]:
        """Every tag, vertex or edge, mapped to its kind."""
        tags = {vertex.tag: vertex.kind for vertex in self._path}
        tags.update({v.edge_tag: "link" for v in self._path if v.edge_tag})
        return tags

    def append(
        self,
        entity: str = "node",
        *,
        tag: str | None = None,
        filters: dict[str, Any] | None = None,
        project: Any = None,
        subclassing: bool = True,
        edge_tag: str | None = None,
        edge_filters: dict[str, Any] | None = None,
        edge_project: Any = None,
        with_incoming: str | None = None,
        with_outgoing: str | None = None,
        with_ancestors: str | None = None,
        with_descendants: str | None = None,
        with_group: str | None = None,
        with_node: str | None = None,
        with_user: str | None = None,
    ) -> QueryBuilder:
        """Add an entity to the path, joined to an earlier one by one relation.

        :raises InputValidationError: unknown entity, repeated tag, missing or
            several relations, a relation the entity does not take, or a
            relation to a tag that is not there or of the wrong kind.
        """
        kind, node_type = _resolve_entity(entity)
        if not isinstance(subclassing, bool):
            raise InputValidationError("'subclassing' is true or false.")
        given = {
            name: value
            for name, value in {
                "with_incoming": with_incoming,
                "with_outgoing": with_outgoing,
                "with_ancestors": with_ancestors,
                "with_descendants": with_descendants,
                "with_group": with_group,
                "with_node": with_node,
                "with_user": with_user,
            }.items()
            if value is not None
        }
        tag = tag if tag is not None else self._default_tag(entity)
        if not isinstance(tag, str) or not tag or "--" in tag:
            raise InputValidationError(f"A tag is a string without '--', got {tag!r}.")
        if tag in self._tags:
            raise InputValidationError(f"The tag {tag!r} is already used.")
        vertex = Vertex(tag, entity, kind, node_type, subclassing)
        if self._path and len(given) != 1:
            raise InputValidationError(
                f"{tag!r} needs exactly one relation to an earlier entity "
                f"({', '.join(RELATIONS[kind])}), got {sorted(given) or 'none'}."
            )
        if not self._path and given:
            raise InputValidationError("The first entity of a query has no relation.")
        if given:
            ((relation, target),) = given.items()
            if relation not in RELATIONS[kind]:
                raise InputValidationError(
                    f"A {kind} takes {', '.join(RELATIONS[kind])}, not {relation}."
                )
            target_kind = self._tags.get(target)
            if target_kind is None:
                raise InputValidationError(
                    f"{relation}={target!r} names no earlier tag "
                    f"(known: {sorted(self._tags)})."
                )
            if target_kind not in RELATIONS[kind][relation]:
                raise InputValidationError(
                    f"{relation} of a {kind} names a "
                    f"{' or '.join(RELATIONS[kind][relation])}; {target!r} is a "
                    f"{target_kind}."
                )
            vertex.relation, vertex.target = relation, target
            if (
                relation in {"with_incoming", "with_outgoing"}
                and kind == "node"
                and (target_kind == "node")
            ):
                vertex.edge_tag = edge_tag or f"{target}--{tag}"
                if vertex.edge_tag in self._tags or vertex.edge_tag == tag:
                    raise InputValidationError(
                        f"The tag {vertex.edge_tag!r} is already used."
                    )
        if (edge_tag or edge_filters or edge_project) and not vertex.edge_tag:
            raise InputValidationError(
                "Edge tags, filters and projections need a link between two "
                "nodes (with_incoming or with_outgoing)."
            )
        self._path.append(vertex)
        if filters is not None:
            self.add_filter(tag, filters)
        if project is not None:
            self.add_projection(tag, project)
        if edge_filters is not None:
            self.add_filter(vertex.edge_tag, edge_filters)
        if edge_project is not None:
            self.add_projection(vertex.edge_tag, edge_project)
        return self

    def _default_tag(self, entity: Any) -> str:
        base = str(entity).rstrip(".").rsplit(".", 1)[-1].lower() or "node"
        tag, counter = base, 1
        while tag in self._tags:
            tag, counter = f"{base}_{counter}", counter + 1
        return tag

    def _check_tag(self, tag: Any) -> str:
        if tag not in self._tags:
            raise InputValidationError(
                f"Unknown tag {tag!r} (known: {sorted(self._tags)})."
            )
        return tag

    def tags(self, kind: str | None = None) -> list[str]:
        """The tags of the path's entities (of one kind if given), in order."""
        return [v.tag for v in self._path if kind is None or v.kind == kind]

    @property
    def projects_anything(self) -> bool:
        return any(self._projections.values())

    def add_filter(self, tag: str, filters: dict[str, Any]) -> QueryBuilder:
        """AND ``filters`` with those already on ``tag``.

        Field names and operators are checked when the query runs.
        """
        self._check_tag(tag)
        if not isinstance(filters, dict):
            raise InputValidationError(f"Filters of {tag!r} are an object.")
        existing = self._filters.get(tag)
        self._filters[tag] = (
            copy.deepcopy(filters) if not existing else {"and": [existing, filters]}
        )
        return self

    def add_projection(self, tag: str, projection: Any) -> QueryBuilder:
        """Replace the projections of ``tag`` (a field, ``"*"`` or a list)."""
        self._check_tag(tag)
        items = projection if isinstance(projection, list) else [projection]
        for item in items:
            if not isinstance(item, str) or not item:
                raise InputValidationError(
                    f"A projection is a field name or '*', got {item!r}."
                )
        self._projections[tag] = list(items)
        return self

    def order_by(self, order_by: Any) -> QueryBuilder:
        """Order by fields: ``{tag: [field, {field: "desc"}, ...]}`` or a list of those.

        Replaces any earlier order. NULLs and missing JSON values sort last.
        """
        specs = order_by if isinstance(order_by, list) else [order_by]
        order = []
        for spec in specs:
            if not isinstance(spec, dict):
                raise InputValidationError(
                    f"An order is {{tag: fields}}, got {spec!r}."
                )
            for tag, fields in spec.items():
                self._check_tag(tag)
                order.append({tag: [self._order_item(f) for f in _as_list(fields)]})
        self._order = order
        return self

    @staticmethod
    def _order_item(item: Any) -> dict[str, dict[str, str]]:
        if isinstance(item, str):
            return {item: {"order": "asc"}}
        if isinstance(item, dict) and len(item) == 1:
            ((field, how),) = item.items()
            how = {"order": how} if isinstance(how, str) else how
            if (
                isinstance(field, str)
                and isinstance(how, dict)
                and set(how) <= {"order"}
                and how.get("order", "asc") in {"asc", "desc"}
            ):
                return {field: {"order": how.get("order", "asc")}}
        raise InputValidationError(
            f"An order item is a field or {{field: 'asc'|'desc'}}, got {item!r}."
        )

    def limit(self, limit: int | None) -> QueryBuilder:
        self._limit = _non_negative(limit, "limit")
        return self

    def offset(self, offset: int | None) -> QueryBuilder:
        self._offset = _non_negative(offset, "offset")
        return self

    def distinct(self, value: bool = True) -> QueryBuilder:
        if not isinstance(value, bool):
            raise InputValidationError("'distinct' is true or false.")
        self._distinct = value
        return self

    # -- JSON form ----------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """The query as JSON-compatible data; :meth:`from_dict` rebuilds it."""
        return copy.deepcopy(
            {
                "path": [vertex.as_dict() for vertex in self._path],
                "filters": self._filters,
                "project": self._projections,
                "order_by": self._order,
                "limit": self._limit,
                "offset": self._offset,
                "distinct": self._distinct,
            }
        )

    @classmethod
    def from_dict(cls, data: Any, *, alias: str = "default") -> QueryBuilder:
        """The query described by ``data`` (the form :meth:`as_dict` returns).

        :raises InputValidationError: anything malformed or unknown.
        """
        if not isinstance(data, dict):
            raise InputValidationError("A query is a JSON object.")
        unknown = set(data) - set(QUERY_KEYS)
        if unknown:
            raise InputValidationError(
                f"Unknown query keys {sorted(unknown)}; allowed: {list(QUERY_KEYS)}."
            )
        if not isinstance(data.get("path", []), list) or not data.get("path"):
            raise InputValidationError("'path' is a non-empty list of entities.")
        return cls(alias=alias, **data)

    # -- SQL ----------------------------------------------------------------

    def _statement(self, dialect: str) -> tuple[sa.Select, list[Projection]]:
        if not self._path:
            raise InputValidationError("The query has no entity: append one first.")
        return _Compiler(self, dialect).statement()

    def _dialect(self) -> str:
        return get_engine(self._alias).dialect.name

    def _execute(self, statement: sa.Select) -> sa.Result:
        session = get_scoped_session(self._alias)()
        try:
            return session.execute(statement)
        except sa.exc.DBAPIError as exc:
            session.rollback()
            if connections[self._alias].in_atomic_block:
                transaction.set_rollback(True, using=self._alias)
            if getattr(exc.orig, "pgcode", None) == "57014" or (
                str(exc.orig) == "interrupted"
            ):
                raise QueryTimeout(
                    "The query was cancelled: it ran longer than allowed."
                ) from None
            raise InputValidationError(
                f"The database refused the query ({type(exc.orig).__name__})."
            ) from exc

    @contextlib.contextmanager
    def _executed(self) -> Iterator[tuple[list[Projection], Any]]:
        """The projections and the executed result; the session closes after."""
        statement, projections = self._statement(self._dialect())
        session = get_scoped_session(self._alias)()
        try:
            yield projections, self._execute(statement)
        finally:
            session.close()

    @staticmethod
    def _shape(projections: list[Projection], rows: Any) -> list[list[Any]]:
        if all(projection.columns is None for projection in projections):
            return list(map(list, rows))
        return [[projection.value(row) for projection in projections] for row in rows]

    def all(self, *, flat: bool = False) -> list[Any]:
        """Every row, each a list of the projected values in projection order.

        ``flat=True`` returns one list of all values (one projection: the values).
        """
        with self._executed() as (projections, result):
            if flat and len(projections) == 1 and projections[0].columns is None:
                return result.scalars().all()
            rows = self._shape(projections, result.all())
        return [value for row in rows for value in row] if flat else rows

    def first(self) -> list[Any] | None:
        """The first row (honouring the order), or None."""
        rows = QueryBuilder.from_dict(self.as_dict(), alias=self._alias).limit(1).all()
        return rows[0] if rows else None

    def iterall(self, batch_size: int = 100) -> Iterator[list[Any]]:
        """The rows one at a time, fetched from the cursor ``batch_size`` at a time."""
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, int)
            or (batch_size < 1)
        ):
            raise InputValidationError("'batch_size' is a positive integer.")
        with self._executed() as (projections, result):
            for batch in result.partitions(batch_size):
                yield from self._shape(projections, batch)

    def dict(self) -> list[dict[str, dict[str, Any]]]:
        """Every row as ``{tag: {projection: value}}``."""
        _, projections = self._statement(self._dialect())
        rows = []
        for values in self.all():
            row: dict[str, dict[str, Any]] = {}
            for projection, value in zip(projections, values, strict=True):
                row.setdefault(projection.tag, {})[projection.key] = value
            rows.append(row)
        return rows

    def count(self) -> int:
        """The number of rows :meth:`all` would return (limit and offset included)."""
        statement, _ = self._statement(self._dialect())
        counting = sa.select(sa.func.count()).select_from(
            statement.order_by(None).subquery()
        )
        session = get_scoped_session(self._alias)()
        try:
            return int(self._execute(counting).scalar_one())
        finally:
            session.close()

    def __str__(self) -> str:
        statement, _ = self._statement(self._dialect())
        return str(statement.compile(dialect=get_engine(self._alias).dialect))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _non_negative(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputValidationError(
            f"'{name}' is a non-negative integer, got {value!r}."
        )
    return value


@dataclass
class Projection:
    """One projected item: its tag, its key and where its values sit in a row."""

    tag: str
    key: str
    start: int
    columns: tuple[str, ...] | None = None  # set for "*": the dict's keys

    def value(self, row: Any) -> Any:
        if self.columns is None:
            return row[self.start]
        return dict(
            zip(
                self.columns,
                row[self.start : self.start + len(self.columns)],
                strict=True,
            )
        )


class _Compiler:
    """Turns a :class:`QueryBuilder` into one SELECT for one dialect."""

    def __init__(self, builder: QueryBuilder, dialect: str) -> None:
        self.builder = builder
        self.dialect = dialect
        self.tables = get_tables()
        self.aliases: dict[str, Any] = {}
        self.kinds = builder._tags

    def _table(self, kind: str) -> sa.Table:
        return {
            "node": self.tables.node,
            "group": self.tables.group,
            "user": self.tables.user,
            "link": self.tables.link,
        }[kind]

    def statement(self) -> tuple[sa.Select, list[Projection]]:
        path = self.builder._path
        first = path[0]
        self.aliases[first.tag] = self._table(first.kind).alias()
        source = self.aliases[first.tag]
        where: list[Any] = []
        for vertex in path[1:]:
            source = self._join(source, vertex)
        for vertex in path:
            where.extend(self._vertex_conditions(vertex, self.aliases[vertex.tag]))
        for tag, spec in self.builder._filters.items():
            if self.kinds[tag] == "link" and tag not in {v.tag for v in path}:
                where.append(self.filters(self.aliases[tag], "link", spec))
        columns, projections = self._projections()
        statement = sa.select(*columns).select_from(source).where(*where)
        if self.builder._distinct:
            statement = statement.distinct()
        for spec in self.builder._order:
            for tag, items in spec.items():
                for item in items:
                    ((field, how),) = item.items()
                    statement = statement.order_by(
                        *self._order_expressions(tag, field, how["order"])
                    )
        if self.builder._limit is not None:
            statement = statement.limit(self.builder._limit)
        if self.builder._offset:
            statement = statement.offset(self.builder._offset)
        return statement, projections

    def _vertex_conditions(self, vertex: Vertex, table: Any) -> list[Any]:
        conditions = []
        if vertex.kind == "node" and vertex.node_type:
            prefix, is_prefix = type_prefix(vertex.node_type, vertex.subclassing)
            column = table.c.node_type
            conditions.append(
                starts_with(column, prefix, self.dialect)
                if is_prefix
                else column == prefix
            )
        spec = self.builder._filters.get(vertex.tag)
        if spec:
            conditions.append(self.filters(table, vertex.kind, spec))
        return conditions

    # -- joins

    def _join(self, source: Any, vertex: Vertex) -> Any:
        table = self._table(vertex.kind).alias()
        self.aliases[vertex.tag] = table
        other = self.aliases[vertex.target]
        other_kind = self.kinds[vertex.target]
        relation = vertex.relation
        if (
            vertex.kind == "node"
            and other_kind == "node"
            and relation
            in {
                "with_incoming",
                "with_outgoing",
            }
        ):
            edge = self.tables.link.alias()
            self.aliases[vertex.edge_tag] = edge
            incoming = relation == "with_incoming"
            near, far = (
                (edge.c.input_id, edge.c.output_id)
                if incoming
                else (edge.c.output_id, edge.c.input_id)
            )
            source = source.join(edge, near == other.c.id)
            return source.join(table, table.c.id == far)
        if relation in {"with_ancestors", "with_descendants"}:
            closure = self._closure(vertex.target, down=relation == "with_ancestors")
            source = source.join(closure, closure.c.start_id == other.c.id)
            return source.join(table, table.c.id == closure.c.node_id)
        if vertex.kind == "node" and other_kind == "link":
            end = other.c.output_id if relation == "with_incoming" else other.c.input_id
            return source.join(table, table.c.id == end)
        if vertex.kind == "link":
            end = table.c.input_id if relation == "with_incoming" else table.c.output_id
            return source.join(table, end == other.c.id)
        if {vertex.kind, other_kind} == {"node", "group"}:
            members = self.tables.group_nodes.alias()
            near, far = (
                (members.c.dbgroup_id, members.c.dbnode_id)
                if vertex.kind == "node"
                else (members.c.dbnode_id, members.c.dbgroup_id)
            )
            source = source.join(members, near == other.c.id)
            return source.join(table, table.c.id == far)
        if vertex.kind == "user":
            return source.join(table, other.c.user_id == table.c.id)
        return source.join(table, table.c.user_id == other.c.id)

    def _closure(self, target: str, *, down: bool) -> Any:
        """(start_id, node_id) for every node reachable from the ``target`` matches.

        ``down``: follow provenance forwards (descendants), else backwards.
        """
        vertex = next(v for v in self.builder._path if v.tag == target)
        link, start = self.tables.link, self.tables.node.alias()
        near, far = (
            (link.c.input_id, link.c.output_id)
            if down
            else (link.c.output_id, link.c.input_id)
        )
        provenance = link.c.type.in_(PROVENANCE_LINK_TYPES)
        seed = (
            sa.select(start.c.id.label("start_id"), far.label("node_id"))
            .select_from(start.join(link, near == start.c.id))
            .where(provenance, *self._vertex_conditions(vertex, start))
        )
        closure = seed.cte(recursive=True)
        step_link = link.alias()
        step_near, step_far = (
            (step_link.c.input_id, step_link.c.output_id)
            if down
            else (step_link.c.output_id, step_link.c.input_id)
        )
        step = (
            sa.select(closure.c.start_id, step_far)
            .select_from(closure.join(step_link, step_near == closure.c.node_id))
            .where(step_link.c.type.in_(PROVENANCE_LINK_TYPES))
        )
        return closure.union(step)

    # -- fields

    def _fields(self, kind: str, table: Any) -> tuple[str, ...]:
        return FIELDS.get(kind, tuple(table.c.keys()))

    def _field(self, table: Any, kind: str, field: Any) -> tuple[Any, list[str]]:
        """The column of ``field`` and, for a JSON path, the keys inside it."""
        if not isinstance(field, str) or not field:
            raise InputValidationError(f"A field is a non-empty string, got {field!r}.")
        head, *keys = field.split(".")
        head = "id" if head == "pk" else head
        if head not in self._fields(kind, table):
            raise InputValidationError(
                f"Unknown field {field!r} for a {kind}; fields: "
                f"{', '.join(self._fields(kind, table))}."
            )
        column = table.c[head]
        if keys and not isinstance(column.type, JSONDocument):
            raise InputValidationError(
                f"{field!r}: only JSON fields have dotted paths."
            )
        return column, keys

    def _json(self, column: Any, keys: list[str]) -> JsonPath:
        return JsonPath(column, keys, self.dialect)

    # -- filters

    def filters(self, table: Any, kind: str, spec: Any) -> ColumnElement[bool]:
        if not isinstance(spec, dict):
            raise InputValidationError(f"Filters are an object, got {spec!r}.")
        clauses = []
        for key, condition in spec.items():
            if key in {"and", "or"}:
                parts = [
                    self.filters(table, kind, item) for item in _list_of(condition, key)
                ]
                clauses.append(sa.and_(*parts) if key == "and" else sa.or_(*parts))
            elif key == "~":
                clauses.append(_negate(self.filters(table, kind, condition)))
            else:
                clauses.append(self.condition(table, kind, key, condition))
        return sa.and_(*clauses) if clauses else sa.true()

    def condition(
        self, table: Any, kind: str, field: str, condition: Any
    ) -> ColumnElement[bool]:
        column, keys = self._field(table, kind, field)
        if not isinstance(condition, dict):
            condition = {"==": condition}
        if not condition:
            raise InputValidationError(f"{field!r}: an empty condition.")
        clauses = []
        for operator, value in condition.items():
            if operator in {"and", "or"}:
                parts = [
                    self.condition(table, kind, field, item)
                    for item in _list_of(value, operator)
                ]
                clauses.append(sa.and_(*parts) if operator == "and" else sa.or_(*parts))
                continue
            negated = operator == "!=" or (
                operator[:1] in {"!", "~"} and operator[1:] in OPERATORS
            )
            positive = (
                "=="
                if operator == "!="
                else operator.lstrip("!~")
                if (negated)
                else operator
            )
            if positive not in OPERATORS or positive == "!=":
                raise InputValidationError(
                    f"Unknown operator {operator!r} on {field!r}; operators: "
                    f"{', '.join(OPERATORS)} (prefix '!' or '~' negates)."
                )
            if isinstance(column.type, JSONDocument):
                clause = self._json_condition(
                    self._json(column, keys), field, positive, value
                )
            else:
                clause = self._column_condition(column, field, positive, value)
            clauses.append(_negate(clause) if negated else clause)
        return sa.and_(*clauses)

    def _column_condition(
        self, column: Any, field: str, operator: str, value: Any
    ) -> ColumnElement[bool]:
        if operator in JSON_ONLY_OPERATORS:
            raise InputValidationError(f"{operator!r} applies to JSON fields only.")
        if operator == "in":
            values = [_coerce(column, item, field) for item in _list_of(value, "in")]
            return column.in_(values) if values else sa.false()
        if operator in {"like", "ilike"}:
            if not _is_string_column(column) or not isinstance(value, str):
                raise InputValidationError(
                    f"{operator!r} compares text fields with a string pattern."
                )
            if operator == "like":
                return like(column, value, self.dialect)
            return column.ilike(value, escape="\\")
        value = _coerce(column, value, field)
        if value is None:
            if operator != "==":
                raise InputValidationError(f"{field!r}: {operator!r} with null.")
            return column.is_(None)
        if _is_string_column(column) and operator != "==":
            column = _byte_order(column, self.dialect)
        return COMPARISONS[operator](column, value)

    def _json_condition(
        self, path: JsonPath, field: str, operator: str, value: Any
    ) -> ColumnElement[bool]:
        if operator == "==":
            return path.equals(value)
        if operator == "in":
            items = _list_of(value, "in")
            if not all(is_scalar(item) for item in items):
                raise InputValidationError(f"{field!r}: 'in' takes a list of scalars.")
            return (
                sa.or_(*(path.equals(item) for item in items))
                if items
                else (sa.false())
            )
        if operator in COMPARISONS:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise InputValidationError(
                    f"{field!r}: {operator!r} compares with a number or a string."
                )
            if isinstance(value, str):
                return COMPARISONS[operator](
                    _byte_order(path.string(), self.dialect), value
                )
            return COMPARISONS[operator](path.number(), value)
        if operator in {"like", "ilike"}:
            if not isinstance(value, str):
                raise InputValidationError(f"{field!r}: {operator!r} takes a string.")
            if operator == "like":
                return like(path.string(), value, self.dialect)
            return path.string().ilike(value, escape="\\")
        if operator == "has_key":
            return path.has_key(value)
        if operator == "contains":
            return path.contains(value)
        if operator == "of_type":
            if value not in JSON_TYPES:
                raise InputValidationError(
                    f"{field!r}: 'of_type' is one of {', '.join(JSON_TYPES)}."
                )
            return path.type() == value
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputValidationError(f"{field!r}: {operator!r} takes an integer.")
        compare = {"of_length": "==", "longer": ">", "shorter": "<"}[operator]
        return COMPARISONS[compare](path.length(), value)

    # -- projections and order

    def _projections(self) -> tuple[list[Any], list[Projection]]:
        wanted = {
            tag: items for tag, items in self.builder._projections.items() if items
        }
        if not wanted:
            wanted = {self.builder._path[-1].tag: ["*"]}
        columns: list[Any] = []
        projections: list[Projection] = []
        for tag, items in wanted.items():
            table, kind = self.aliases[tag], self.kinds[tag]
            for item in items:
                start = len(columns)
                if item == "*":
                    names = self._fields(kind, table)
                    columns.extend(table.c[name] for name in names)
                    projections.append(Projection(tag, item, start, tuple(names)))
                    continue
                column, keys = self._field(table, kind, item)
                columns.append(self._json(column, keys).value() if keys else column)
                projections.append(Projection(tag, item, start))
        labelled = [column.label(f"c{i}") for i, column in enumerate(columns)]
        return labelled, projections

    def _order_expressions(self, tag: str, field: str, order: str) -> list[Any]:
        column, keys = self._field(self.aliases[tag], self.kinds[tag], field)
        if keys or isinstance(column.type, JSONDocument):
            path = self._json(column, keys)
            expressions = [path.number(), _byte_order(path.string(), self.dialect)]
        elif _is_string_column(column):
            expressions = [_byte_order(column, self.dialect)]
        else:
            expressions = [column]
        return [
            (expression.desc() if order == "desc" else expression.asc()).nulls_last()
            for expression in expressions
        ]


def _list_of(value: Any, operator: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise InputValidationError(f"{operator!r} takes a list, got {value!r}.")
    return list(value)
