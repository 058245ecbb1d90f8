"""A small factory that writes nodes, links and groups through the Django ORM."""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from sqlalchemy import event

from nodes.models import DbGroup, DbLink, DbNode
from queries.session import get_engine

INT = "data.core.int.Int."
FLOAT = "data.core.float.Float."
STR = "data.core.str.Str."
DICT = "data.core.dict.Dict."
STRUCTURE = "data.core.structure.StructureData."
BANDS = "data.core.array.bands.BandsData."
ARRAY = "data.core.array.ArrayData."
CALCJOB = "process.calculation.calcjob.CalcJobNode."
WORKCHAIN = "process.workflow.workchain.WorkChainNode."


@contextlib.contextmanager
def recorded_statements() -> Iterator[list[str]]:
    """The SQL statements SQLAlchemy's engine sends while the block runs."""
    executed: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        executed.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield executed
    finally:
        event.remove(engine, "before_cursor_execute", record)


class GraphFactory:
    """Writes real rows; every helper returns what it stored."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.clock = timezone.now().replace(microsecond=0) - datetime.timedelta(days=30)

    def node(self, node_type: str = INT, **fields: Any) -> DbNode:
        self.clock += datetime.timedelta(seconds=1)
        fields.setdefault("ctime", self.clock)
        fields.setdefault("user", self.user)
        return DbNode.objects.create(node_type=node_type, **fields)

    def link(self, source: DbNode, target: DbNode, type: str, label: str) -> DbLink:
        return DbLink.objects.create(
            input=source, output=target, type=type, label=label
        )

    def structure(self, symbols: list[str], **fields: Any) -> DbNode:
        kinds = [
            {"name": s, "symbols": [s], "weights": [1.0], "mass": 1.0}
            for s in sorted(set(symbols))
        ]
        sites = [
            {"kind_name": s, "position": [0.0, 0.0, float(i)]}
            for i, s in enumerate(symbols)
        ]
        attributes = {
            "cell": [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
            "kinds": kinds,
            "sites": sites,
            "pbc1": True,
            "pbc2": True,
            "pbc3": True,
        }
        return self.node(STRUCTURE, attributes=attributes, **fields)

    def group(self, label: str, nodes: list[DbNode] = ()) -> DbGroup:
        group = DbGroup.objects.create(label=label, user=self.user)
        group.dbnodes.add(*nodes)
        return group


@pytest.fixture
def graph(user) -> GraphFactory:
    return GraphFactory(user)
