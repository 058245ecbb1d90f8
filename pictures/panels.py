"""What a node's admin page shows above its fields: the provenance graph,
and by type a structure, a band plot, k-points or a process summary.

Each panel is built here as plain data; the templates only lay it out. A
panel that cannot be built (a structure without a cell, no Graphviz) says
why instead of breaking the page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils.safestring import mark_safe

from aiidasite.exceptions import AiidaSiteError
from nodes import services, types
from nodes.models import DbNode, LinkType
from pictures import bands, graph, structure

# Links to the page of the node at either end of a link.
CALL_TYPES = ("call_calc", "call_work")
INPUT_TYPES = ("input_calc", "input_work")
OUTPUT_TYPES = ("create", "return")
# Rows of a k-point list shown before "... and N more".
KPOINT_ROWS = 30
# A process page shows its first log records; the rest by process report.
LOG_ROWS = 200
_XML_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.S)
DIRECTIONS = ("both", "ancestors", "descendants")


def graph_options(query: Mapping[str, str]) -> dict[str, Any]:
    """The graph's depth, direction and link types from the page's query
    (``graph_depth``, ``graph_direction``, ``graph_links``), with defaults."""
    depth = query.get("graph_depth", "1")
    direction = query.get("graph_direction", "both")
    links = query.get("graph_links", "")
    return {
        "depth": int(depth) if depth.isdigit() else depth,
        "direction": direction if direction in DIRECTIONS else "both",
        "link_types": [name for name in links.split(",") if name],
    }


def _choices(options: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Links that redraw the graph with one option changed."""

    def href(**change: Any) -> str:
        chosen = {**options, **change}
        query = {
            "graph_depth": chosen["depth"],
            "graph_direction": chosen["direction"],
            "graph_links": ",".join(chosen["link_types"]),
        }
        return "?" + urlencode(query) + "#graph-panel"

    wanted = options["link_types"] or list(LinkType.values)
    return {
        "depth": [
            {"name": str(d), "href": href(depth=d), "on": d == options["depth"]}
            for d in range(1, 5)
        ],
        "direction": [
            {"name": d, "href": href(direction=d), "on": d == options["direction"]}
            for d in DIRECTIONS
        ],
        "links": [
            {
                "name": name,
                "on": name in wanted,
                # A click turns one type off (or back on); none left means all.
                "href": href(
                    link_types=[t for t in wanted if t != name]
                    if name in wanted
                    else [*wanted, name]
                ),
            }
            for name in LinkType.values
        ],
    }


def graph_panel(node: DbNode, query: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The inline SVG of the node's neighbourhood, links that redraw it with
    another depth, direction or link types, and links to the API's drawing."""
    options = graph_options(query or {})
    url = reverse("node-graph", args=[node.pk])
    panel: dict[str, Any] = {
        "links": {f"depth {d}": f"{url}?format=svg&depth={d}" for d in (2, 3)},
        "json": url,
        "choices": _choices(options),
    }
    try:
        provenance = graph.neighbourhood(
            node=node,
            depth=options["depth"],
            ancestors=options["direction"] != "descendants",
            descendants=options["direction"] != "ancestors",
            link_types=options["link_types"] or None,
        )
        svg = graph.render(provenance, "svg").decode()
    except AiidaSiteError as exc:
        panel["error"] = str(exc)
        return panel
    # Inline, so that a click on a node follows its link (an <img> would not);
    # the markup is Graphviz's, which escapes the labels it draws.
    panel["svg"] = mark_safe(_XML_PROLOGUE.sub("", svg, count=1))
    panel["size"] = (len(provenance.nodes), len(provenance.edges))
    panel["truncated"] = provenance.truncated
    return panel


def _end(link: Any, end: str) -> dict[str, Any]:
    other = getattr(link, end)
    return {
        "type": link.type,
        "label": link.label,
        "pk": other.pk,
        "class_name": types.class_name(other.node_type),
        "node_label": other.label,
        "url": reverse("admin:nodes_dbnode_change", args=[other.pk]),
    }


def process_panel(node: DbNode) -> dict[str, Any]:
    """State, exit status and message, and the process's neighbours by role."""
    attributes = node.attributes or {}
    incoming, outgoing = services.node_links(node=node)
    info = {
        "process_state": attributes.get("process_state"),
        "exit_status": attributes.get("exit_status"),
        "process_label": attributes.get("process_label"),
    }
    return {
        **info,
        "failed": graph.failed(info),
        "exit_message": attributes.get("exit_message"),
        "exception": attributes.get("exception"),
        "process_type": node.process_type,
        "inputs": [_end(li, "input") for li in incoming if li.type in INPUT_TYPES],
        "outputs": [_end(li, "output") for li in outgoing if li.type in OUTPUT_TYPES],
        "caller": [_end(li, "input") for li in incoming if li.type in CALL_TYPES],
        "called": [_end(li, "output") for li in outgoing if li.type in CALL_TYPES],
        "logs": list(
            node.dblogs.order_by("time", "id").values(
                "time", "levelname", "loggername", "message"
            )[:LOG_ROWS]
        ),
        "log_count": node.dblogs.count(),
    }


def computer_panel(node: DbNode) -> dict[str, Any] | None:
    """The computer a calculation ran on or a code sits on, if any."""
    computer = node.dbcomputer
    if computer is None:
        return None
    try:
        url = reverse("admin:computers_dbcomputer_change", args=[computer.pk])
    except NoReverseMatch:
        url = None
    return {
        "label": computer.label,
        "hostname": computer.hostname,
        "scheduler_type": computer.scheduler_type,
        "transport_type": computer.transport_type,
        "url": url,
    }


def structure_panel(node: DbNode) -> dict[str, Any]:
    try:
        summary = structure.structure_summary(node)
    except AiidaSiteError as exc:
        return {"error": str(exc)}
    summary["downloads"] = _downloads(node, structure.EXPORT_FORMATS)
    return summary


def bands_panel(node: DbNode) -> dict[str, Any]:
    base = reverse("node-download", args=[node.pk])
    return {
        "plot": f"{base}?format=svg",
        "downloads": _downloads(node, bands.EXPORT_FORMATS),
    }


def kpoints_panel(node: DbNode) -> dict[str, Any]:
    try:
        summary = bands.kpoints_summary(node)
    except AiidaSiteError as exc:
        return {"error": str(exc)}
    points = summary.get("kpoints") or []
    names = dict(summary.get("labels") or [])
    summary["rows"] = [
        {"index": i, "point": point, "name": names.get(i, "")}
        for i, point in enumerate(points[:KPOINT_ROWS])
    ]
    summary["more"] = max(0, len(points) - KPOINT_ROWS)
    summary["count"] = len(points)
    return summary


def _downloads(node: DbNode, formats: dict[str, str]) -> list[tuple[str, str]]:
    base = reverse("node-download", args=[node.pk])
    return [(fmt.upper(), f"{base}?format={fmt}") for fmt in formats]


def node_panels(node: DbNode, query: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every panel that fits the node's type, keyed by name; ``query`` is the
    page's query string (the graph's options)."""
    panels: dict[str, Any] = {
        "node": node,
        "graph": graph_panel(node, query),
        "computer": computer_panel(node),
    }
    if node.is_process:
        panels["process"] = process_panel(node)
    if node.is_a(types.STRUCTURE):
        panels["structure"] = structure_panel(node)
    if node.is_a(types.BANDS):
        panels["bands"] = bands_panel(node)
    if node.is_a(types.KPOINTS):
        panels["kpoints"] = kpoints_panel(node)
    panels["groups"] = [
        {
            "label": group.label,
            "type_string": group.type_string,
            "url": reverse("admin:nodes_dbgroup_change", args=[group.pk]),
        }
        for group in node.dbgroups.order_by("label")
    ]
    return panels
