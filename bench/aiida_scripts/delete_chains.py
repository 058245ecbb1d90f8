"""Delete N nodes: chains of depth 10 (Int -> CalcFunctionNode -> Int ...)
given by their heads, with aiida-core's default traversal rules."""

import sys

from aiida.tools.graph.deletions import delete_nodes
from common import insert_chains, once, report

n, depth = int(sys.argv[1]), 10
kinds = ["data.core.int.Int.", "process.calculation.calcfunction.CalcFunctionNode."]
chains = insert_chains(n // depth, [kinds[step % 2] for step in range(depth)])
heads = [chain[0] for chain in chains]

seconds, (deleted, _) = once(lambda: delete_nodes(heads, dry_run=False))
assert len(deleted) == n, (len(deleted), n)
report(seconds, deleted=len(deleted))
