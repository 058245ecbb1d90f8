"""Lists of values longer than SQLite's oldest limit on bound parameters.

SQLite builds before 3.32 take at most 999 parameters per statement. Each
test lowers the limit to that on its SQLite connection (PostgreSQL has no
such limit and runs the same tests unchanged). The whole suite runs under
the same limit with ``--sqlite-max-variables=999``.
"""

from __future__ import annotations

import sqlite3

import pytest
from django.db import connection

from archives.services import archive_export, archive_import
from nodes import services
from nodes.services import NodeSpec
from queries.builder import QueryBuilder
from queries.graph import closest_parents
from tests.queries.conftest import INT

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def old_sqlite_limit():
    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    before = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    yield
    raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, before)


def store(count: int, user, **spec) -> list[int]:
    nodes = [NodeSpec(node_type=INT, label=f"n{i}", **spec) for i in range(count)]
    return services.nodes_store_bulk(user=user, nodes=nodes)


def test_an_in_list_of_1500_ids_and_uuids(user):
    pks = store(1500, user)
    qb = QueryBuilder().append(INT, filters={"id": {"in": pks}}, project="uuid")
    assert qb.count() == 1500
    uuids = qb.all(flat=True)
    again = QueryBuilder().append(INT, filters={"uuid": {"in": uuids}})
    assert again.count() == 1500
    assert QueryBuilder().append(INT, filters={"id": {"!in": pks[1:]}}).count() == 1


def test_closest_parents_of_1500_nodes(user):
    (parent,) = services.nodes_store_bulk(
        user=user,
        nodes=[NodeSpec(node_type="process.calculation.calcjob.CalcJobNode.")],
    )
    specs = [NodeSpec(node_type=INT) for _ in range(1500)]
    children = services.nodes_store_bulk(
        user=user,
        nodes=specs,
        links=[(parent, spec, f"out{i}", "create") for i, spec in enumerate(specs)],
    )
    found = closest_parents(pks=children)
    assert set(found.values()) == {parent}
    assert len(found) == 1500


def test_importing_6000_nodes_twice(user, tmp_path, configured_repository):
    store(6000, user)
    target = tmp_path / "many.aiida"
    archive_export(str(target), everything=True)
    # Every uuid is looked up among the nodes already here.
    summary = archive_import(str(target))
    assert summary.nodes_existing == 6000
    assert QueryBuilder().append(INT).count() == 6000
