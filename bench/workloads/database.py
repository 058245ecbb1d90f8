"""What one primary-key read costs through the service and through SQL: what
the API's detail views and the admin pay per object."""

from __future__ import annotations

import random
from pathlib import Path

from bench.registry import Stopwatch, Timing, workload


@workload("db.read_node_by_pk", small=2_000, medium=20_000, large=100_000)
def read_node_by_pk(n: int, workdir: Path) -> Timing:
    """Read n nodes one by one by primary key (node_get vs raw SQL)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from nodes.models import DbNode
    from nodes.services import node_get

    user, _ = get_user_model().objects.get_or_create(username="bench")
    # Its own n nodes only: earlier workloads of the run leave theirs behind.
    created = DbNode.objects.bulk_create(
        DbNode(node_type="data.core.int.Int.", user=user, attributes={"value": i})
        for i in range(n)
    )
    pks = [node.pk for node in created]
    random.Random(0).shuffle(pks)

    ours, reference = Stopwatch(), Stopwatch()
    with ours():
        for pk in pks:
            node_get(identifier=pk)
    with reference(), connection.cursor() as cursor:
        for pk in pks:
            cursor.execute("SELECT id, attributes FROM db_dbnode WHERE id = %s", [pk])
            cursor.fetchone()
    return Timing(ours.seconds, reference.seconds, reference="raw SQL", unit="reads")
