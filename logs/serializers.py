"""How log records look over HTTP."""

from __future__ import annotations

from rest_framework import serializers

from logs.models import DbLog


class LogSerializer(serializers.ModelSerializer):
    node = serializers.IntegerField(source="dbnode_id", read_only=True)

    class Meta:
        model = DbLog
        fields = [
            "id",
            "uuid",
            "node",
            "time",
            "loggername",
            "levelname",
            "message",
            "metadata",
        ]


class LogQuerySerializer(serializers.Serializer):
    levelname = serializers.CharField(
        required=False, help_text="only this level: REPORT, WARNING, ERROR..."
    )
