"""REST views of a node's comments: parse, call one service, shape."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aiidasite.exceptions import NotExistent
from aiidasite.permissions import IsOwnerOrStaff
from comments import services
from comments.serializers import CommentSerializer, CommentWriteSerializer
from nodes.services import node_get

NODE_ID = OpenApiParameter(
    "identifier", str, OpenApiParameter.PATH, description="pk, uuid or uuid prefix"
)


class NodeCommentsView(generics.ListAPIView):
    """A node's comments, oldest first; POST adds one (logged-in users)."""

    serializer_class = CommentSerializer
    filter_backends: list[Any] = []

    def get_queryset(self):
        return services.comments_of(node=node_get(identifier=self.kwargs["identifier"]))

    @extend_schema(
        parameters=[NODE_ID],
        request=CommentWriteSerializer,
        responses={201: CommentSerializer},
    )
    def post(self, request: Request, identifier: str) -> Response:
        data = CommentWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.comment_add(
            node=node_get(identifier=identifier),
            user=request.user,
            content=data.validated_data["content"],
        )
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class NodeCommentView(APIView):
    """One comment of a node; PATCH its content or DELETE it (author or staff)."""

    permission_classes = [IsOwnerOrStaff]

    def comment(self, request: Request, identifier: str, pk: str) -> Any:
        node = node_get(identifier=identifier)
        comment = services.comment_get(pk=pk)
        if comment.dbnode_id != node.pk:
            raise NotExistent(f"node {node.pk} has no comment {pk}")
        self.check_object_permissions(request, comment)
        return comment

    @extend_schema(parameters=[NODE_ID], responses={200: CommentSerializer})
    def get(self, request: Request, identifier: str, pk: str) -> Response:
        return Response(CommentSerializer(self.comment(request, identifier, pk)).data)

    @extend_schema(
        parameters=[NODE_ID],
        request=CommentWriteSerializer,
        responses={200: CommentSerializer},
    )
    def patch(self, request: Request, identifier: str, pk: str) -> Response:
        comment = self.comment(request, identifier, pk)
        data = CommentWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.comment_update(
            comment=comment, content=data.validated_data["content"]
        )
        return Response(CommentSerializer(comment).data)

    @extend_schema(parameters=[NODE_ID], responses={204: None})
    def delete(self, request: Request, identifier: str, pk: str) -> Response:
        services.comment_remove(comment=self.comment(request, identifier, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
