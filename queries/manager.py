"""QueryManager: the canned queries AiiDA's ``QueryManager`` offers.

Each method is a few aggregate or recursive statements over one database
alias; none loops over nodes with a query each.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from tqdm import tqdm

from aiidasite.exceptions import InputValidationError, NotExistent
from aiidasite.identifiers import pk_from_text
from aiidasite.times import past_days_start
from queries.builder import QueryBuilder
from queries.graph import (
    BANDS_TYPE,
    STRUCTURE_TYPE,
    closest_parents,
    structure_formulas,
)
from queries.statistics import creation_statistics

__all__ = ["QueryManager"]


class QueryManager:
    """Statistics, time and group filters and graph walks on the database ``alias``."""

    def __init__(self, alias: str = "default") -> None:
        self.alias = alias

    def get_creation_statistics(self, user_pk: int | None = None) -> dict[str, Any]:
        """``{"total", "types", "ctime_by_day"}`` of all nodes or one user's.

        See :func:`queries.statistics.creation_statistics`.
        """
        return creation_statistics(alias=self.alias, user_pk=user_pk)

    @staticmethod
    def _node_tag(query: QueryBuilder, tag: str | None) -> str:
        nodes = query.tags("node")
        if tag is None:
            if not nodes:
                raise InputValidationError("The query has no node to filter.")
            return nodes[0]
        if tag not in nodes:
            raise InputValidationError(f"{tag!r} is not a node of the query.")
        return tag

    def query_past_days(
        self, query: QueryBuilder, past_days: int, *, tag: str | None = None
    ) -> QueryBuilder:
        """Keep nodes created in the last ``past_days`` days (of ``tag``, default
        the first node of the query). Returns ``query``.

        :raises InputValidationError: ``past_days`` not an integer from 1 to
            ``aiidasite.times.MAX_PAST_DAYS``.
        """
        since = past_days_start(past_days)
        return query.add_filter(self._node_tag(query, tag), {"ctime": {">=": since}})

    def resolve_groups(self, groups: Iterable[int | str]) -> list[int]:
        """Group pks for labels or pks (a label wins over a pk spelled the same).

        :raises NotExistent: a group that does not exist.
        """
        wanted = list(groups)
        labels = [g for g in wanted if isinstance(g, str)]
        pks = [g for g in wanted if isinstance(g, int) and not isinstance(g, bool)]
        if len(labels) + len(pks) != len(wanted):
            raise InputValidationError("Groups are given by label or pk.")
        digits = [pk for pk in map(pk_from_text, labels) if pk is not None]
        # No label holds NUL, and PostgreSQL refuses to even compare one.
        searched = [label for label in labels if "\x00" not in label]
        rows = (
            QueryBuilder(alias=self.alias)
            .append(
                "group",
                filters={
                    "or": [{"label": {"in": searched}}, {"id": {"in": pks + digits}}]
                },
                project=["id", "label"],
            )
            .all()
        )
        by_label = {label: pk for pk, label in rows}
        by_pk = {pk for pk, _ in rows}
        resolved, missing = [], []
        for group in wanted:
            if isinstance(group, str) and group in by_label:
                resolved.append(by_label[group])
            elif isinstance(group, str) and pk_from_text(group) in by_pk:
                resolved.append(pk_from_text(group))
            elif isinstance(group, int) and group in by_pk:
                resolved.append(group)
            else:
                missing.append(str(group))
        if missing:
            raise NotExistent(f"no group {', '.join(map(repr, missing))}")
        return resolved

    def query_group(
        self,
        query: QueryBuilder,
        groups: Iterable[int | str],
        *,
        tag: str | None = None,
    ) -> QueryBuilder:
        """Keep nodes (of ``tag``, default the first node) in any of ``groups``.

        Returns ``query``, made distinct; if nothing was projected, the node
        is, so the result does not change shape.

        :raises NotExistent: a group that does not exist.
        """
        tag = self._node_tag(query, tag)
        pks = self.resolve_groups(groups)
        if not query.projects_anything:
            query.add_projection(tag, "*")
        query.append(
            "group", tag=f"{tag}_group", with_node=tag, filters={"id": {"in": pks}}
        )
        return query.distinct()

    def get_bands_and_parents_structure(
        self,
        *,
        past_days: int | None = None,
        groups: Iterable[int | str] | None = None,
        user_pk: int | None = None,
    ) -> list[dict[str, Any]]:
        """Every BandsData with the formula of its nearest StructureData ancestor.

        Rows ``{"id", "uuid", "label", "ctime", "formula"}``, newest first;
        ``formula`` is None without a structure ancestor. ``user_pk`` None
        means every user's bands.

        :raises NotExistent: a group that does not exist.
        """
        query = QueryBuilder(alias=self.alias).append(
            BANDS_TYPE, tag="bands", project=["id", "uuid", "label", "ctime"]
        )
        if user_pk is not None:
            query.add_filter("bands", {"user_id": user_pk})
        if past_days is not None:
            self.query_past_days(query, past_days)
        if groups:
            self.query_group(query, groups)
        query.order_by({"bands": [{"ctime": "desc"}, {"id": "desc"}]})
        bands = query.all()
        parents = closest_parents(
            pks=[row[0] for row in bands], node_type=STRUCTURE_TYPE, alias=self.alias
        )
        formulas = structure_formulas(
            pks=[pk for pk in parents.values() if pk is not None], alias=self.alias
        )
        return [
            {
                "id": pk,
                "uuid": uuid,
                "label": label,
                "ctime": ctime,
                "formula": formulas.get(parents[pk]) if parents[pk] else None,
            }
            for pk, uuid, label, ctime in bands
        ]

    def get_closest_parents(
        self,
        pks: Iterable[int],
        node_type: str | None = None,
        chunk_size: int = 5000,
        print_progress: bool = False,
    ) -> dict[int, int | None]:
        """Each pk mapped to its nearest ancestor of ``node_type`` (or None).

        See :func:`queries.graph.closest_parents`; ``print_progress`` shows a
        progress bar on stderr.
        """
        wanted = list(pks)
        if not print_progress:
            return closest_parents(
                pks=wanted, node_type=node_type, alias=self.alias, chunk_size=chunk_size
            )
        with tqdm(total=len(wanted), file=sys.stderr, unit="node") as bar:
            return closest_parents(
                pks=wanted,
                node_type=node_type,
                alias=self.alias,
                chunk_size=chunk_size,
                progress=bar.update,
            )
