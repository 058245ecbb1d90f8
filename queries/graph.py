"""Walks up the provenance graph: nearest typed ancestors and band structures.

Ancestry is one recursive query per chunk of nodes, never a query per node.
It follows incoming links of every type, so a ``BandsData`` reaches the
``StructureData`` given to the calculation that created it, or to the
workflow that called that calculation. "Nearest" is fewest hops; ties go to
the newest ancestor (latest ``ctime``, then highest pk).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa

from aiidasite.exceptions import InputValidationError, NotExistent
from aiidasite.identifiers import MAX_PK
from queries.bound import one_of
from queries.builder import QueryBuilder
from queries.compiler import NODE_TYPE_BY_CLASS, starts_with, type_prefix
from queries.session import get_engine, get_scoped_session
from queries.tables import get_tables

__all__ = ["closest_parents", "hill_formula", "structure_formulas"]

STRUCTURE_TYPE = "data.core.structure.StructureData."
BANDS_TYPE = "data.core.array.bands.BandsData."
# Provenance graphs are acyclic; the cap only stops a corrupt cyclic one.
MAX_DEPTH = 1000


def _type_matcher(node_type: str | None, dialect: str) -> Callable[[Any], Any]:
    if node_type is None:
        return lambda table: sa.true()
    node_type = NODE_TYPE_BY_CLASS.get(node_type, node_type)
    if not isinstance(node_type, str) or not node_type.endswith("."):
        raise InputValidationError(
            "A node type is a dotted string ending in '.' or a class name "
            f"such as StructureData, got {node_type!r}."
        )
    prefix, is_prefix = type_prefix(node_type)
    if is_prefix:
        return lambda table: starts_with(table.c.node_type, prefix, dialect)
    return lambda table: table.c.node_type == prefix


def _nearest_statement(
    seeds: list[int], matches: Callable[[Any], Any], dialect: str
) -> sa.Select:
    """(start_id, ancestor_id) of the nearest matching ancestor of each seed.

    Each row of the walk carries whether its node matches and its ctime, so
    the ranking at the end reads the walk alone.
    """
    tables = get_tables()
    node, link = tables.node, tables.link
    start = node.alias()
    ancestry = sa.select(
        start.c.id.label("start_id"),
        start.c.id.label("node_id"),
        sa.literal(0).label("depth"),
        sa.false().label("matched"),
        start.c.ctime.label("ctime"),
    ).where(one_of(start.c.id, seeds, dialect))
    ancestry = ancestry.cte("ancestry", recursive=True)
    parent = node.alias()
    # A matching node ends its branch: whatever lies beyond it is farther.
    step = (
        sa.select(
            ancestry.c.start_id,
            parent.c.id,
            ancestry.c.depth + 1,
            matches(parent),
            parent.c.ctime,
        )
        .select_from(
            ancestry.join(link, link.c.output_id == ancestry.c.node_id).join(
                parent, parent.c.id == link.c.input_id
            )
        )
        .where(ancestry.c.depth < MAX_DEPTH, sa.not_(ancestry.c.matched))
    )
    ancestry = ancestry.union(step)
    ranked = (
        sa.select(
            ancestry.c.start_id,
            ancestry.c.node_id.label("parent_id"),
            sa.func.row_number()
            .over(
                partition_by=ancestry.c.start_id,
                order_by=(
                    ancestry.c.depth,
                    ancestry.c.ctime.desc(),
                    ancestry.c.node_id.desc(),
                ),
            )
            .label("rank"),
        )
        .where(ancestry.c.matched)
        .subquery()
    )
    return sa.select(ranked.c.start_id, ranked.c.parent_id).where(ranked.c.rank == 1)


def _checked_pks(pks: Iterable[Any]) -> list[int]:
    checked = []
    for pk in pks:
        if isinstance(pk, bool) or not isinstance(pk, int):
            raise InputValidationError(f"A pk is an integer, got {pk!r}.")
        if not 0 < pk < MAX_PK:
            # No row can have it, and SQLite's driver refuses to send it.
            raise NotExistent(f"no node with pk {pk}")
        checked.append(pk)
    return list(dict.fromkeys(checked))


def closest_parents(
    *,
    pks: Iterable[int],
    node_type: str | None = None,
    alias: str = "default",
    chunk_size: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> dict[int, int | None]:
    """Each pk mapped to the pk of its nearest ancestor of ``node_type`` (or None).

    ``node_type`` matches subtypes; None means any ancestor (the newest
    direct parent). Nodes that share ancestors each get their own answer.
    ``progress`` is called with the number of pks done after each chunk.

    :raises InputValidationError: a pk that is not an integer, a bad type or
        chunk size.
    :raises NotExistent: a pk with no node.
    """
    wanted = _checked_pks(pks)
    if (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, int)
        or (chunk_size < 1)
    ):
        raise InputValidationError("'chunk_size' is a positive integer.")
    dialect = get_engine(alias).dialect.name
    matches = _type_matcher(node_type, dialect)
    node = get_tables().node
    found: dict[int, int | None] = {}
    session = get_scoped_session(alias)()
    try:
        for begin in range(0, len(wanted), chunk_size):
            chunk = wanted[begin : begin + chunk_size]
            statement = _nearest_statement(chunk, matches, dialect)
            nearest = dict(session.execute(statement).all())
            # Only a pk with no answer can be one with no node.
            unanswered = [pk for pk in chunk if pk not in nearest]
            if unanswered:
                present = set(
                    session.execute(
                        sa.select(node.c.id).where(
                            one_of(node.c.id, unanswered, dialect)
                        )
                    ).scalars()
                )
                missing = [pk for pk in unanswered if pk not in present]
                if missing:
                    raise NotExistent(f"no node with pk {', '.join(map(str, missing))}")
            found.update({pk: nearest.get(pk) for pk in chunk})
            if progress is not None:
                progress(len(chunk))
    finally:
        session.close()
    return found


def hill_formula(attributes: dict[str, Any]) -> str | None:
    """The Hill formula of a StructureData's sites (``C2H6O``, ``GaAs``, ``Si2``).

    Carbon first, then hydrogen, then the rest alphabetically; without carbon
    all alphabetically. Each symbol of a site's kind counts once. None when
    the attributes hold no sites.
    """
    kinds = {
        kind.get("name"): kind.get("symbols") or []
        for kind in attributes.get("kinds") or []
        if isinstance(kind, dict)
    }
    counts: Counter[str] = Counter()
    for site in attributes.get("sites") or []:
        if isinstance(site, dict):
            counts.update(kinds.get(site.get("kind_name"), []))
    if not counts:
        return None
    order = sorted(counts)
    if "C" in counts:
        order = (
            ["C"]
            + (["H"] if "H" in counts else [])
            + [s for s in order if s not in {"C", "H"}]
        )
    return "".join(f"{s}{counts[s] if counts[s] > 1 else ''}" for s in order)


def structure_formulas(
    *, pks: Iterable[int], alias: str = "default"
) -> dict[int, str | None]:
    """The Hill formula of each structure pk, in one query."""
    wanted = _checked_pks(pks)
    if not wanted:
        return {}
    qb = QueryBuilder(alias=alias).append(
        "node",
        filters={"id": {"in": wanted}},
        project=["id", "attributes.kinds", "attributes.sites"],
    )
    return {
        pk: hill_formula({"kinds": kinds, "sites": sites})
        for pk, kinds, sites in qb.all()
    }
