"""``/api/v1/archives/``: upload an archive to import it, download a group's."""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from collections.abc import Iterator

from django.conf import settings
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aiidasite.downloads import safe_filename
from aiidasite.exceptions import AiidaSiteError, InputValidationError
from aiidasite.tempdirs import owned_tempdir, temp_root
from aiidasite.uploads import StrictMultiPartParser
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


@contextlib.contextmanager
def server_paths_hidden(names: dict[str, str] | None = None) -> Iterator[None]:
    """Errors raised inside name no temporary file of the server.

    ``names`` maps paths to what the client is told instead; any other path
    in the temporary folder becomes ``<temporary file>``.
    """
    try:
        yield
    except AiidaSiteError as exc:
        text = str(exc)
        for path, name in (names or {}).items():
            text = text.replace(path, name)
        for root in {str(temp_root()), tempfile.gettempdir()}:
            text = re.sub(re.escape(root) + r"/[^\s'\",:;)]*", "<temporary file>", text)
        raise type(exc)(text) from None


def hide_emails(request: Request) -> bool:
    """Whether users' e-mails stay out of this request's download."""
    anonymous = not (request.user and request.user.is_authenticated)
    return anonymous and settings.AIIDASITE_HIDE_EMAILS_FROM_ANONYMOUS


class ArchiveView(APIView):
    """Import an uploaded archive (staff), or export a group as an archive."""

    permission_classes = [StaffWritesOnly]
    parser_classes = [StrictMultiPartParser]

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
        with owned_tempdir("export") as folder, server_paths_hidden():
            path = str(folder / "export.aiida")
            services.archive_export(
                path, group_labels=[label], hide_emails=hide_emails(request)
            )
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
            with server_paths_hidden({str(copy): "the upload"}):
                summary = services.archive_import(str(copy))
        code = status.HTTP_201_CREATED if summary.changed else status.HTTP_200_OK
        return Response(ImportSummarySerializer(summary).data, status=code)
