"""Deleting nodes with AiiDA's traversal rules."""

from __future__ import annotations

import pytest
from django.utils import timezone

from aiidasite.exceptions import NotExistent
from nodes import services, types
from nodes.models import DbGroup, DbLink, DbNode
from nodes.services import NodeSpec

pytestmark = pytest.mark.django_db


@pytest.fixture
def graph(make_node):
    """A workchain W calls C1 on d0; C1 creates d1, which W returns; C2 turns d1
    into d2."""
    d0 = make_node(types.INT)
    w = make_node(types.WORKCHAIN, inputs=[(d0, "x", "input_work")])
    c1 = make_node(
        types.CALCJOB, inputs=[(d0, "x", "input_calc"), (w, "call", "call_calc")]
    )
    d1 = make_node(types.INT, inputs=[(c1, "result", "create")])
    services.link_add(source=w.pk, target=d1.pk, label="result", link_type="return")
    c2 = make_node(types.CALCFUNCTION, inputs=[(d1, "x", "input_calc")])
    d2 = make_node(types.INT, inputs=[(c2, "result", "create")])
    return {"d0": d0, "w": w, "c1": c1, "d1": d1, "c2": c2, "d2": d2}


def pks(graph, *names):
    return {graph[name].pk for name in names}


@pytest.mark.parametrize(
    ("start", "options", "expected"),
    [
        ("d0", {}, ("d0", "w", "c1", "d1", "c2", "d2")),
        ("d2", {}, ("d2", "c2")),
        ("d1", {}, ("d1", "c1", "w", "c2", "d2")),
        ("w", {}, ("w", "c1", "d1", "c2", "d2")),
        ("w", {"call_calc_forward": False}, ("w",)),
        ("c1", {"create_forward": False}, ("c1", "w")),
        ("c1", {}, ("c1", "w", "d1", "c2", "d2")),
        ("c2", {"create_forward": False}, ("c2",)),
    ],
)
def test_deletion_follows_the_rules(graph, start, options, expected):
    found = services.delete_nodes([graph[start].pk], dry_run=True, **options)
    assert found == pks(graph, *expected)


def test_dry_run_deletes_nothing(graph):
    services.delete_nodes([graph["d0"].pk])
    assert DbNode.objects.count() == 6


def test_deletion_removes_nodes_links_and_memberships(graph, user):
    group = services.group_create(user=user, label="g")
    services.group_add_nodes(group=group, pks=pks(graph, "d0", "d2"))
    deleted = services.delete_nodes([graph["d2"].pk], dry_run=False)
    assert deleted == pks(graph, "c2", "d2")
    remaining = set(DbNode.objects.values_list("pk", flat=True))
    assert remaining == pks(graph, "d0", "w", "c1", "d1")
    assert not DbLink.objects.filter(input_id__in=deleted).exists()
    assert not DbLink.objects.filter(output_id__in=deleted).exists()
    assert set(DbGroup.objects.get().dbnodes.values_list("pk", flat=True)) == pks(
        graph, "d0"
    )


def test_deleting_a_missing_node_changes_nothing(graph):
    with pytest.raises(NotExistent, match="999999"):
        services.delete_nodes([graph["d2"].pk, 999999], dry_run=False)
    assert DbNode.objects.count() == 6


def test_delete_nodes_and_connections_ignores_the_rules(graph):
    services.delete_nodes_and_connections([graph["d1"].pk])
    assert DbNode.objects.count() == 5
    assert DbLink.objects.filter(output=graph["c2"]).count() == 0


def chains(user, count, depth):
    """``count`` chains data -> calc -> data -> ... of ``depth`` nodes."""
    specs, links = [], []
    heads = []
    for _ in range(count):
        previous = NodeSpec(types.INT)
        specs.append(previous)
        heads.append(previous)
        for step in range(1, depth):
            kind = types.CALCFUNCTION if step % 2 else types.INT
            node = NodeSpec(kind)
            specs.append(node)
            link = "input_calc" if step % 2 else "create"
            links.append((previous, node, "x" if step % 2 else "result", link))
            previous = node
    services.nodes_store_bulk(user=user, nodes=specs, links=links)
    return heads


def test_large_deletes_take_few_queries(user, django_assert_max_num_queries):
    chains(user, count=600, depth=4)
    heads = list(
        DbNode.objects.filter(input_links__isnull=True).values_list("pk", flat=True)
    )
    assert len(heads) == 600
    # 2400 nodes: a few queries per hop and chunk, never one per node.
    with django_assert_max_num_queries(80):
        deleted = services.delete_nodes(heads, dry_run=False)
    assert len(deleted) == 2400
    assert not DbNode.objects.exists()
    assert not DbLink.objects.exists()


def test_deletes_split_into_chunks_still_find_everything(user, monkeypatch):
    from nodes import bulk

    chains(user, count=150, depth=4)
    heads = list(
        DbNode.objects.filter(input_links__isnull=True).values_list("pk", flat=True)
    )
    # Small chunks exercise the splitting a database with a low parameter
    # limit needs (SQLite's lists; PostgreSQL takes arrays).
    monkeypatch.setattr(bulk, "MAX_IN", 37)
    assert len(services.delete_nodes(heads, dry_run=True)) == 600
    services.delete_nodes(heads, dry_run=False)
    assert not DbNode.objects.exists()
    assert not DbLink.objects.exists()


def test_a_large_delete_stays_within_bounded_memory(user):
    import tracemalloc

    from nodes import bulk

    # 50,000 nodes stored set-based: 25,000 data nodes, each the input of a
    # calculation that the deletion rules take along.
    pairs = 25_000
    now = timezone.now()
    kinds = [types.INT, types.CALCFUNCTION] * pairs
    rows = [
        (uuid, kind, None, "", "", now, now, user.pk, "{}", "{}", "{}")
        for uuid, kind in zip(bulk.new_uuids(2 * pairs), kinds, strict=True)
    ]
    pks = bulk.insert_nodes(rows)
    data, calcs = pks[0::2], pks[1::2]
    bulk.insert_rows(
        bulk.LINK_TABLE,
        bulk.LINK_COLUMNS,
        [(d, c, "x", "input_calc") for d, c in zip(data, calcs, strict=True)],
    )
    tracemalloc.start()
    try:
        deleted = services.delete_nodes(data, dry_run=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(deleted) == 2 * pairs
    assert not DbNode.objects.exists()
    # A model instance per node alone would take about 1 KiB each (50 MiB);
    # the pks and the SQL carrying them take a few hundred bytes per node.
    assert peak < 2 * pairs * 300, f"peak {peak / 2**20:.1f} MiB"
