"""Storing nodes and links in bulk, and deleting with the traversal rules.

Each reference is the same rows written or removed with raw SQL (and, for
deletion, the same objects removed from disk-objectstore directly) in the
same run.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from bench.registry import Stopwatch, Timing, settle, workload


def _user():
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench")
    return user


def attributes(i: int) -> dict:
    return {
        "value": i,
        "energy": -155.3 + i * 1e-3,
        "units": "eV",
        "converged": i % 3 != 0,
        "kinds": ["Si", "Ga"],
        "mesh": [4, 4, 4],
        "label": f"item {i}",
        "iteration": i % 17,
        "cell": [[0.0, 2.7, 2.7], [2.7, 0.0, 2.7], [2.7, 2.7, 0.0]],
        "parser": "quantumespresso.pw",
    }


def _raw_insert_nodes(cursor, user_id: int, count: int, node_type: str) -> None:
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    if connection.vendor == "sqlite":
        now = now.isoformat()
    cursor.executemany(
        "INSERT INTO db_dbnode (uuid, node_type, process_type, label, description,"
        " ctime, mtime, user_id, attributes, extras, repository_metadata)"
        " VALUES (%s, %s, NULL, '', '', %s, %s, %s, %s, '{}', '{}')",
        [
            (
                uuid.uuid4().hex
                if connection.vendor == "sqlite"
                else str(uuid.uuid4()),
                node_type,
                now,
                now,
                user_id,
                json.dumps(attributes(i)),
            )
            for i in range(count)
        ],
    )


@workload("nodes.store_bulk", small=10_000, medium=50_000, large=200_000)
def store_bulk(n: int, workdir: Path) -> Timing:
    """Store n nodes with 10 attributes each, validated, in bulk."""
    from django.db import connection, transaction

    from nodes import services, types
    from nodes.services import NodeSpec

    user = _user()
    specs = [NodeSpec(types.DICT, attributes=attributes(i)) for i in range(n)]
    ours, reference = Stopwatch(), Stopwatch()
    with ours():
        services.nodes_store_bulk(user=user, nodes=specs)
    with reference(), transaction.atomic(), connection.cursor() as cursor:
        _raw_insert_nodes(cursor, user.pk, n, types.DICT)
    return Timing(ours.seconds, reference.seconds, reference="raw SQL", unit="nodes")


def _calculation_graph(user, calculations: int) -> list[tuple[int, int, str, str]]:
    """Stored unlinked nodes for ``calculations`` calculations with two inputs
    and one output each; the links to add."""
    from nodes import types
    from nodes.models import DbNode

    rows = []
    for _ in range(calculations):
        rows += [
            DbNode(node_type=types.STRUCTURE, user=user),
            DbNode(node_type=types.DICT, user=user),
            DbNode(node_type=types.CALCJOB, user=user),
            DbNode(node_type=types.BANDS, user=user),
        ]
    DbNode.objects.bulk_create(rows, batch_size=1000)
    links = []
    for start in range(0, len(rows), 4):
        structure, parameters, calc, bands = (row.pk for row in rows[start : start + 4])
        links += [
            (structure, calc, "structure", "input_calc"),
            (parameters, calc, "parameters", "input_calc"),
            (calc, bands, "output_band", "create"),
        ]
    return links


@workload("nodes.links_bulk", small=3_000, medium=30_000, large=150_000)
def links_bulk(n: int, workdir: Path) -> Timing:
    """Add n links (calculations with 2 inputs, 1 output), rule-checked."""
    from django.db import connection, transaction

    from nodes import services

    user = _user()
    ours_links = _calculation_graph(user, n // 3)
    reference_links = _calculation_graph(user, n // 3)
    ours, reference = Stopwatch(), Stopwatch()
    with ours():
        services.links_add_bulk(links=ours_links)
    with reference(), transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO db_dblink (input_id, output_id, label, type)"
            " VALUES (%s, %s, %s, %s)",
            reference_links,
        )
    return Timing(ours.seconds, reference.seconds, reference="raw SQL", unit="links")


def _chains(
    user, count: int, depth: int, files: bool = True
) -> tuple[list[int], list[int], list[str]]:
    """``count`` chains data -> calc -> data ... of ``depth`` nodes, each node
    with a file of its own (unless ``files`` is off); the heads, every pk and
    every object key."""
    from nodes import services, types
    from nodes.models import DbNode
    from nodes.services import NodeSpec
    from repository import iter_keys

    specs, links, heads = [], [], []
    for chain in range(count):
        previous = None
        for step in range(depth):
            kind = types.CALCFUNCTION if step % 2 else types.INT
            content = f"chain {chain} step {step} {uuid.uuid4()}".encode()
            node = NodeSpec(kind, files={"out.txt": content} if files else {})
            specs.append(node)
            if previous is None:
                heads.append(node)
            else:
                link = ("x", "input_calc") if step % 2 else ("result", "create")
                links.append((previous, node, *link))
            previous = node
    pks = services.nodes_store_bulk(user=user, nodes=specs, links=links)
    pk_of = {id(spec): pk for spec, pk in zip(specs, pks, strict=True)}
    metadata = DbNode.objects.filter(pk__in=pks).values_list(
        "repository_metadata", flat=True
    )
    keys = [key for tree in metadata.iterator() for key in iter_keys(tree)]
    return [pk_of[id(h)] for h in heads], pks, keys


def _raw_delete(pks: list[int]) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as wrapper:
        cursor = wrapper.cursor  # the driver's: no DEBUG query log
        for start in range(0, len(pks), 5000):
            chunk = pks[start : start + 5000]
            marks = ", ".join(["%s"] * len(chunk))
            for sql in (
                f"DELETE FROM db_dbnode_object WHERE node_id IN ({marks})",
                f"DELETE FROM db_dbgroup_dbnodes WHERE dbnode_id IN ({marks})",
                f"DELETE FROM db_dblink WHERE input_id IN ({marks})",
                f"DELETE FROM db_dblink WHERE output_id IN ({marks})",
                f"DELETE FROM db_dbnode WHERE id IN ({marks})",
            ):
                cursor.execute(sql, chunk)


def _delete_chains(n: int, files: bool) -> Timing:
    from nodes import services
    from repository import get_backend

    user = _user()
    depth = 10
    heads, _, ours_keys = _chains(user, n // depth, depth, files)
    _, reference_pks, reference_keys = _chains(user, n // depth, depth, files)
    settle()
    backend = get_backend()
    ours, reference = Stopwatch(), Stopwatch()
    with ours():
        deleted = services.delete_nodes(heads, dry_run=False)
    assert len(deleted) == n, (len(deleted), n)
    assert not any(backend.has_objects(ours_keys)), "objects left behind"
    with reference():
        _raw_delete(reference_pks)
        if reference_keys:
            with backend.exclusive() as container:
                container.delete_objects(reference_keys)
    name = "raw SQL + disk-objectstore" if files else "raw SQL"
    return Timing(ours.seconds, reference.seconds, reference=name, unit="nodes")


@workload("nodes.delete_chains", small=10_000, medium=50_000, large=200_000)
def delete_chains(n: int, workdir: Path) -> Timing:
    """Delete n nodes: chains of depth 10 from their heads, a file per node."""
    return _delete_chains(n, files=True)


@workload("nodes.delete_chains_nofiles", small=10_000, medium=50_000, large=200_000)
def delete_chains_nofiles(n: int, workdir: Path) -> Timing:
    """Delete n nodes: chains of depth 10 from their heads, no files (as AiiDA)."""
    return _delete_chains(n, files=False)
