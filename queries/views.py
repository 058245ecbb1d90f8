"""Thin views: parse the request, call one service, shape the answer."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aiidasite.api import StandardPagination
from queries import serializers, services


class ReadByPost(BasePermission):
    """A POST that only reads: open like every GET, unless the site sets
    ``AIIDASITE_QUERY_REQUIRES_LOGIN``."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if getattr(settings, "AIIDASITE_QUERY_REQUIRES_LOGIN", False):
            return bool(request.user and request.user.is_authenticated)
        return True


class StatisticsView(APIView):
    """How many nodes exist, per type and per creation day."""

    @extend_schema(
        parameters=[serializers.StatisticsQuerySerializer],
        responses=serializers.StatisticsSerializer,
    )
    def get(self, request: Request) -> Response:
        params = serializers.StatisticsQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        return Response(
            services.statistics_get(
                user=params.validated_data.get("user"), unknown_user_empty=True
            )
        )


class QueryBuilderView(APIView):
    """Run a query given in QueryBuilder's JSON form; rows come in pages.

    At most ``AIIDASITE_QUERY_MAX_ROWS`` rows are served and each statement
    is cancelled after ``AIIDASITE_QUERY_TIMEOUT_MS`` (503).
    """

    permission_classes = [ReadByPost]

    @extend_schema(
        request=serializers.QueryInputSerializer,
        responses=serializers.QueryPageSerializer,
        parameters=[
            OpenApiParameter("page", OpenApiTypes.INT, OpenApiParameter.QUERY),
            OpenApiParameter("page_size", OpenApiTypes.INT, OpenApiParameter.QUERY),
        ],
    )
    def post(self, request: Request) -> Response:
        results = services.query_results(
            query=request.data,
            hide_emails=not request.user.is_staff,
            staff=request.user.is_staff,
        )
        paginator = StandardPagination()
        page = paginator.paginate_queryset(results, request, view=self)
        return paginator.get_paginated_response(page)


class BandsView(APIView):
    """BandsData with the Hill formula of their nearest StructureData ancestor."""

    @extend_schema(
        parameters=[
            serializers.BandsQuerySerializer,
            OpenApiParameter("page", OpenApiTypes.INT, OpenApiParameter.QUERY),
            OpenApiParameter("page_size", OpenApiTypes.INT, OpenApiParameter.QUERY),
        ],
        responses=serializers.BandsPageSerializer,
    )
    def get(self, request: Request) -> Response:
        params = serializers.BandsQuerySerializer(
            data={
                **request.query_params.dict(),
                "group": request.query_params.getlist("group"),
            }
        )
        params.is_valid(raise_exception=True)
        data = params.validated_data
        rows = services.bands_list(
            past_days=data.get("past_days"),
            groups=data.get("group"),
            user=None if data["all_users"] else data.get("user"),
            unknown_user_empty=True,
        )
        paginator = StandardPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(
            serializers.BandsSerializer(page, many=True).data
        )


class ClosestParentsView(APIView):
    """The nearest ancestor of a type for each of the given node pks."""

    permission_classes = [ReadByPost]

    @extend_schema(
        request=serializers.ClosestParentsInputSerializer,
        responses=serializers.ClosestParentsSerializer,
    )
    def post(self, request: Request) -> Response:
        params = serializers.ClosestParentsInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        parents = services.closest_parents_get(
            pks=params.validated_data["pks"],
            node_type=params.validated_data.get("node_type"),
        )
        return Response(
            {
                "results": [
                    {"pk": pk, "parent": parent} for pk, parent in parents.items()
                ]
            }
        )
