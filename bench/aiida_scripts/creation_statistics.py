"""Node counts per type and per day over N nodes spread over a year."""

import datetime
import sys

from common import STORAGE, best_of, insert_nodes, report

n = int(sys.argv[1])
kinds = [
    "data.core.int.Int.",
    "data.core.float.Float.",
    "data.core.dict.Dict.",
    "data.core.structure.StructureData.",
    "process.calculation.calcjob.CalcJobNode.",
]
start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
step = datetime.timedelta(days=365) / n
insert_nodes([{"node_type": kinds[i % 5], "ctime": start + i * step} for i in range(n)])
seconds, stats = best_of(lambda: STORAGE.query().get_creation_statistics())
assert stats["total"] == n, stats["total"]
report(seconds, days=len(stats["ctime_by_day"]))
