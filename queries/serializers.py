"""Input and output shapes of the queries API."""

from __future__ import annotations

from rest_framework import serializers

from aiidasite.times import MAX_PAST_DAYS


class StatisticsQuerySerializer(serializers.Serializer):
    user = serializers.CharField(required=False, help_text="A user's pk or username.")


class StatisticsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    types = serializers.DictField(child=serializers.IntegerField())
    ctime_by_day = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Nodes created per day (YYYY-MM-DD, the site's time zone).",
    )


class BandsQuerySerializer(serializers.Serializer):
    # About a thousand years: the cut-off date must exist in the calendar.
    past_days = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAST_DAYS
    )
    group = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Label or pk."
    )
    user = serializers.CharField(required=False, help_text="A user's pk or username.")
    all_users = serializers.BooleanField(
        required=False, default=False, help_text="Ignore ``user`` and list everyone's."
    )


class BandsSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    uuid = serializers.UUIDField()
    label = serializers.CharField()
    ctime = serializers.DateTimeField()
    formula = serializers.CharField(allow_null=True)


class BandsPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = BandsSerializer(many=True)


class ClosestParentsInputSerializer(serializers.Serializer):
    pks = serializers.ListField(
        child=serializers.IntegerField(), min_length=1, max_length=100_000
    )
    node_type = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="Type string or class name (StructureData); subtypes match. "
        "Omitted: the nearest parent of any type.",
    )


class ClosestParentSerializer(serializers.Serializer):
    pk = serializers.IntegerField()
    parent = serializers.IntegerField(allow_null=True)


class ClosestParentsSerializer(serializers.Serializer):
    results = ClosestParentSerializer(many=True)


class QueryInputSerializer(serializers.Serializer):
    """A query in QueryBuilder's JSON form (see ``queries.builder``)."""

    path = serializers.ListField(
        child=serializers.JSONField(),
        help_text='Entities, e.g. [{"entity": "StructureData", "tag": "s"}, '
        '{"entity": "node", "tag": "n", "with_incoming": "s"}].',
    )
    filters = serializers.DictField(required=False, help_text="tag -> filters")
    project = serializers.DictField(required=False, help_text="tag -> projections")
    project_map = serializers.DictField(
        required=False, help_text="tag -> {projection: key in the answer}"
    )
    order_by = serializers.JSONField(required=False)
    limit = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    offset = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    distinct = serializers.BooleanField(required=False)


class QueryPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = serializers.ListField(
        child=serializers.DictField(), help_text="Rows as {tag: {projection: value}}."
    )
