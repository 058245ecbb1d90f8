"""The StructureData ancestors of N leaves at the end of chains of depth 10,
asked the aiida-core way: one QueryBuilder over ``with_descendants``."""

import sys

from aiida import orm
from common import best_of, insert_chains, report

n, depth = int(sys.argv[1]), 10
kinds = ["data.core.structure.StructureData."] + [
    "process.calculation.calcjob.CalcJobNode." if i % 2 else "data.core.dict.Dict."
    for i in range(1, depth)
]
leaves = [chain[-1] for chain in insert_chains(n, kinds)]

query = (
    orm.QueryBuilder()
    .append(orm.Node, filters={"id": {"in": leaves}}, tag="leaf", project="id")
    .append(orm.StructureData, with_descendants="leaf", project="id")
)
seconds, rows = best_of(query.all)
assert len(rows) == n, len(rows)
report(seconds, pairs=len(rows))
