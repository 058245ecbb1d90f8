"""Hand-written answers say exactly what DRF's fields say: the node list's
rows, a node's detail and links."""

from __future__ import annotations

import datetime

import pytest
from rest_framework import serializers

from computers.models import DbComputer
from nodes.models import DbLink, DbNode
from nodes.serializers import LinkSerializer, NodeSerializer, NodeSummarySerializer

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


class DRFNodeSerializer(NodeSerializer):
    """NodeSerializer's declared fields, written by DRF's own machinery."""

    to_representation = serializers.ModelSerializer.to_representation


class DRFLinkEndSerializer(serializers.ModelSerializer):
    class Meta:
        model = DbNode
        fields = ["id", "uuid", "node_type", "label"]


class DRFLinkSerializer(LinkSerializer):
    input = DRFLinkEndSerializer(read_only=True)
    output = DRFLinkEndSerializer(read_only=True)

    to_representation = serializers.ModelSerializer.to_representation


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/Caracas"])
def test_node_and_link_answers_equal_drf_fields(api_client, user, settings, zone):
    settings.TIME_ZONE = zone
    stamp = datetime.datetime(2015, 6, 15, 4, 45, 30, 123456, tzinfo=datetime.UTC)
    computer = DbComputer.objects.create(label="ü cluster", hostname="h")
    calc = DbNode.objects.create(
        node_type="process.calculation.calcjob.CalcJobNode.",
        process_type="aiida.calculations:core.arithmetic.add",
        label="ü calc",
        description="does things",
        user=user,
        ctime=stamp,
        dbcomputer=computer,
        attributes={"a": [1, 2.5, None, {"b": "ü"}], "exit_status": 0},
        extras={"x": True},
    )
    data = DbNode.objects.create(node_type="data.core.int.Int.", user=user)
    DbLink.objects.create(input=data, output=calc, label="x", type="input_calc")
    for node in (calc, data):
        answer = api_client.get(f"/api/v1/nodes/{node.pk}/").json()
        assert answer == dict(DRFNodeSerializer(DbNode.objects.get(pk=node.pk)).data)
    answer = api_client.get(f"/api/v1/nodes/{calc.pk}/links/incoming/").json()
    link = DbLink.objects.select_related("input", "output").get()
    assert answer["results"] == [dict(DRFLinkSerializer(link).data)]
