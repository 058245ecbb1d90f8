"""``/api/v1/archives/``: upload an archive to import it, download a group's."""

from __future__ import annotations

import os
import shutil
import tempfile

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aiidasite.downloads import safe_filename
from aiidasite.exceptions import InputValidationError
from aiidasite.parameters import MultiPartParser
from aiidasite.tempdirs import owned_tempdir
from archives import services


class ArchiveUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="an AiiDA archive (.aiida zip)")


class ImportSummarySerializer(serializers.Serializer):
    nodes_new = serializers.IntegerField()
    nodes_existing = serializers.IntegerField()
    links_new = serializers.IntegerField()
    links_existing = serializers.IntegerField()
    groups_new = serializers.IntegerField()
    groups_existing = serializers.IntegerField()
    memberships_new = serializers.IntegerField()
    files_new = serializers.IntegerField()
    files_existing = serializers.IntegerField()
    users_new = serializers.IntegerField()
    renamed_groups = serializers.ListField(child=serializers.CharField())


class StaffWritesOnly(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_staff)


class ArchiveView(APIView):
    """Import an uploaded archive (staff), or export a group as an archive."""

    permission_classes = [StaffWritesOnly]
    parser_classes = [MultiPartParser]

    @extend_schema(
        parameters=[
            OpenApiParameter("group", str, required=True, description="group label")
        ],
        responses={(200, "application/zip"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request) -> FileResponse:
        label = request.query_params.get("group")
        if not label:
            raise InputValidationError("give ?group=LABEL to export a group")
        # The label is a user's text: it names the download, never a path.
        with tempfile.TemporaryDirectory(prefix="aiidasite-export-") as tmp:
            path = os.path.join(tmp, "export.aiida")
            services.archive_export(path, group_labels=[label])
            handle = open(path, "rb")  # closed by FileResponse
        # The open handle keeps the unlinked file readable until it is sent.
        return FileResponse(
            handle,
            as_attachment=True,
            filename=safe_filename(label, suffix=".aiida", fallback="group"),
            content_type="application/zip",
        )

    @extend_schema(
        request={"multipart/form-data": ArchiveUploadSerializer},
        responses={201: ImportSummarySerializer, 200: ImportSummarySerializer},
    )
    def post(self, request: Request) -> Response:
        upload = ArchiveUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        # In an owned folder, so a killed worker's copy is removed later.
        with owned_tempdir("upload") as folder:
            copy = folder / "upload.aiida"
            with copy.open("wb") as handle:
                shutil.copyfileobj(upload.validated_data["file"], handle, 1024 * 1024)
            summary = services.archive_import(str(copy))
        code = status.HTTP_201_CREATED if summary.changed else status.HTTP_200_OK
        return Response(ImportSummarySerializer(summary).data, status=code)
