"""A node's provenance neighbourhood, and that neighbourhood drawn by Graphviz.

The walk reads links one level at a time (one query per chunk of a level),
never one query per node. Drawing uses Graphviz's ``dot`` layout through the
``graphviz`` package, as ``verdi node graph generate`` does; the ``dot``
program comes from the operating system (Debian's ``graphviz`` package).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import graphviz
from django.urls import reverse

from aiidasite.exceptions import AiidaSiteError, InputValidationError
from nodes import bulk, types
from nodes.models import DbLink, DbNode, LinkType

# Beyond this many nodes the walk stops and the graph says it was cut.
MAX_NODES = 2000
MAX_DEPTH = 50
FORMATS = ("svg", "png", "dot")

# Fill colours by kind, in the spirit of verdi's graphs: data ellipses,
# calculations and workflows as boxes.
STYLE = {
    "data": {"shape": "ellipse", "fillcolor": "#8cd499", "color": "#4a9b5a"},
    "calculation": {"shape": "rectangle", "fillcolor": "#de707f", "color": "#a8404f"},
    "workflow": {"shape": "rectangle", "fillcolor": "#e38851", "color": "#a85a26"},
    "process": {"shape": "rectangle", "fillcolor": "#d0d0d0", "color": "#808080"},
}
EDGE_STYLE = {
    LinkType.CREATE: {"style": "solid", "color": "#000000"},
    LinkType.RETURN: {"style": "dashed", "color": "#404040"},
    LinkType.INPUT_CALC: {"style": "solid", "color": "#000000"},
    LinkType.INPUT_WORK: {"style": "dashed", "color": "#404040"},
    LinkType.CALL_CALC: {"style": "dotted", "color": "#000000"},
    LinkType.CALL_WORK: {"style": "dotted", "color": "#000000"},
}


class GraphvizMissing(AiidaSiteError):
    """Graphviz's ``dot`` program is not installed."""

    status_code = 503


@dataclass
class ProvenanceGraph:
    """Nodes keyed by pk (``id``, ``uuid``, ``node_type``, ``class_name``,
    ``kind``, ``label``, ``process_state``, ``exit_status``) and edges
    (``source``, ``target``, ``type``, ``label``) around ``root``."""

    root: int
    nodes: dict[int, dict[str, Any]] = field(default_factory=dict)
    edges: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "truncated": self.truncated,
            "nodes": [self.nodes[pk] for pk in sorted(self.nodes)],
            "edges": sorted(
                self.edges,
                key=lambda e: (e["source"], e["target"], e["type"], e["label"]),
            ),
        }


def kind_of(node_type: str) -> str:
    """``data``, ``calculation``, ``workflow`` or (a bare process) ``process``."""
    if types.is_calculation(node_type):
        return "calculation"
    if types.is_workflow(node_type):
        return "workflow"
    if types.is_process(node_type):
        return "process"
    return "data"


def link_types_parse(value: str | Iterable[str] | None) -> list[str]:
    """Link types from ``"create,return"`` or a list; all of them when empty.

    :raises InputValidationError: for a name that is not a link type.
    """
    if value is None or value == "":
        return list(LinkType.values)
    names = value.split(",") if isinstance(value, str) else list(value)
    names = [name.strip().lower() for name in names if name.strip()]
    unknown = sorted(set(names) - set(LinkType.values))
    if unknown:
        raise InputValidationError(
            f"unknown link type {', '.join(unknown)}; "
            f"choose from {', '.join(LinkType.values)}"
        )
    return names or list(LinkType.values)


def _step(frontier: set[int], *, backwards: bool, link_types: list[str]) -> list:
    """Links one step from ``frontier``, each with the node at its far end."""
    near = "output_id" if backwards else "input_id"
    rows = []
    for chunk in bulk.chunked(frontier):
        rows.extend(
            DbLink.objects.filter(**{f"{near}__in": chunk}, type__in=link_types)
            .values_list("input_id", "output_id", "type", "label")
            .order_by()
        )
    return [(row, row[0] if backwards else row[1]) for row in rows]


def neighbourhood(
    *,
    node: DbNode,
    depth: int = 1,
    ancestors: bool = True,
    descendants: bool = True,
    link_types: Iterable[str] | None = None,
    max_nodes: int = MAX_NODES,
) -> ProvenanceGraph:
    """The nodes within ``depth`` links of ``node``, walking incoming links
    (ancestors) and/or outgoing links (descendants) of ``link_types``.

    Each direction walks on its own from the root, as
    ``verdi node graph generate`` does with its ancestor and descendant
    depths. Past ``max_nodes`` nodes the walk stops and ``truncated`` is set.

    :raises InputValidationError: a depth outside 0..50 or an unknown link type.
    """
    if isinstance(depth, bool) or not isinstance(depth, int):
        raise InputValidationError("the depth is a whole number")
    if not 0 <= depth <= MAX_DEPTH:
        raise InputValidationError(f"the depth is between 0 and {MAX_DEPTH}")
    wanted = link_types_parse(link_types if link_types is None else list(link_types))
    graph = ProvenanceGraph(root=node.pk)
    seen = {node.pk}
    edges: set[tuple[int, int, str, str]] = set()
    for backwards, walk in ((True, ancestors), (False, descendants)):
        frontier = {node.pk} if walk else set()
        for _ in range(depth):
            if not frontier or graph.truncated:
                break
            found = set()
            for edge, far in _step(frontier, backwards=backwards, link_types=wanted):
                if far not in seen and len(seen) >= max_nodes:
                    graph.truncated = True
                    continue
                edges.add(edge)
                if far not in seen:
                    seen.add(far)
                    found.add(far)
            frontier = found
    graph.nodes = _describe(seen)
    graph.edges = [
        {"source": s, "target": t, "type": kind, "label": label}
        for s, t, kind, label in edges
    ]
    return graph


def _describe(pks: set[int]) -> dict[int, dict[str, Any]]:
    described = {}
    for chunk in bulk.chunked(pks):
        rows = DbNode.objects.filter(pk__in=chunk).values_list(
            "id",
            "uuid",
            "node_type",
            "label",
            "attributes__process_state",
            "attributes__exit_status",
            "attributes__process_label",
        )
        for pk, uuid, node_type, label, state, exit_status, process_label in rows:
            described[pk] = {
                "id": pk,
                "uuid": str(uuid),
                "node_type": node_type,
                "class_name": types.class_name(node_type),
                "kind": kind_of(node_type),
                "label": label,
                "process_label": process_label,
                "process_state": state,
                "exit_status": exit_status,
            }
    return described


def _node_text(info: dict[str, Any]) -> str:
    title = info["process_label"] or info["class_name"]
    lines = [f"{title} ({info['id']})"]
    if info["process_label"] and info["process_label"] != info["class_name"]:
        lines.append(info["class_name"])
    if info["label"]:
        lines.append(info["label"][:40])
    if info["kind"] != "data" and info["process_state"]:
        state = str(info["process_state"]).capitalize()
        if info["exit_status"] is not None:
            state += f" [{info['exit_status']}]"
        lines.append(state)
    return "\n".join(lines)


def failed(info: dict[str, Any]) -> bool:
    """A process that finished with a non-zero exit status, or was excepted
    or killed."""
    state = info.get("process_state")
    if state in ("excepted", "killed"):
        return True
    return state == "finished" and info.get("exit_status") not in (0, None)


def to_dot(graph: ProvenanceGraph) -> graphviz.Digraph:
    """The graph in Graphviz's terms: each node links to its admin page."""
    dot = graphviz.Digraph(
        "provenance",
        graph_attr={"rankdir": "TB", "bgcolor": "transparent"},
        node_attr={"style": "filled", "fontname": "DejaVu Sans", "fontsize": "10"},
        edge_attr={"fontname": "DejaVu Sans", "fontsize": "8"},
    )
    for pk, info in sorted(graph.nodes.items()):
        style = dict(STYLE[info["kind"]])
        if failed(info):
            style.update(color="#b00000", penwidth="3")
        if pk == graph.root:
            style.update(penwidth="3", style="filled,bold")
        dot.node(
            str(pk),
            _node_text(info),
            URL=reverse("admin:nodes_dbnode_change", args=[pk]),
            tooltip=f"{info['node_type']} {info['uuid']}",
            target="_top",
            **style,
        )
    for edge in sorted(graph.edges, key=lambda e: (e["source"], e["target"])):
        dot.edge(
            str(edge["source"]),
            str(edge["target"]),
            label=f"{edge['type'].upper()}\n{edge['label']}",
            **EDGE_STYLE.get(edge["type"], {}),
        )
    return dot


def render(graph: ProvenanceGraph, fmt: str) -> bytes:
    """The graph as ``svg``, ``png`` or ``dot`` source, in bytes.

    :raises InputValidationError: for another format.
    :raises GraphvizMissing: when the ``dot`` program is not installed.
    """
    if fmt not in FORMATS:
        raise InputValidationError(
            f"unknown graph format {fmt!r}; choose from {', '.join(FORMATS)}"
        )
    dot = to_dot(graph)
    if fmt == "dot":
        return dot.source.encode()
    try:
        return dot.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise GraphvizMissing(
            "drawing graphs needs Graphviz's 'dot' program "
            "(Debian: apt-get install graphviz)"
        ) from None
