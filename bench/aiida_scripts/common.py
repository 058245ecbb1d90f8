"""What the aiida-core scripts share: the profile, fast set-up, timing.

Set-up rows go in through the storage's own ``bulk_insert`` (untimed); only
the operation under test goes through aiida-core's public API.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable
from typing import Any

from aiida import load_profile, orm
from aiida.manage import get_manager
from aiida.orm.entities import EntityTypes

load_profile()
STORAGE = get_manager().get_profile_storage()
USER = orm.User.collection.get_default().pk
BATCH = 10_000


def insert(entity: EntityTypes, rows: list[dict]) -> list[int]:
    pks: list[int] = []
    for start in range(0, len(rows), BATCH):
        pks += STORAGE.bulk_insert(entity, rows[start : start + BATCH], True)
    return pks


def insert_nodes(rows: list[dict]) -> list[int]:
    """Nodes in this order (``node_type`` and any other column per row)."""
    now = datetime.datetime.now(datetime.UTC)
    full = [{"user_id": USER, "ctime": now, "mtime": now, **row} for row in rows]
    return insert(EntityTypes.NODE, full)


def insert_links(rows: list[tuple[int, int, str, str]]) -> None:
    insert(
        EntityTypes.LINK,
        [
            {"input_id": i, "output_id": o, "label": label, "type": kind}
            for i, o, label, kind in rows
        ],
    )


def insert_chains(count: int, kinds: list[str]) -> list[list[int]]:
    """``count`` chains of ``len(kinds)`` nodes of these types, data and
    processes taking turns: each process takes the node before it as input
    and creates the node after it. The pks, chain by chain."""
    depth = len(kinds)
    pks = insert_nodes([{"node_type": kinds[i % depth]} for i in range(count * depth)])
    chains = [pks[start : start + depth] for start in range(0, len(pks), depth)]
    links = []
    for chain in chains:
        for step in range(1, depth):
            link = ("x", "input_calc") if step % 2 else ("result", "create")
            links.append((chain[step - 1], chain[step], *link))
    insert_links(links)
    return chains


def once(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def best_of(fn: Callable[[], Any], repeats: int = 5) -> tuple[float, Any]:
    """As the project's query workloads time themselves: warm up, best of five."""
    fn()
    best, result = float("inf"), None
    for _ in range(repeats):
        seconds, result = once(fn)
        best = min(best, seconds)
    return best, result


def report(seconds: float, **facts: Any) -> None:
    print(json.dumps({"seconds": seconds, **facts}))
