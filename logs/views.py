"""REST view of a node's log records."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics

from logs import services
from logs.serializers import LogQuerySerializer, LogSerializer
from nodes.services import node_get


@extend_schema(parameters=[LogQuerySerializer])
class NodeLogsView(generics.ListAPIView):
    """A node's log records in time order; ``?levelname=`` keeps one level."""

    serializer_class = LogSerializer
    filter_backends: list[Any] = []

    def get_queryset(self):
        query = LogQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return services.logs_of(
            node=node_get(identifier=self.kwargs["identifier"]),
            levelname=query.validated_data.get("levelname"),
        )
