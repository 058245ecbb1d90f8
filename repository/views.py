"""REST view of the repository: what it holds, for staff."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from repository.services import repository_info


class RepositoryInfoQuerySerializer(serializers.Serializer):
    detailed = serializers.BooleanField(default=False)


class RepositoryInfoView(APIView):
    """Backend, identifier and object counts of the file repository."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="repository_info",
        tags=["repository"],
        parameters=[
            OpenApiParameter(
                "detailed", OpenApiTypes.BOOL, description="include sizes on disk"
            )
        ],
        responses={
            200: OpenApiTypes.OBJECT,
            400: OpenApiTypes.OBJECT,
            403: OpenApiTypes.OBJECT,
        },
    )
    def get(self, request: Request) -> Response:
        query = RepositoryInfoQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(repository_info(detailed=query.validated_data["detailed"]))
