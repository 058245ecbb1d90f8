"""``{% node_panels node %}``: the pictures on a node's admin page."""

from __future__ import annotations

from typing import Any

from django import template

from nodes.models import DbNode
from pictures.panels import node_panels as build_panels

register = template.Library()


@register.inclusion_tag("pictures/node_panels.html", takes_context=True)
def node_panels(context: dict[str, Any], node: DbNode) -> dict[str, Any]:
    request = context.get("request")
    return build_panels(node, request.GET if request is not None else None)
