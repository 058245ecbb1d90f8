"""SQL for a :class:`~queries.builder.QueryBuilder`: one SELECT per dialect.

Holds what the query language is made of (entities, relations, fields,
operators) and turns a built query into SQLAlchemy Core: joins for the
relations, a recursive CTE for ancestors and descendants, filters (JSON
paths through :mod:`queries.jsonpath`), projections and order.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from operator import eq, ge, gt, le, lt
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from django.utils import timezone
from sqlalchemy.sql.elements import ColumnElement

from aiidasite.exceptions import InputValidationError
from queries import casefold
from queries.bound import one_of
from queries.jsonpath import JSON_TYPES, JsonPath, is_scalar
from queries.limits import check_integer
from queries.tables import AwareDateTime, JSONDocument, UUIDText, get_tables

if TYPE_CHECKING:
    from queries.builder import QueryBuilder

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

# What the compiler may ask the database while building a statement, as
# (kind, node type prefix): "every" whether every node's type starts with the
# prefix (a bool), "types" the stored types that do, in order (a tuple; None
# when there are more than WALK_TYPES).
Question = tuple[str, str]
# The most types a type walk (Compiler._type_walk) merges.
WALK_TYPES = 8

KINDS = ("node", "group", "user", "link", "computer", "authinfo", "comment", "log")
# relation -> kinds of the entity it may name, per kind of the appended entity
RELATIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "node": {
        "with_incoming": ("node", "link"),
        "with_outgoing": ("node", "link"),
        "with_ancestors": ("node",),
        "with_descendants": ("node",),
        "with_group": ("group",),
        "with_user": ("user",),
        "with_computer": ("computer",),
        "with_comment": ("comment",),
        "with_log": ("log",),
    },
    "group": {"with_node": ("node",), "with_user": ("user",)},
    "user": {
        "with_node": ("node",),
        "with_group": ("group",),
        "with_comment": ("comment",),
    },
    "link": {"with_incoming": ("node",), "with_outgoing": ("node",)},
    "computer": {"with_node": ("node",)},
    "authinfo": {"with_computer": ("computer",), "with_user": ("user",)},
    "comment": {"with_node": ("node",), "with_user": ("user",)},
    "log": {"with_node": ("node",)},
}
# Relations that are one foreign key: (appended kind, relation) -> (column of
# the appended entity, column of the named one); as aiida-core's joiner has them.
KEY_JOINS = {
    ("node", "with_computer"): ("dbcomputer_id", "id"),
    ("computer", "with_node"): ("id", "dbcomputer_id"),
    ("node", "with_comment"): ("id", "dbnode_id"),
    ("comment", "with_node"): ("dbnode_id", "id"),
    ("node", "with_log"): ("id", "dbnode_id"),
    ("log", "with_node"): ("dbnode_id", "id"),
    ("user", "with_comment"): ("id", "user_id"),
    ("comment", "with_user"): ("user_id", "id"),
    ("authinfo", "with_computer"): ("dbcomputer_id", "id"),
    ("authinfo", "with_user"): ("aiidauser_id", "id"),
}
RELATION_NAMES = (
    "with_incoming",
    "with_outgoing",
    "with_ancestors",
    "with_descendants",
    "with_group",
    "with_node",
    "with_user",
    "with_computer",
    "with_comment",
    "with_log",
)
# Fields a query may read; users expose no password or permission flags.
FIELDS = {
    "user": ("id", "username", "email", "first_name", "last_name", "date_joined"),
    "link": ("id", "input_id", "output_id", "label", "type"),
    # Credentials never leave the database through a query.
    "authinfo": ("id", "aiidauser_id", "dbcomputer_id", "enabled", "metadata"),
}
PROVENANCE_LINK_TYPES = ("create", "input_calc")
# Relations joined through a recursive closure of the provenance links.
CLOSURE_RELATIONS = ("with_ancestors", "with_descendants")
COMPARISONS = {"==": eq, ">": gt, ">=": ge, "<": lt, "<=": le}
JSON_ONLY_OPERATORS = (
    "has_key",
    "contains",
    "of_type",
    "of_length",
    "longer",
    "shorter",
)
OPERATORS = (*COMPARISONS, "!=", "in", "like", "ilike", *JSON_ONLY_OPERATORS)


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
    outerjoin: bool = False

    def as_dict(self) -> dict[str, Any]:
        item: dict[str, Any] = {"entity": self.entity, "tag": self.tag}
        if self.kind == "node" and self.node_type:
            item["subclassing"] = self.subclassing
        if self.relation:
            item[self.relation] = self.target
        if self.edge_tag:
            item["edge_tag"] = self.edge_tag
        if self.outerjoin:
            item["outerjoin"] = True
        return item


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


def ilike(column: Any, pattern: str, dialect: str) -> ColumnElement[bool]:
    """Case-insensitive ``LIKE`` on both databases, for every letter that
    has a lower case (SQLite's own folds ASCII only: see
    :mod:`queries.casefold`)."""
    if dialect != "sqlite":
        return column.ilike(pattern, escape="\\")
    return like(getattr(sa.func, casefold.LOWER)(column), pattern.lower(), dialect)


def starts_with(column: Any, prefix: str, dialect: str) -> ColumnElement[bool]:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return like(column, escaped + "%", dialect)


# Built once per prefix: SQLAlchemy constructs are immutable, and building
# this one costs more than the two index lookups it asks for.
@functools.lru_cache(maxsize=256)
def every_node_starts_with(prefix: str, dialect: str) -> ColumnElement[bool]:
    """True when every node's type starts with ``prefix``: the types that do
    sort together, so the smallest and largest type settle it."""
    node = get_tables().node
    ends = [
        starts_with(
            sa.select(edge(node.c.node_type)).scalar_subquery(), prefix, dialect
        )
        for edge in (sa.func.min, sa.func.max)
    ]
    return sa.and_(*ends)


def prefix_range(prefix: str) -> tuple[str, str]:
    """``(low, high)``: the strings starting with ``prefix`` are those from
    ``low`` up to, not including, ``high`` (byte order, which is code point
    order in UTF-8). ``prefix`` is not empty."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


@functools.lru_cache(maxsize=256)
def stored_node_types(prefix: str) -> Any:
    """The statement listing the node types stored under ``prefix``, in
    order, at most ``WALK_TYPES + 1`` of them: one seek of the type index per
    type (a loose index scan), however many nodes each has. Bounds are
    explicit: given a ``LIKE`` too, SQLite ranges over the prefix's rows."""
    table = get_tables().node.name
    low, high = prefix_range(prefix)
    return (
        sa.text(
            f"""
            WITH RECURSIVE stored(node_type) AS (
                SELECT (SELECT node_type FROM {table}
                        WHERE node_type >= :low AND node_type < :high
                        ORDER BY node_type LIMIT 1)
                UNION ALL
                SELECT (SELECT node.node_type FROM {table} AS node
                        WHERE node.node_type > stored.node_type
                        AND node.node_type < :high
                        ORDER BY node.node_type LIMIT 1)
                FROM stored WHERE stored.node_type IS NOT NULL
            )
            SELECT node_type FROM stored WHERE node_type IS NOT NULL LIMIT :most
            """
        )
        .bindparams(low=low, high=high, most=WALK_TYPES + 1)
        .columns(node_type=sa.String)
    )


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
        try:
            value.astimezone(datetime.UTC)  # what the database compares
        except OverflowError:
            raise InputValidationError(
                f"{field}: {value.isoformat()} is outside the years 1 to 9999 in UTC."
            ) from None
        return value
    if isinstance(kind, UUIDText):
        try:
            return str(uuid.UUID(str(value)))
        except ValueError:
            raise InputValidationError(f"{field}: {value!r} is not a UUID.") from None
    if isinstance(kind, sa.Integer):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputValidationError(f"{field}: {value!r} is not an integer.")
        return check_integer(value, field)
    if isinstance(kind, sa.Boolean):
        if not isinstance(value, bool):
            raise InputValidationError(f"{field}: {value!r} is not a boolean.")
        return value
    if isinstance(kind, sa.String):
        if not isinstance(value, str):
            raise InputValidationError(f"{field}: {value!r} is not a string.")
        return value
    raise InputValidationError(f"{field} cannot be compared with {value!r}.")


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


class Compiler:
    """Turns a :class:`~queries.builder.QueryBuilder` into one dialect's SELECT."""

    def __init__(
        self,
        builder: QueryBuilder,
        dialect: str,
        ask: Callable[[Question], Any] | None = None,
    ) -> None:
        self.builder = builder
        self.dialect = dialect
        self.tables = get_tables()
        self.aliases: dict[str, Any] = {}
        self.kinds = builder._tags
        # Asks the database a question about the node types (see Question).
        self.ask = ask
        self.probes: list[Any] = []
        # The first entity's types in a branch of a type walk (see
        # _type_walk): ``(type,)`` or ``(lower, upper, lower_included)``;
        # None: the type filter as written.
        self.walk: tuple[Any, ...] | None = None

    def _table(self, kind: str) -> sa.Table:
        return getattr(self.tables, kind)

    def statement(self) -> tuple[sa.Select, list[Projection]]:
        walked = self._type_walk()
        if walked is not None:
            return walked
        return self._statement()

    def _type_walk(self) -> tuple[sa.Select, list[Projection]] | None:
        """On SQLite, a limited query ordered by the id of its first entity,
        a node type and its subtypes, when a few types are stored under it:
        the rows of each type in id order, merged.

        SQLite finds a prefix's rows through the type index, which holds
        them in type order, and sorts every match to return the first few in
        id order (8.5 ms a page at 10,000 matches). The index holds the rows
        of one type in id order, so matching each stored type by equality
        walks it in order, and merging the walks stops at the limit. Types
        stored after the question was asked fall in the ranges between the
        known ones, each a branch of its own: empty, they cost one index
        seek, so the statement stays exact whatever was written since.
        PostgreSQL walks its primary key for such queries itself.

        Not through ancestors or descendants: each branch would build the
        whole closure of the prefix's nodes again before its first row (13
        branches took 110 ms where one sort took 8 ms at 2,000 nodes).
        """
        path, order = self.builder._path, self.builder._order
        first = path[0]
        if (
            self.dialect != "sqlite"
            or self.ask is None
            or self.builder._limit is None
            or self.builder._distinct
            or any(vertex.relation in CLOSURE_RELATIONS for vertex in path)
            or first.kind != "node"
            or not first.node_type
            or not order
            or list(order[0]) != [first.tag]
            or list(order[0][first.tag][0]) != ["id"]
        ):
            return None
        prefix, is_prefix = type_prefix(first.node_type, first.subclassing)
        if not is_prefix or not prefix or self._prefix_covers_every_node(prefix):
            return None
        types = self.ask(("types", prefix))
        if not types:
            return None
        low, high = prefix_range(prefix)
        bounds = [low, *types, high]
        # Each range between two bounds, the prefix's own low end included.
        walks = [(node_type,) for node_type in types] + [
            (lower, upper, index == 0)
            for index, (lower, upper) in enumerate(itertools.pairwise(bounds))
        ]
        branches = []
        for walk in walks:
            compiler = Compiler(self.builder, self.dialect, self.ask)
            compiler.walk = walk
            select, projections, columns = compiler._select()
            # What the merge sorts by is selected, as a compound's ORDER BY
            # must name its columns: the first id, then any further keys.
            keys = compiler._order()
            branches.append(
                select.add_columns(
                    *(key.label(f"walk{i}") for i, (key, _) in enumerate(keys))
                )
            )
        descending = [desc for _, desc in keys]

        def sorted_by(column: Callable[[str], Any]) -> list[Any]:
            return [
                (
                    column(f"walk{i}").desc() if desc else column(f"walk{i}").asc()
                ).nulls_last()
                for i, desc in enumerate(descending)
            ]

        merged = (
            sa.union_all(*branches)
            .order_by(*sorted_by(sa.literal_column))
            .limit(self.builder._limit)
        )
        if self.builder._offset:
            merged = merged.offset(self.builder._offset)
        rows = merged.subquery("walked")
        statement = sa.select(*(rows.c[column.name] for column in columns)).order_by(
            *sorted_by(lambda name: rows.c[name])
        )
        return statement, projections

    def _order(self) -> list[tuple[Any, bool]]:
        """The query's order: ``(expression, descending)`` pairs, in turn."""
        return [
            (expression, how["order"] == "desc")
            for spec in self.builder._order
            for tag, items in spec.items()
            for item in items
            for field, how in item.items()
            for expression in self._order_expressions(tag, field, how.get("cast"))
        ]

    def _select(self) -> tuple[sa.Select, list[Projection], list[Any]]:
        """The SELECT of the path, its filters and projections, without
        order, limit or offset; its projections and its labelled columns."""
        path = self.builder._path
        first = path[0]
        self.aliases[first.tag] = self._table(first.kind).alias()
        source = self.aliases[first.tag]
        where: list[Any] = []
        for vertex in path[1:]:
            joined = self._join(source, vertex)
            source = self._outer(source, joined, vertex) if vertex.outerjoin else joined
        for vertex in path:
            if not vertex.outerjoin:
                where.extend(
                    self._vertex_conditions(vertex, self.aliases[vertex.tag], top=True)
                )
        outer_edges = {v.edge_tag for v in path if v.outerjoin}
        for tag, spec in self.builder._filters.items():
            if (
                self.kinds[tag] == "link"
                and tag not in {v.tag for v in path}
                and tag not in outer_edges
            ):
                where.append(self.filters(self.aliases[tag], "link", spec))
        columns, projections = self._projections()
        for probe in self.probes:
            source = sa.join(probe, source, sa.true())
        return (
            sa.select(*columns).select_from(source).where(*where),
            projections,
            columns,
        )

    def _statement(self) -> tuple[sa.Select, list[Projection]]:
        statement, projections, columns = self._select()
        order = self._order()
        if self.builder._distinct and order:
            # DISTINCT rows cannot be ordered by what they do not show
            # (PostgreSQL refuses, SQLite picks any duplicate's value). The
            # same rows come from grouping by every projected column; a group
            # sorts by its first member in the order asked (the least value
            # ascending, the greatest descending).
            statement = statement.group_by(
                *(
                    sa.literal_column(str(position + 1))
                    for position in range(len(columns))
                )
            )
            order = [
                ((sa.func.max if desc else sa.func.min)(expression), desc)
                for expression, desc in order
            ]
        elif self.builder._distinct:
            statement = statement.distinct()
        statement = statement.order_by(
            *(
                (expression.desc() if desc else expression.asc()).nulls_last()
                for expression, desc in order
            )
        )
        if self.builder._limit is not None:
            statement = statement.limit(self.builder._limit)
        if self.builder._offset:
            statement = statement.offset(self.builder._offset)
        return statement, projections

    def _vertex_conditions(
        self, vertex: Vertex, table: Any, *, top: bool = False
    ) -> list[Any]:
        conditions = []
        if vertex.kind == "node" and vertex.node_type:
            prefix, is_prefix = type_prefix(vertex.node_type, vertex.subclassing)
            column = table.c.node_type
            if top and self.walk and vertex is self.builder._path[0]:
                conditions.extend(self._walk_conditions(column))
            elif not is_prefix:
                conditions.append(column == prefix)
            elif top and self._prefix_covers_every_node(prefix):
                # After the filters: SQLite tests conditions in the order
                # written, and this one rarely rejects a row.
                spec = self.builder._filters.get(vertex.tag)
                if spec:
                    conditions.append(self.filters(table, vertex.kind, spec))
                conditions.append(
                    sa.or_(
                        self._every_node_probe(prefix),
                        starts_with(column, prefix, self.dialect),
                    )
                )
                return conditions
            else:
                conditions.append(starts_with(column, prefix, self.dialect))
        spec = self.builder._filters.get(vertex.tag)
        if spec:
            conditions.append(self.filters(table, vertex.kind, spec))
        return conditions

    def _prefix_covers_every_node(self, prefix: str) -> bool:
        return (
            self.dialect == "sqlite"
            and self.ask is not None
            and self.ask(("every", prefix))
        )

    def _walk_conditions(self, column: Any) -> list[Any]:
        """The first entity's type in a branch of :meth:`_type_walk`: one
        type, or the types between two bounds (the lower one included only
        where it is the prefix itself)."""
        if len(self.walk) == 1:
            return [column == self.walk[0]]
        lower, upper, inclusive = self.walk
        return [column >= lower if inclusive else column > lower, column < upper]

    def _every_node_probe(self, prefix: str) -> Any:
        """A column true when every node's type starts with ``prefix``.

        When a type filter keeps every node, SQLite still tests each row's
        type, or walks the type index and fetches each row from the table:
        both cost more than the JSON filters that follow. The answer comes
        from one row, computed once from the two ends of the type index and
        joined in, so a row's own type is read only when some node falls
        outside. The statement stays exact whatever was written since the
        caller asked its question.
        """
        every = every_node_starts_with(prefix, self.dialect)
        probe = sa.select(every.label("every")).subquery()
        self.probes.append(probe)
        return probe.c.every

    # -- joins

    def _join(self, source: Any, vertex: Vertex) -> Any:
        table = self._table(vertex.kind).alias()
        self.aliases[vertex.tag] = table
        other = self.aliases[vertex.target]
        other_kind = self.kinds[vertex.target]
        relation = vertex.relation
        if (vertex.kind, relation) in KEY_JOINS:
            near, far = KEY_JOINS[vertex.kind, relation]
            return source.join(table, table.c[near] == other.c[far])
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

    def _outer(self, source: Any, joined: Any, vertex: Vertex) -> Any:
        """``joined`` (``source`` joined to ``vertex``) as an outer join.

        The tables :meth:`_join` added after ``source`` are joined among
        themselves first, and the whole is left-joined to ``source``; the
        vertex's own conditions (type, filters, edge filters) go into that
        join's ON clause, so they choose its matches and never drop a row of
        the entities before it (which then gets NULLs).
        """
        pieces = []
        step = joined
        while step is not source:
            pieces.append((step.right, step.onclause))
            step = step.left
        (first, onclause), *rest = reversed(pieces)
        inner = first
        for right, clause in rest:
            inner = inner.join(right, clause)
        conditions = self._vertex_conditions(vertex, self.aliases[vertex.tag])
        edge_spec = self.builder._filters.get(vertex.edge_tag or "")
        if edge_spec:
            conditions.append(
                self.filters(self.aliases[vertex.edge_tag], "link", edge_spec)
            )
        return source.outerjoin(inner, sa.and_(onclause, *conditions))

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
                clauses.append(_combine(key, parts))
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
                clauses.append(_combine(operator, parts))
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
            # As in SQL, null is equal to nothing, so it matches no row.
            values = [item for item in values if item is not None]
            return one_of(column, values, self.dialect)
        if operator in {"like", "ilike"}:
            if not _is_string_column(column) or not isinstance(value, str):
                raise InputValidationError(
                    f"{operator!r} compares text fields with a string pattern."
                )
            if operator == "like":
                return like(column, value, self.dialect)
            return ilike(column, value, self.dialect)
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
            return path.one_of(items)
        if operator in COMPARISONS:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise InputValidationError(
                    f"{field!r}: {operator!r} compares with a number or a string."
                )
            if isinstance(value, str):
                return COMPARISONS[operator](
                    _byte_order(path.string(), self.dialect), value
                )
            return path.compare_number(COMPARISONS[operator], value)
        if operator in {"like", "ilike"}:
            if not isinstance(value, str):
                raise InputValidationError(f"{field!r}: {operator!r} takes a string.")
            if operator == "like":
                return like(path.string(), value, self.dialect)
            return ilike(path.string(), value, self.dialect)
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

    def _order_expressions(self, tag: str, field: str, cast: str | None) -> list[Any]:
        """What ``field`` sorts by: a JSON value sorts numbers first (as
        numbers), then strings (byte-wise); AiiDA's ``cast`` ``f``/``i`` keeps
        the numbers only, ``t``/``d`` the strings only."""
        column, keys = self._field(self.aliases[tag], self.kinds[tag], field)
        if keys or isinstance(column.type, JSONDocument):
            path = self._json(column, keys)
            number, string = path.number(), _byte_order(path.string(), self.dialect)
            return {"f": [number], "i": [number], "t": [string], "d": [string]}.get(
                cast or "", [number, string]
            )
        if isinstance(column.type, UUIDText) and self.dialect == "postgresql":
            # As text (the same order): PostgreSQL has no min() of a uuid.
            return [_byte_order(sa.cast(column, sa.Text), self.dialect)]
        if _is_string_column(column):
            return [_byte_order(column, self.dialect)]
        return [column]


def _combine(operator: str, parts: list[Any]) -> ColumnElement[bool]:
    """``and`` / ``or`` of ``parts``: an empty ``and`` is true, an empty
    ``or`` false, so a filter and its negation always split the rows."""
    if operator == "and":
        return sa.and_(sa.true(), *parts)
    return sa.or_(sa.false(), *parts)


def _list_of(value: Any, operator: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise InputValidationError(f"{operator!r} takes a list, got {value!r}.")
    return list(value)
