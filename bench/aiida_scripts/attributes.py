"""Ids (or the count) of the Int nodes whose attributes.value exceeds N/2."""

import sys

from aiida import orm
from common import best_of, insert_nodes, report

n, mode = int(sys.argv[1]), sys.argv[2]
insert_nodes(
    [
        {"node_type": "data.core.int.Int.", "attributes": {"value": i, "name": f"n{i}"}}
        for i in range(n)
    ]
)
query = orm.QueryBuilder().append(
    orm.Int, filters={"attributes.value": {">": n // 2}}, project="id"
)
if mode == "count":
    seconds, answer = best_of(query.count)
else:
    seconds, ids = best_of(lambda: query.all(flat=True))
    answer = len(ids)
report(seconds, answer=answer)
