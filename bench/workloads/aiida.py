"""The issue's workloads against aiida-core 2.9.4 itself, in the same run.

Each workload times the project's code exactly as its own workload does, then
the same work done by aiida-core on a fresh ``core.sqlite_dos`` profile (see
``bench.aiida_reference``). The ratio is aiida-core's time over ours: the
speed-up on this machine, whatever the machine. Deletion is ours with file
cleanup against aiida-core's without (it leaves the files behind).
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.aiida_reference import AIIDA_VERSION, run_aiida
from bench.registry import Timing, workload
from bench.workloads import nodes, queries


def against_aiida(ours: Timing, workdir: Path, script: str, *args: object) -> Timing:
    measured = run_aiida(script, workdir, *args)
    if measured is None:
        return Timing(ours.seconds, unit=ours.unit)
    return Timing(
        ours.seconds,
        measured["seconds"],
        reference=f"aiida-core {AIIDA_VERSION}",
        unit=ours.unit,
    )


@workload("aiida.store_bulk", small=5_000, medium=10_000, large=10_000)
def store_bulk(n: int, workdir: Path) -> Timing:
    """Store n nodes with 10 attributes (aiida-core: one by one, one transaction)."""
    attributes = json.dumps(nodes.attributes(0))
    return against_aiida(nodes.store_bulk(n, workdir), workdir, "store", n, attributes)


@workload("aiida.delete_chains", small=10_000, medium=50_000, large=200_000)
def delete_chains(n: int, workdir: Path) -> Timing:
    """Delete n nodes in chains of depth 10 (ours also removes their files)."""
    return against_aiida(nodes.delete_chains(n, workdir), workdir, "delete_chains", n)


@workload("aiida.attribute_filter", small=50_000, medium=50_000, large=500_000)
def attribute_filter(n: int, workdir: Path) -> Timing:
    """Ids of the Int nodes whose attributes.value exceeds n/2, over n nodes."""
    ours = queries.attribute_filter(n, workdir)
    return against_aiida(ours, workdir, "attributes", n, "filter")


@workload("aiida.attribute_count", small=50_000, medium=50_000, large=500_000)
def attribute_count(n: int, workdir: Path) -> Timing:
    """Count of the Int nodes whose attributes.value exceeds n/2, over n nodes."""
    ours = queries.attribute_count(n, workdir)
    return against_aiida(ours, workdir, "attributes", n, "count")


@workload("aiida.creation_statistics", small=50_000, medium=50_000, large=1_000_000)
def creation_statistics(n: int, workdir: Path) -> Timing:
    """Node counts per type and per day over n nodes."""
    ours = queries.creation_statistics(n, workdir)
    return against_aiida(ours, workdir, "creation_statistics", n)


@workload("aiida.ancestors", small=1_000, medium=1_000, large=10_000)
def ancestors(n: int, workdir: Path) -> Timing:
    """StructureData ancestors of n leaves of chains of depth 10 (ours: nearest)."""
    ours = queries.closest_parents(n, workdir)
    return against_aiida(ours, workdir, "ancestors", n)
