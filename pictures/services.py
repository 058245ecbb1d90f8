"""What the views and commands call: one function per picture or file."""

from __future__ import annotations

from dataclasses import dataclass

from aiidasite.exceptions import InputValidationError
from nodes import types
from nodes.models import DbNode
from pictures import bands, graph, structure


@dataclass(frozen=True)
class Download:
    content: bytes
    content_type: str
    filename: str


def download_formats(node: DbNode) -> dict[str, str]:
    """The download formats of this node's type, each with its media type."""
    if node.is_a(types.STRUCTURE):
        return structure.EXPORT_FORMATS
    if node.is_a(types.BANDS):
        return bands.EXPORT_FORMATS
    return {}


def node_download(*, node: DbNode, fmt: str) -> Download:
    """A StructureData as ``cif``, ``xyz`` or ``xsf``; a BandsData's plot as
    ``png`` or ``svg`` or its numbers as ``json``.

    :raises InputValidationError: a format the node's type does not offer,
        or data that cannot be written in it.
    """
    formats = download_formats(node)
    if fmt not in formats:
        offered = ", ".join(formats) or "none"
        raise InputValidationError(
            f"node {node.pk} ({types.class_name(node.node_type)}) cannot be "
            f"downloaded as {fmt!r}; formats: {offered}"
        )
    if node.is_a(types.STRUCTURE):
        content = structure.structure_export(node, fmt)
    else:
        content = bands.bands_export(node, fmt)
    return Download(
        content, formats[fmt], f"{types.class_name(node.node_type)}_{node.pk}.{fmt}"
    )


def node_graph(
    *,
    node: DbNode,
    depth: int = 1,
    ancestors: bool = True,
    descendants: bool = True,
    link_types: list[str] | str | None = None,
) -> graph.ProvenanceGraph:
    """The node's neighbourhood (see :func:`pictures.graph.neighbourhood`)."""
    return graph.neighbourhood(
        node=node,
        depth=depth,
        ancestors=ancestors,
        descendants=descendants,
        link_types=graph.link_types_parse(link_types),
    )


def graph_render(provenance: graph.ProvenanceGraph, fmt: str) -> bytes:
    """The graph as ``svg``, ``png`` or ``dot`` (see :func:`graph.render`)."""
    return graph.render(provenance, fmt)
