"""REST views of computers (read-only: computers come with archives)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from computers import services
from computers.filters import ComputerFilterSet
from computers.serializers import ComputerSerializer


class ComputerListView(generics.ListAPIView):
    """Computers by label, with the number of nodes using each."""

    serializer_class = ComputerSerializer
    filterset_class = ComputerFilterSet
    ordering_fields = ["id", "label"]

    def get_queryset(self):
        return services.computer_list()


class ComputerDetailView(APIView):
    """One computer by label, pk or uuid."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "identifier",
                str,
                OpenApiParameter.PATH,
                description="label, pk or uuid",
            )
        ],
        responses={200: ComputerSerializer},
    )
    def get(self, request: Request, identifier: str) -> Response:
        computer = services.computer_get(identifier=identifier)
        computer.node_count = computer.dbnodes.count()
        return Response(ComputerSerializer(computer).data)
