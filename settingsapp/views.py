"""REST views of the settings table: thin wrappers around ``SettingsManager``."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from settingsapp.manager import SettingsManager
from settingsapp.serializers import SettingSerializer, SettingWriteSerializer

KEY_PARAMETER = OpenApiParameter(
    "key",
    str,
    OpenApiParameter.PATH,
    description="the setting's key; it may contain `|`, `.` and `/`",
)


class IsStaffForWrites(BasePermission):
    """Signed-in users may read settings; only staff may change them."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or bool(user.is_staff)


class SettingListView(generics.ListAPIView):
    """Every setting, ordered by key."""

    serializer_class = SettingSerializer
    permission_classes = [IsStaffForWrites]
    filter_backends: list = []

    def get_queryset(self):
        # The settings table is small: the manager's list is the page source.
        return SettingsManager().all()


class SettingDetailView(APIView):
    """Read, create or replace, and delete one setting by key."""

    permission_classes = [IsStaffForWrites]

    @extend_schema(parameters=[KEY_PARAMETER], responses=SettingSerializer)
    def get(self, request: Request, key: str) -> Response:
        setting = SettingsManager().get(key)
        return Response(SettingSerializer(setting).data)

    @extend_schema(
        parameters=[KEY_PARAMETER],
        request=SettingWriteSerializer,
        responses=SettingSerializer,
    )
    def put(self, request: Request, key: str) -> Response:
        body = SettingWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        setting = SettingsManager().set(
            key,
            body.validated_data["value"],
            body.validated_data.get("description"),
        )
        return Response(SettingSerializer(setting).data)

    @extend_schema(parameters=[KEY_PARAMETER], responses={204: None})
    def delete(self, request: Request, key: str) -> Response:
        SettingsManager().delete(key)
        return Response(status=status.HTTP_204_NO_CONTENT)
