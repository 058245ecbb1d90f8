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

**Entities.** ``"node"``, ``"group"``, ``"user"``, ``"link"``,
``"computer"``, ``"authinfo"`` (no ``auth_params``), ``"comment"``,
``"log"``; a node type
string (``"data.core.structure.StructureData."``) or its class name
(``"StructureData"``). A node type matches its subtypes (``"ArrayData"``
matches ``BandsData``) unless ``subclassing`` is false; a string ending in a
lowercase segment (``"data.core."``) is a plain prefix.

**Relations** (one per entity after the first, naming an earlier tag):
nodes take ``with_incoming`` (the other node, or link, points to this one),
``with_outgoing``, ``with_ancestors``, ``with_descendants`` (over ``create``
and ``input_calc`` links, AiiDA's data provenance), ``with_group`` and
``with_user``, ``with_computer``, ``with_comment`` and ``with_log``; groups
take ``with_node`` and ``with_user``; users take ``with_node``,
``with_group`` and ``with_comment``; computers take ``with_node``; auth
infos take ``with_computer`` and ``with_user``; comments take ``with_node``
and ``with_user``; logs take ``with_node``; links take ``with_incoming``
(the link's input node) and ``with_outgoing`` (its output node). Between two nodes the
link is an edge tagged ``"<other>--<tag>"`` (or ``edge_tag``) that takes
filters and projections of its own (``id``, ``label``, ``type``,
``input_id``, ``output_id``). ``outerjoin: true`` keeps the rows of the
entities before one that has no match (its projections are then null); its
filters, type and edge filters choose its matches, they drop no row.
(aiida-core writes them into the WHERE clause, which drops the unmatched
rows again.)

**Filters** map a field to a value (equality) or to ``{operator: value}``:
``==``, ``!=``, ``>``, ``>=``, ``<``, ``<=``, ``in``, ``like``, ``ilike``
(``%`` and ``_`` wildcards, ``\\`` escapes; ``like`` is case sensitive on
both databases). A leading ``!`` or ``~`` negates an operator (``!in``,
``~like``, aiida-core's ``!==``); a negated condition also holds where the
field is NULL or missing. ``{"and": [...]}`` / ``{"or": [...]}`` combine
conditions, at the top level or on one field, and ``{"~": {...}}`` negates
filters; an empty ``and`` is true and an empty ``or`` false, so a filter and
its negation always split the rows. A dotted field (``attributes.a.b``,
``extras.x``) is a JSON path; an all-digit key is an array index
(``attributes.mesh.0``), see :mod:`queries.jsonpath`. JSON paths also take
``has_key``, ``contains`` (list or object), ``of_type`` (``object``,
``array``, ``string``, ``number``, ``boolean``, ``null``), ``of_length``,
``longer`` and ``shorter`` (arrays). JSON comparisons are typed: ``1``
matches numbers only, ``"1"`` strings only; strings compare byte-wise,
numbers exactly (integers up to 64 bits; larger ones are refused); ``==``
with a list or an object (``{"==": {...}}``) is JSON equality.

**Projections** are column names, JSON paths or ``"*"`` (every column, as a
dict). With no projection at all, the last entity is projected with ``"*"``.
Results: :meth:`all` (rows as lists), :meth:`dict` and :meth:`iterdict` (rows
as ``{tag: {projection: value}}``, keys renamed by ``project_map``),
:meth:`first`, :meth:`one`, :meth:`iterall`, :meth:`count`. With ``distinct``
and an order, a row sorts by the first of its duplicates in that order.

**aiida-core's form.** :meth:`from_dict` also takes what aiida-core's
``QueryBuilder.as_dict()`` writes: path items with ``entity_type``,
``orm_base``, ``joining_keyword``, ``joining_value``, ``edge_tag`` and
``outerjoin``, projections as ``{field: {}}``, orders with a
``cast``. What has no counterpart here is refused by name.

Every value reaches the database as a bound parameter (on SQLite the JSON
path of a field is quoted into the SQL, so it is parsed once per statement;
a list of values is one parameter, see :mod:`queries.bound`). A query's
size is bounded (:mod:`queries.limits`). Unknown entities, fields,
operators or value types raise
:class:`~aiidasite.exceptions.InputValidationError`. The SQL itself is built
by :mod:`queries.compiler`.
"""

from __future__ import annotations

import contextlib
import copy
import functools
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from django.db import connections, transaction

from aiidasite.exceptions import (
    InputValidationError,
    MultipleObjectsError,
    NotExistent,
    QueryTimeout,
)
from queries import driver, statements
from queries.compiler import (
    KINDS,
    NODE_TYPE_BY_CLASS,
    RELATION_NAMES,
    RELATIONS,
    WALK_TYPES,
    Compiler,
    Projection,
    Question,
    Vertex,
    every_node_starts_with,
    stored_node_types,
)
from queries.limits import (
    MAX_CONDITIONS,
    MAX_PATH,
    MAX_VALUES,
    check_filters,
    check_integer,
)
from queries.session import get_engine

__all__ = ["QueryBuilder"]

QUERY_KEYS = (
    "path",
    "filters",
    "project",
    "project_map",
    "order_by",
    "limit",
    "offset",
    "distinct",
)
PATH_KEYS = ("entity", "tag", "subclassing", "edge_tag", "outerjoin", *RELATION_NAMES)
# The path items aiida-core's QueryBuilder.as_dict() writes.
AIIDA_PATH_KEYS = (
    "entity_type",
    "orm_base",
    "tag",
    "joining_keyword",
    "joining_value",
    "edge_tag",
    "outerjoin",
)
# aiida-core's casts in an order: float, integer, text, date, boolean, JSON.
ORDER_CASTS = ("f", "i", "t", "d", "b", "j")


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
        project_map: dict[str, dict[str, str]] | None = None,
        order_by: Any = None,
        limit: int | None = None,
        offset: int | None = None,
        distinct: bool = False,
    ) -> None:
        self._alias = alias
        self._path: list[Vertex] = []
        self._filters: dict[str, dict[str, Any]] = {}
        self._values = 0
        self._conditions = 0
        self._projections: dict[str, list[Any]] = {}
        self._project_map: dict[str, dict[str, str]] = {}
        self._order: list[dict[str, list[dict[str, dict[str, str]]]]] = []
        self._limit: int | None = None
        self._offset: int | None = None
        self._distinct = False
        if path is not None and not isinstance(path, list):
            raise InputValidationError("'path' is a list of entities.")
        filters = dict(self._checked_mapping(filters, "filters"))
        project = dict(self._checked_mapping(project, "project"))
        for item in path or []:
            if isinstance(item, str):
                item = {"entity": item}
            if not isinstance(item, dict):
                raise InputValidationError(f"A path item is an object, got {item!r}.")
            if "orm_base" in item or "entity_type" in item:
                item = _from_aiida_item(item, filters, project)
            unknown = set(item) - set(PATH_KEYS)
            if unknown:
                raise InputValidationError(
                    f"Unknown path keys {sorted(unknown)}; allowed: {list(PATH_KEYS)}."
                )
            if "entity" not in item:
                # Defaulting to every node would answer a typo with the table.
                raise InputValidationError(
                    f"A path item names its entity ('entity', or aiida-core's "
                    f"'orm_base' and 'entity_type'), got {item!r}."
                )
            self.append(
                item["entity"],
                **{key: value for key, value in item.items() if key != "entity"},
            )
        for tag, spec in filters.items():
            self.add_filter(tag, spec)
        for tag, spec in project.items():
            self.add_projection(tag, spec)
        for tag, names in self._checked_mapping(project_map, "project_map").items():
            self._check_tag(tag)
            if not isinstance(names, dict) or not all(
                isinstance(name, str) for name in names.values()
            ):
                raise InputValidationError(
                    f"'project_map' of {tag!r} maps projections to new names."
                )
            self._project_map[tag] = dict(names)
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
        outerjoin: bool = False,
        with_computer: str | None = None,
        with_comment: str | None = None,
        with_log: str | None = None,
    ) -> QueryBuilder:
        """Add an entity to the path, joined to an earlier one by one relation.

        :raises InputValidationError: unknown entity, repeated tag, missing or
            several relations, a relation the entity does not take, or a
            relation to a tag that is not there or of the wrong kind.
        """
        if len(self._path) >= MAX_PATH:
            raise InputValidationError(f"A query joins at most {MAX_PATH} entities.")
        kind, node_type = _resolve_entity(entity)
        if not isinstance(subclassing, bool):
            raise InputValidationError("'subclassing' is true or false.")
        if not isinstance(outerjoin, bool):
            raise InputValidationError("'outerjoin' is true or false.")
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
                "with_computer": with_computer,
                "with_comment": with_comment,
                "with_log": with_log,
            }.items()
            if value is not None
        }
        tag = tag if tag is not None else self._default_tag(entity)
        if not isinstance(tag, str) or not tag or "--" in tag:
            raise InputValidationError(f"A tag is a string without '--', got {tag!r}.")
        if tag in self._tags:
            raise InputValidationError(f"The tag {tag!r} is already used.")
        vertex = Vertex(tag, entity, kind, node_type, subclassing, outerjoin=outerjoin)
        if outerjoin and not self._path:
            raise InputValidationError("The first entity of a query has no outer join.")
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
        # Checked before copying: a copy of a deep value would recurse.
        values, conditions = check_filters(filters, repr(tag))
        self._values += values
        self._conditions += conditions
        if self._values > MAX_VALUES or self._conditions > MAX_CONDITIONS:
            raise InputValidationError(
                f"The filters hold more than {MAX_VALUES} values or "
                f"{MAX_CONDITIONS} conditions (lists and objects): split the query."
            )
        filters = copy.deepcopy(filters)
        existing = self._filters.get(tag)
        if not existing:
            self._filters[tag] = filters
        elif set(existing) == {"and"}:
            self._filters[tag] = {"and": [*existing["and"], filters]}
        else:
            self._filters[tag] = {"and": [existing, filters]}
        return self

    def add_projection(self, tag: str, projection: Any) -> QueryBuilder:
        """Replace the projections of ``tag`` (a field, ``"*"`` or a list)."""
        self._check_tag(tag)
        items = projection if isinstance(projection, list) else [projection]
        self._projections[tag] = [_projection_field(item) for item in items]
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

    def order_by_ids(self) -> QueryBuilder:
        """Order by every entity's id in path order, each link's after its
        node's: rows sharing the first entity (a node and each of its
        outputs) then also come in one order, so offset pages never
        overlap. Replaces any earlier order."""
        order = []
        for vertex in self._path:
            order.append({vertex.tag: ["id"]})
            if vertex.edge_tag:
                order.append({vertex.edge_tag: ["id"]})
        return self.order_by(order)

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
                and set(how) <= {"order", "cast"}
                and how.get("order", "asc") in {"asc", "desc"}
                and how.get("cast") in (None, *ORDER_CASTS)
            ):
                order = {"order": how.get("order", "asc")}
                if how.get("cast"):
                    order["cast"] = how["cast"]
                return {field: order}
        raise InputValidationError(
            f"An order item is a field or {{field: 'asc'|'desc'}} or {{field: "
            f"{{'order': 'asc'|'desc', 'cast': one of {list(ORDER_CASTS)}}}}}, "
            f"got {item!r}."
        )

    def limit(self, limit: int | None) -> QueryBuilder:
        self._limit = _non_negative(limit, "limit")
        return self

    def offset(self, offset: int | None) -> QueryBuilder:
        self._offset = _non_negative(offset, "offset")
        return self

    def window(self, offset: int, limit: int) -> QueryBuilder:
        """This query's rows from ``offset`` on, ``limit`` of them, as a new
        query (this one is unchanged). The two share their path, filters
        and projections: change neither but by :meth:`limit`, :meth:`offset`
        and :meth:`window`, which replace values rather than edit them."""
        return copy.copy(self).offset(offset).limit(limit)

    def distinct(self, value: bool = True) -> QueryBuilder:
        if not isinstance(value, bool):
            raise InputValidationError("'distinct' is true or false.")
        self._distinct = value
        return self

    # -- JSON form ----------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """The query as JSON-compatible data; :meth:`from_dict` rebuilds it."""
        return copy.deepcopy(self._parts())

    def _parts(self) -> dict[str, Any]:
        """:meth:`as_dict`, sharing this query's own lists and dicts."""
        return {
            "path": [vertex.as_dict() for vertex in self._path],
            "filters": self._filters,
            "project": self._projections,
            "project_map": self._project_map,
            "order_by": self._order,
            "limit": self._limit,
            "offset": self._offset,
            "distinct": self._distinct,
        }

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

    def _statement(
        self, dialect: str, *, ask: bool = True
    ) -> tuple[sa.Select, list[Projection], driver.Sent]:
        """The SELECT, its projections and what running it sent the driver
        (kept with the statement). ``ask=False``: build without asking the
        database anything, and keep nothing."""
        if not self._path:
            raise InputValidationError("The query has no entity: append one first.")
        if not ask:
            return (*Compiler(self, dialect).statement(), driver.Sent())

        def ask(question: Question) -> Any:
            return _answer(self._alias, question, dialect)

        key = statements.query_key(self._parts(), alias=self._alias, dialect=dialect)
        return statements.built(
            key,
            ask,
            lambda ask: (*Compiler(self, dialect, ask).statement(), driver.Sent()),
        )

    def _dialect(self) -> str:
        return get_engine(self._alias).dialect.name

    def _refused(self, error: BaseException) -> Exception:
        """The error to raise for the driver's ``error`` running a query."""
        if connections[self._alias].in_atomic_block:
            transaction.set_rollback(True, using=self._alias)
        if getattr(error, "pgcode", None) == "57014" or str(error) == "interrupted":
            return QueryTimeout("The query was cancelled: it ran longer than allowed.")
        return InputValidationError(_refusal(error))

    @contextlib.contextmanager
    def _executed(self) -> Iterator[tuple[list[Projection], Any]]:
        """The projections and the rows, read from the driver's cursor."""
        engine = get_engine(self._alias)
        statement, projections, sent = self._statement(engine.dialect.name)
        with _running(self, engine, statement, sent) as cursor:
            yield projections, _DriverRows(cursor, statement, engine.dialect, sent)

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
                return [row[0] for row in result.all()]
            rows = self._shape(projections, result.all())
        return [value for row in rows for value in row] if flat else rows

    def first(self) -> list[Any] | None:
        """The first row (honouring the order), or None."""
        rows = QueryBuilder.from_dict(self.as_dict(), alias=self._alias).limit(1).all()
        return rows[0] if rows else None

    def iterall(self, batch_size: int = 100) -> Iterator[list[Any]]:
        """The rows one at a time, fetched from the cursor ``batch_size`` at a time."""
        _positive(batch_size, "batch_size")
        with self._executed() as (projections, result):
            for batch in result.partitions(batch_size):
                yield from self._shape(projections, batch)

    def one(self) -> list[Any]:
        """The only row.

        :raises NotExistent: no row.
        :raises MultipleObjectsError: more than one row.
        """
        rows = QueryBuilder.from_dict(self.as_dict(), alias=self._alias).limit(2).all()
        if not rows:
            raise NotExistent("The query found no row, where one was expected.")
        if len(rows) > 1:
            raise MultipleObjectsError(
                "The query found more than one row, where one was expected."
            )
        return rows[0]

    def _as_dicts(
        self, projections: list[Projection], rows: list[list[Any]]
    ) -> list[dict[str, dict[str, Any]]]:
        keys = [self._project_map.get(p.tag, {}).get(p.key, p.key) for p in projections]
        shaped = []
        for values in rows:
            row: dict[str, dict[str, Any]] = {}
            for projection, key, value in zip(projections, keys, values, strict=True):
                row.setdefault(projection.tag, {})[key] = value
            shaped.append(row)
        return shaped

    def dict(self) -> list[dict[str, dict[str, Any]]]:
        """Every row as ``{tag: {projection: value}}`` (keys renamed by
        ``project_map``)."""
        with self._executed() as (projections, result):
            rows = result.all()
        if all(projection.columns is None for projection in projections):
            return self._plain_dicts(projections, rows)
        return self._as_dicts(projections, self._shape(projections, rows))

    def _plain_dicts(
        self, projections: list[Projection], rows: list[Any]
    ) -> list[dict[str, dict[str, Any]]]:
        """:meth:`_as_dicts` of rows whose projections are one column each,
        read from the rows as they are: the same tags and keys, in the same
        order (a key projected twice holds its last value)."""
        fields: dict[str, list[tuple[str, int]]] = {}
        for projection in projections:
            key = self._project_map.get(projection.tag, {}).get(
                projection.key, projection.key
            )
            fields.setdefault(projection.tag, []).append((key, projection.start))
        plan = list(fields.items())
        return [
            {tag: {key: row[index] for key, index in where} for tag, where in plan}
            for row in rows
        ]

    def iterdict(self, batch_size: int = 100) -> Iterator[dict[str, dict[str, Any]]]:
        """The rows of :meth:`dict` one at a time, ``batch_size`` per fetch."""
        _positive(batch_size, "batch_size")
        with self._executed() as (projections, result):
            for batch in result.partitions(batch_size):
                yield from self._as_dicts(projections, self._shape(projections, batch))

    def count(self) -> int:
        """The number of rows :meth:`all` would return (limit and offset included)."""
        engine = get_engine(self._alias)
        statement, _, _ = self._statement(engine.dialect.name)
        counting = sa.select(sa.func.count()).select_from(
            statement.order_by(None).subquery()
        )
        with _running(self, engine, counting, driver.Sent()) as cursor:
            return int(cursor.fetchone()[0])

    def __str__(self) -> str:
        statement, _, _ = self._statement(self._dialect(), ask=False)
        return str(statement.compile(dialect=get_engine(self._alias).dialect))


@contextlib.contextmanager
def _running(
    query: QueryBuilder, engine: Any, statement: sa.Executable, sent: driver.Sent
) -> Iterator[Any]:
    """:func:`queries.driver.running`, the database's refusals of the
    statement as the project's errors."""
    with contextlib.ExitStack() as stack:
        try:
            cursor = stack.enter_context(
                driver.running(query._alias, engine, statement, sent)
            )
        except RecursionError:
            # The bounds of queries.limits keep queries well below this.
            raise InputValidationError(
                "The query nests too deeply to compile: flatten its conditions."
            ) from None
        except sa.exc.DBAPIError as exc:
            raise query._refused(exc.orig) from exc
        except engine.dialect.loaded_dbapi.Error as exc:
            raise query._refused(exc) from exc
        yield cursor


def _refusal(error: BaseException) -> str:
    """What to change when the database refuses a statement the builder made."""
    text = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    if "stack overflow" in text or "too large" in text or "too deep" in text:
        return (
            "The query is too large for the database: use fewer nested 'and', "
            f"'or', '~' and 'contains' levels or fewer values ({text})."
        )
    return (
        f"The database refused the query ({type(error).__name__}: {text}); "
        "check the fields, operators and values of its filters and order."
    )


class _DriverRows:
    """The few result methods the builder uses, read from the DBAPI cursor
    and converted as SQLAlchemy would (:func:`queries.driver.processed`)."""

    def __init__(
        self, cursor: Any, statement: sa.Select, dialect: Any, sent: driver.Sent
    ) -> None:
        self._cursor = cursor
        self._convert = functools.partial(
            driver.processed, statement, dialect, cursor, sent
        )

    def all(self) -> list[Any]:
        return self._convert(self._cursor.fetchall())

    def partitions(self, size: int) -> Iterator[list[Any]]:
        while batch := self._cursor.fetchmany(size):
            yield self._convert(batch)


@functools.lru_cache(maxsize=256)
def _question(alias: str, question: Question, dialect: str) -> tuple[Any, driver.Sent]:
    """The statement answering ``question`` (see :data:`Question`), kept so
    that asking again skips building and SQLAlchemy's pipeline."""
    kind, prefix = question
    if kind == "types":
        return stored_node_types(prefix), driver.Sent()
    return sa.select(every_node_starts_with(prefix, dialect)), driver.Sent()


def _answer(alias: str, question: Question, dialect: str) -> Any:
    """The database's answer to ``question`` (index seeks only)."""
    statement, sent = _question(alias, question, dialect)
    rows = driver.fetched(alias, get_engine(alias), statement, sent)
    if question[0] == "every":
        return bool(rows[0][0])
    return tuple(row[0] for row in rows) if len(rows) <= WALK_TYPES else None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _positive(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputValidationError(f"'{name}' is a positive integer.")


def _non_negative(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputValidationError(
            f"'{name}' is a non-negative integer, got {value!r}."
        )
    return check_integer(value, f"'{name}'")


def _projection_field(item: Any) -> str:
    """A projection's field, from a name or aiida-core's ``{field: {}}``."""
    if isinstance(item, dict) and len(item) == 1:
        ((field, options),) = item.items()
        if options:
            named = sorted(options) if isinstance(options, dict) else options
            raise InputValidationError(
                f"Projection options {named!r} of {field!r} are not supported: "
                "project the field itself."
            )
        item = field
    if not isinstance(item, str) or not item:
        raise InputValidationError(
            f"A projection is a field name or '*', got {item!r}."
        )
    return item


def _from_aiida_item(
    item: dict[str, Any], filters: dict[str, Any], project: dict[str, Any]
) -> dict[str, Any]:
    """A path item of aiida-core's ``QueryBuilder.as_dict()`` in this module's form.

    aiida-core writes the entity's type filter (``node_type`` ``like``
    ``data.core.int.%``, ``type_string`` ``like`` ``%``) into ``filters``
    itself; it stays there and holds as written. aiida-core gives every
    joined entity an edge tag; only links between two nodes have an edge
    here, so another relation's edge tag must carry no filter or projection
    (both are dropped from ``filters`` and ``project`` when empty).

    :raises InputValidationError: unknown keys, an ``entity_type`` that is
        neither a string nor a list of strings, an ``orm_base`` without an
        entity here, or filters on an edge that does not exist.
    """
    unknown = set(item) - set(AIIDA_PATH_KEYS)
    if unknown:
        raise InputValidationError(
            f"Unknown path keys {sorted(unknown)}; aiida-core's are "
            f"{list(AIIDA_PATH_KEYS)}."
        )
    base, entity_type = item.get("orm_base"), item.get("entity_type")
    if not (
        isinstance(entity_type, str)
        or (
            isinstance(entity_type, list)
            and entity_type
            and all(isinstance(name, str) for name in entity_type)
        )
    ):
        # aiida-core writes a type string ("" for any node) or a list of them.
        raise InputValidationError(
            f"The path item {item!r} needs entity_type: a type string or a "
            f"list of them."
        )
    if base == "node":
        # A list of types (several classes appended at once) is an "or" of
        # type filters, which aiida-core wrote into the filters.
        entity = entity_type if isinstance(entity_type, str) and entity_type else base
    elif base in KINDS and base != "link":
        entity = base
    else:
        raise InputValidationError(
            f"orm_base {base!r} is not supported; supported: node, group, user."
        )
    ours: dict[str, Any] = {"entity": entity, "tag": item.get("tag")}
    if item.get("outerjoin"):
        ours["outerjoin"] = item["outerjoin"]
    keyword = item.get("joining_keyword")
    if keyword:
        ours[keyword] = item.get("joining_value")
    edge = item.get("edge_tag")
    if edge and keyword:
        if base == "node" and keyword in {"with_incoming", "with_outgoing"}:
            ours["edge_tag"] = edge
        elif filters.get(edge) or project.get(edge):
            raise InputValidationError(
                f"Filters and projections of the edge {edge!r} are not supported: "
                f"only links between two nodes (with_incoming, with_outgoing) "
                f"have edges."
            )
        else:
            filters.pop(edge, None)
            project.pop(edge, None)
    return ours
