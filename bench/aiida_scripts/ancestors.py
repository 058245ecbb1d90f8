"""The StructureData ancestors of N leaves at the end of chains of depth 10,
asked the aiida-core way: one QueryBuilder over ``with_descendants``."""

import sys

from aiida import orm
from common import best_of, insert_links, insert_nodes, report

n, depth = int(sys.argv[1]), 10
structure = "data.core.structure.StructureData."
kinds = [structure] + [
    "process.calculation.calcjob.CalcJobNode." if i % 2 else "data.core.dict.Dict."
    for i in range(1, depth)
]
pks = insert_nodes([{"node_type": kinds[i % depth]} for i in range(n * depth)])
links, leaves = [], []
for start in range(0, n * depth, depth):
    chain = pks[start : start + depth]
    leaves.append(chain[-1])
    for step in range(1, depth):
        link = ("x", "input_calc") if step % 2 else ("x", "create")
        links.append((chain[step - 1], chain[step], *link))
insert_links(links)

query = (
    orm.QueryBuilder()
    .append(orm.Node, filters={"id": {"in": leaves}}, tag="leaf", project="id")
    .append(orm.StructureData, with_descendants="leaf", project="id")
)
seconds, rows = best_of(query.all)
assert len(rows) == n, len(rows)
report(seconds, pairs=len(rows))
