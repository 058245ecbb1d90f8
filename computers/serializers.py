"""How computers look over HTTP; auth infos never appear here."""

from __future__ import annotations

from rest_framework import serializers

from computers.models import DbComputer


class ComputerSerializer(serializers.ModelSerializer):
    node_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = DbComputer
        fields = [
            "id",
            "uuid",
            "label",
            "hostname",
            "description",
            "scheduler_type",
            "transport_type",
            "metadata",
            "node_count",
        ]
