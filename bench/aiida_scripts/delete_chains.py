"""Delete N nodes: chains of depth 10 (Int -> CalcFunctionNode -> Int ...)
given by their heads, with aiida-core's default traversal rules."""

import sys

from aiida.tools.graph.deletions import delete_nodes
from common import insert_links, insert_nodes, once, report

n, depth = int(sys.argv[1]), 10
kinds = ["data.core.int.Int.", "process.calculation.calcfunction.CalcFunctionNode."]
pks = insert_nodes([{"node_type": kinds[i % depth % 2]} for i in range(n)])
links, heads = [], []
for start in range(0, n, depth):
    chain = pks[start : start + depth]
    heads.append(chain[0])
    for step in range(1, depth):
        link = ("x", "input_calc") if step % 2 else ("result", "create")
        links.append((chain[step - 1], chain[step], *link))
insert_links(links)

seconds, (deleted, _) = once(lambda: delete_nodes(heads, dry_run=False))
assert len(deleted) == n, (len(deleted), n)
report(seconds, deleted=len(deleted))
