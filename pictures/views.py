"""REST views of pictures: a node's provenance graph and its downloads."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from nodes import services as node_services
from nodes.views import NODE_ID
from pictures import graph, services


class FormatParameterNegotiation(DefaultContentNegotiation):
    """JSON always: here ``?format=`` names the file wanted (svg, cif...),
    not one of DRF's renderers."""

    def select_renderer(self, request: Request, renderers: list, format_suffix=None):
        return renderers[0], renderers[0].media_type


class GraphQuerySerializer(serializers.Serializer):
    depth = serializers.IntegerField(min_value=0, max_value=graph.MAX_DEPTH, default=1)
    direction = serializers.ChoiceField(
        choices=["both", "ancestors", "descendants"], default="both"
    )
    link_types = serializers.CharField(
        required=False, help_text="comma-separated link types (all by default)"
    )
    format = serializers.ChoiceField(choices=["json", *graph.FORMATS], default="json")


class DownloadQuerySerializer(serializers.Serializer):
    format = serializers.CharField(
        help_text="StructureData: cif, xyz, xsf; BandsData: png, svg, json"
    )


def file_response(
    content: bytes, content_type: str, filename: str | None
) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    if filename:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class NodeGraphView(APIView):
    """A node's provenance neighbourhood: JSON nodes and edges, or drawn."""

    content_negotiation_class = FormatParameterNegotiation

    @extend_schema(
        parameters=[NODE_ID, GraphQuerySerializer],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "image/svg+xml"): OpenApiResponse(OpenApiTypes.BINARY),
        },
    )
    def get(self, request: Request, identifier: str) -> Any:
        query = GraphQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        options = query.validated_data
        node = node_services.node_get(identifier=identifier)
        provenance = services.node_graph(
            node=node,
            depth=options["depth"],
            ancestors=options["direction"] in ("both", "ancestors"),
            descendants=options["direction"] in ("both", "descendants"),
            link_types=options.get("link_types"),
        )
        fmt = options["format"]
        if fmt == "json":
            return Response(provenance.as_dict())
        content = services.graph_render(provenance, fmt)
        media = {"svg": "image/svg+xml", "png": "image/png", "dot": "text/vnd.graphviz"}
        # SVG shows in the browser (its nodes are links); the others download.
        name = None if fmt == "svg" else f"graph_{node.pk}.{fmt}"
        return file_response(content, media[fmt], name)


class NodeDownloadView(APIView):
    """A StructureData as CIF, XYZ or XSF; a BandsData's plot or numbers."""

    content_negotiation_class = FormatParameterNegotiation

    @extend_schema(
        parameters=[NODE_ID, DownloadQuerySerializer],
        responses={200: OpenApiResponse(OpenApiTypes.BINARY)},
    )
    def get(self, request: Request, identifier: str) -> Any:
        query = DownloadQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        node = node_services.node_get(identifier=identifier)
        download = services.node_download(node=node, fmt=query.validated_data["format"])
        inline = download.content_type.startswith("image/")
        return file_response(
            download.content,
            download.content_type,
            None if inline else download.filename,
        )
