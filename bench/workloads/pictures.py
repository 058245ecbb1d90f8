"""Drawing a provenance neighbourhood: the walk, the layout and the SVG."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench.registry import Timing, settle, workload
from bench.workloads.queries import bench_user, best_of

# Outputs each calculation creates: a calculation and its outputs are a
# quarter of a neighbourhood of this shape.
OUTPUTS = 3


@workload("pictures.graph_svg", small=500, medium=500, large=500)
def graph_svg(n: int, workdir: Path) -> Timing:
    """Walk and draw (SVG) the n-node neighbourhood of a structure used by n/4
    calculations of 3 outputs each; the reference is Graphviz's dot alone on
    the same graph (the target: the whole under 2 s)."""
    from nodes.models import DbLink, DbNode
    from pictures import graph

    user = bench_user()
    calcs = max(1, (n - 1) // (OUTPUTS + 1))
    root = DbNode.objects.create(
        node_type="data.core.structure.StructureData.", user=user, label="root"
    )
    processes = DbNode.objects.bulk_create(
        DbNode(
            node_type="process.calculation.calcjob.CalcJobNode.",
            user=user,
            label=f"calc {i}",
            attributes={"process_state": "finished", "exit_status": i % 7},
        )
        for i in range(calcs)
    )
    outputs = DbNode.objects.bulk_create(
        DbNode(node_type="data.core.dict.Dict.", user=user)
        for _ in range(calcs * OUTPUTS)
    )
    links = [
        DbLink(input=root, output=calc, type="input_calc", label="structure")
        for calc in processes
    ] + [
        DbLink(
            input=calc,
            output=outputs[i * OUTPUTS + j],
            type="create",
            label=f"out_{j}",
        )
        for i, calc in enumerate(processes)
        for j in range(OUTPUTS)
    ]
    DbLink.objects.bulk_create(links, batch_size=10_000)
    settle()

    def draw() -> bytes:
        drawn = graph.neighbourhood(node=root, depth=2, ancestors=False)
        assert len(drawn.nodes) == 1 + calcs * (OUTPUTS + 1)
        return graph.render(drawn, "svg")

    ours, svg = best_of(draw, repeats=3)
    assert svg.count(b'class="node"') == 1 + calcs * (OUTPUTS + 1)
    source = graph.render(graph.neighbourhood(node=root, depth=2), "dot")
    reference, _ = best_of(
        lambda: subprocess.run(
            ["dot", "-Tsvg"], input=source, capture_output=True, check=True
        ),
        repeats=3,
    )
    return Timing(ours, reference, reference="dot alone", unit="nodes")
