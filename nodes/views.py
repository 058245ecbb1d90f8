"""REST views of nodes, links and groups: parse, call one service, shape."""

from __future__ import annotations

import mimetypes
from contextlib import ExitStack
from typing import IO, Any

from django.db.models import Count, F, QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aiidasite.api import LargeTablePagination, StandardPagination
from aiidasite.downloads import safe_filename
from aiidasite.exceptions import InputValidationError
from aiidasite.parameters import FormParser, JSONParser
from aiidasite.permissions import IsOwnerOrStaff
from aiidasite.uploads import StrictMultiPartParser
from nodes import services
from nodes.filters import GroupFilterSet, LinkFilterSet, NodeFilterSet
from nodes.models import DbGroup, DbLink, DbNode
from nodes.serializers import (
    NODE_LIST_COLUMNS,
    DeleteQuerySerializer,
    DeleteResultSerializer,
    FileEntrySerializer,
    GroupMembersPageSerializer,
    GroupMembersResultSerializer,
    GroupMembersSerializer,
    GroupSerializer,
    LinkSerializer,
    NodeCreateSerializer,
    NodeListItemSerializer,
    NodeSerializer,
    NodeSummarySerializer,
    NodeUpdateSerializer,
)
from nodes.services import IncomingLink

# Text outputs of simulation codes that the mimetypes table does not know.
TEXT_SUFFIXES = {suffix: "text/plain" for suffix in ("out", "in", "err", "dat")}

NODE_ID = OpenApiParameter(
    "identifier", str, OpenApiParameter.PATH, description="pk, uuid or uuid prefix"
)


def links_queryset() -> QuerySet:
    # Only the columns the link serializer shows: node attributes can be large.
    return DbLink.objects.select_related("input", "output").only(
        "id",
        "label",
        "type",
        *(
            f"{end}__{field}"
            for end in ("input", "output")
            for field in services.LINK_END_FIELDS
        ),
    )


class NodeListView(generics.ListCreateAPIView):
    """Nodes, newest first; POST stores one (JSON or multipart with files)."""

    # Rows as dicts, the owner's name a column: a model instance, let alone a
    # user object, per row would cost more than reading the row.
    queryset = DbNode.objects.values(
        *NODE_LIST_COLUMNS[:-1], username=F("user__username")
    )
    serializer_class = NodeListItemSerializer
    pagination_class = LargeTablePagination
    filterset_class = NodeFilterSet
    ordering_fields = ["label", "ctime", "mtime", "node_type", "id"]
    parser_classes = [JSONParser, StrictMultiPartParser, FormParser]

    @extend_schema(request=NodeCreateSerializer, responses={201: NodeSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = NodeCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        links = [
            IncomingLink(
                services.node_get(identifier=link["source"]).pk,
                link["label"],
                link["type"],
            )
            for link in fields.pop("links")
        ]
        node = services.node_store(
            user=request.user, links=links, files=dict(request.FILES.items()), **fields
        )
        return Response(NodeSerializer(node).data, status=status.HTTP_201_CREATED)


class NodeDetailView(APIView):
    """One node by pk, uuid or uuid prefix; PATCH label, description and
    extras; DELETE with AiiDA's traversal rules."""

    parser_classes = [JSONParser]
    permission_classes = [IsOwnerOrStaff]

    @extend_schema(parameters=[NODE_ID], responses={200: NodeSerializer})
    def get(self, request: Request, identifier: str) -> Response:
        node = services.node_get(identifier=identifier)
        return Response(NodeSerializer(node).data)

    @extend_schema(
        parameters=[NODE_ID],
        request=NodeUpdateSerializer,
        responses={200: NodeSerializer},
    )
    def patch(self, request: Request, identifier: str) -> Response:
        if not isinstance(request.data, dict):
            raise InputValidationError("expected a JSON object")
        changes = dict(request.data)
        replace = changes.pop("replace", False)
        if not isinstance(replace, bool):
            raise InputValidationError("replace must be true or false")
        node = services.node_get(identifier=identifier)
        self.check_object_permissions(request, node)
        node = services.node_update(node=node, changes=changes, replace_extras=replace)
        return Response(NodeSerializer(node).data)

    @extend_schema(
        parameters=[NODE_ID, DeleteQuerySerializer],
        responses={200: DeleteResultSerializer},
    )
    def delete(self, request: Request, identifier: str) -> Response:
        query = DeleteQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        options = dict(query.validated_data)
        node = services.node_get(identifier=identifier)
        self.check_object_permissions(request, node)
        dry_run = options.pop("dry_run")
        # Counted first: once deleted, the comments and logs are gone.
        found = services.delete_nodes(
            [node.pk], dry_run=True, user=request.user, **options
        )
        dependents = services.deletion_dependents(found)
        deleted = services.delete_nodes(
            [node.pk], dry_run=dry_run, user=request.user, **options
        )
        return Response(
            {
                "dry_run": dry_run,
                "deleted": sorted(deleted),
                "also_deleted": dependents,
            }
        )


class NodeLinksView(generics.ListAPIView):
    """Links into (``incoming``) or out of (``outgoing``) a node."""

    serializer_class = LinkSerializer
    pagination_class = LargeTablePagination
    filterset_class = LinkFilterSet
    ordering_fields = ["label", "type", "id"]
    direction = "incoming"

    @extend_schema(parameters=[NODE_ID])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return DbLink.objects.none()
        node = services.node_get(identifier=self.kwargs["identifier"])
        end = "output" if self.direction == "incoming" else "input"
        return links_queryset().filter(**{end: node.pk})


class NodeFilesView(APIView):
    """A node's file tree: nested, directories first, sorted, with sizes."""

    @extend_schema(
        parameters=[NODE_ID], responses={200: FileEntrySerializer(many=True)}
    )
    def get(self, request: Request, identifier: str) -> Response:
        node = services.node_get(identifier=identifier)
        return Response(services.node_file_tree(node=node))


class _ClosingReader:
    """A read-only stream that releases the repository's handle on close."""

    def __init__(self, stack: ExitStack, handle: IO[bytes]) -> None:
        self._stack = stack
        self._handle = handle

    def read(self, size: int = -1) -> bytes:
        return self._handle.read(size)

    def close(self) -> None:
        self._stack.close()


class NodeFileView(APIView):
    """Download one file of a node (streamed), or list a directory of it."""

    @extend_schema(
        operation_id="v1_nodes_file_retrieve",
        parameters=[
            NODE_ID,
            OpenApiParameter("path", str, OpenApiParameter.PATH),
        ],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="the file's content"
            ),
            (200, "application/json"): FileEntrySerializer(many=True),
        },
    )
    def get(self, request: Request, identifier: str, path: str) -> Any:
        node = services.node_get(identifier=identifier)
        if services.node_file_is_directory(node=node, path=path):
            return Response(services.node_file_tree(node=node, path=path))
        stack = ExitStack()
        handle = stack.enter_context(services.node_file_open(node=node, path=path))
        name = path.rstrip("/").rsplit("/", 1)[-1]
        content_type = (
            mimetypes.guess_type(name)[0]
            or TEXT_SUFFIXES.get(name.rsplit(".", 1)[-1])
            or "application/octet-stream"
        )
        return FileResponse(
            _ClosingReader(stack, handle),
            content_type=content_type,
            as_attachment=True,
            filename=safe_filename(name, fallback="file"),
        )


class LinkListView(generics.ListAPIView):
    """Every link, newest first."""

    serializer_class = LinkSerializer
    pagination_class = LargeTablePagination
    filterset_class = LinkFilterSet
    ordering_fields = ["label", "type", "id"]

    def get_queryset(self) -> QuerySet:
        return links_queryset()


@extend_schema_view(
    nodes=extend_schema(methods=["GET"], responses={200: GroupMembersPageSerializer}),
)
class GroupViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Groups of nodes, and their members under ``nodes/``."""

    serializer_class = GroupSerializer
    permission_classes = [IsOwnerOrStaff]
    pagination_class = StandardPagination
    filterset_class = GroupFilterSet
    ordering_fields = ["id", "label", "time"]
    ordering = ["id"]
    # ASCII digits only: int() would also read full-width and Arabic-Indic digits.
    lookup_value_regex = "[0-9]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    # A pk, a uuid or a label, which may hold dots.
    lookup_value_regex = "[^/]+"

    def get_object(self) -> DbGroup:
        group = services.group_get(identifier=self.kwargs["pk"])
        self.check_object_permissions(self.request, group)
        return self.get_queryset().get(pk=group.pk)

    def get_queryset(self) -> QuerySet:
        return (
            DbGroup.objects.select_related("user")
            .annotate(node_count=Count("dbnodes"))
            .order_by("id")
        )

    def perform_create(self, serializer: GroupSerializer) -> None:
        group = services.group_create(
            user=self.request.user, **serializer.validated_data
        )
        group.node_count = 0
        serializer.instance = group

    def perform_update(self, serializer: GroupSerializer) -> None:
        services.group_update(
            group=serializer.instance, changes=serializer.validated_data
        )

    def perform_destroy(self, instance: DbGroup) -> None:
        services.group_delete(group=instance)

    @extend_schema(
        methods=["POST"],
        request=GroupMembersSerializer,
        responses={200: GroupMembersResultSerializer},
    )
    # Members are listed newest first, unfiltered: no filter parameters.
    @action(detail=True, methods=["get", "post"], url_path="nodes", filter_backends=[])
    def nodes(self, request: Request, pk: str | None = None) -> Response:
        group = self.get_object()
        if request.method == "POST":
            pks = self._member_pks(request)
            return Response({"changed": services.group_add_nodes(group=group, pks=pks)})
        members = (
            group.dbnodes.select_related("user")
            .defer("attributes", "extras", "repository_metadata", "description")
            .order_by("-id")
        )
        page = self.paginate_queryset(members)
        return self.get_paginated_response(NodeSummarySerializer(page, many=True).data)

    @extend_schema(
        request=GroupMembersSerializer,
        responses={200: GroupMembersResultSerializer},
    )
    @action(detail=True, methods=["post"], url_path="nodes/remove")
    def remove_nodes(self, request: Request, pk: str | None = None) -> Response:
        group = self.get_object()
        pks = self._member_pks(request)
        return Response({"changed": services.group_remove_nodes(group=group, pks=pks)})

    @staticmethod
    def _member_pks(request: Request) -> list[int]:
        members = GroupMembersSerializer(data=request.data)
        members.is_valid(raise_exception=True)
        return [
            services.node_get(identifier=item).pk
            for item in members.validated_data["nodes"]
        ]
