"""ArrayData's arrays: AiiDA keeps each as ``NAME.npy`` in the node's files,
with its shape in the attribute ``array|NAME``."""

from __future__ import annotations

import io

import numpy as np

from aiidasite.exceptions import InputValidationError
from nodes import services
from nodes.models import DbNode


def array_names(node: DbNode) -> list[str]:
    """The arrays the node declares, sorted."""
    return sorted(
        key.split("|", 1)[1]
        for key in (node.attributes or {})
        if key.startswith("array|")
    )


def node_array(node: DbNode, name: str) -> np.ndarray:
    """The array ``name`` of an ArrayData node (and subclasses).

    :raises InputValidationError: if the node has no such array or its file
        is not a NumPy array (pickled objects are refused).
    """
    if name not in array_names(node):
        raise InputValidationError(f"node {node.pk} has no array {name!r}")
    try:
        with services.node_file_open(node=node, path=f"{name}.npy") as handle:
            return np.load(io.BytesIO(handle.read()), allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise InputValidationError(
            f"node {node.pk}: array {name!r} is unreadable ({exc})"
        ) from None
