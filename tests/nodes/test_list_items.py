"""The node list's hand-written rows say exactly what the summary serializer says."""

from __future__ import annotations

import datetime

import pytest

from nodes.models import DbNode
from nodes.serializers import NodeSummarySerializer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/Caracas"])
def test_list_rows_equal_the_summary_serializer(api_client, user, settings, zone):
    settings.TIME_ZONE = zone
    stamp = datetime.datetime(2015, 6, 15, 4, 45, 30, 123456, tzinfo=datetime.UTC)
    nodes = [
        DbNode.objects.create(
            node_type="process.calculation.calcjob.CalcJobNode.",
            process_type="aiida.calculations:core.arithmetic.add",
            label="ü label",
            user=user,
            ctime=stamp,
        ),
        DbNode.objects.create(node_type="data.core.int.Int.", user=user),
    ]
    rows = api_client.get("/api/v1/nodes/").json()["results"]
    expected = [NodeSummarySerializer(DbNode.objects.get(pk=n.pk)).data for n in nodes]
    assert sorted(rows, key=lambda r: r["id"]) == [dict(e) for e in expected]
