"""REST shapes of a setting: what is read, and what a PUT sends."""

from __future__ import annotations

from rest_framework import serializers


class SettingSerializer(serializers.Serializer):
    """A setting as the API returns it (from a ``manager.Setting``)."""

    key = serializers.CharField(read_only=True)
    value = serializers.JSONField(read_only=True, allow_null=True)
    description = serializers.CharField(read_only=True)
    time = serializers.DateTimeField(read_only=True)


class SettingWriteSerializer(serializers.Serializer):
    """The body of a PUT: any JSON value (``null`` too) and an optional description.

    Leaving out ``description`` keeps the current one.
    """

    value = serializers.JSONField(allow_null=True)
    description = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False
    )
