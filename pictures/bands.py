"""Band structures (BandsData) plotted with matplotlib, and k-points
(KpointsData) described as a mesh or a list.

A BandsData keeps its ``bands`` array (k-points x bands, or spins x k-points
x bands) and ``kpoints`` array (fractional coordinates of the reciprocal
cell) as files, with ``labels``, ``label_numbers`` (the high-symmetry
points), ``cell`` and ``units`` in its attributes (AiiDA's
``aiida.orm.nodes.data.array.bands``).
"""

from __future__ import annotations

import io
import itertools
import json
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from aiidasite.exceptions import InputValidationError
from nodes import types
from nodes.models import DbNode
from pictures.arrays import array_names, node_array

PLOT_FORMATS = {"png": "image/png", "svg": "image/svg+xml"}
EXPORT_FORMATS = {**PLOT_FORMATS, "json": "application/json"}


def _path_positions(node: DbNode, count: int) -> tuple[np.ndarray, str]:
    """The x coordinate of each k-point along the path, and its unit.

    With a cell and k-points: the distance walked in reciprocal space
    (1/Angstrom, AiiDA's 2*pi convention), no distance being added between
    two consecutive high-symmetry points (a jump in the path, such as
    ``X|U``). Otherwise the k-point's index.
    """
    attributes = node.attributes or {}
    cell = attributes.get("cell")
    if "kpoints" not in array_names(node) or cell is None:
        return np.arange(count, dtype=float), "k-point index"
    kpoints = node_array(node, "kpoints")
    reciprocal = 2 * np.pi * np.linalg.inv(np.array(cell, dtype=float)).T
    cartesian = np.asarray(kpoints, dtype=float) @ reciprocal
    steps = np.linalg.norm(np.diff(cartesian, axis=0), axis=1)
    numbers = list(attributes.get("label_numbers") or [])
    for first, second in itertools.pairwise(numbers):
        if second == first + 1 and second - 1 < len(steps):
            steps[second - 1] = 0.0
    return np.concatenate([[0.0], np.cumsum(steps)]), "1/Å"


def bands_data(node: DbNode) -> dict[str, Any]:
    """The plot's numbers: ``x`` (one per k-point), ``x_units``, ``bands``
    (per spin, per band, one energy per k-point), ``units`` (energies) and
    ``labels`` (``[x, name]`` of each high-symmetry point; merged as
    ``X|U`` where the path jumps).

    :raises InputValidationError: not a BandsData, or no readable ``bands``.
    """
    if not node.is_a(types.BANDS):
        raise InputValidationError(f"node {node.pk} is not a BandsData")
    bands = np.asarray(node_array(node, "bands"), dtype=float)
    if bands.ndim == 2:
        bands = bands[np.newaxis]
    if bands.ndim != 3 or bands.shape[1] == 0:
        raise InputValidationError(f"node {node.pk}: bands of shape {bands.shape}")
    x, x_units = _path_positions(node, bands.shape[1])
    if len(x) != bands.shape[1]:
        x, x_units = np.arange(bands.shape[1], dtype=float), "k-point index"
    attributes = node.attributes or {}
    labels: list[list[Any]] = []
    for number, name in zip(
        attributes.get("label_numbers") or [],
        attributes.get("labels") or [],
        strict=False,
    ):
        if not 0 <= number < len(x):
            continue
        shown = "Γ" if str(name).upper() in ("GAMMA", "G") else str(name)
        if labels and abs(labels[-1][0] - x[number]) < 1e-9:
            if labels[-1][1] != shown:
                labels[-1][1] += f"|{shown}"
        else:
            labels.append([float(x[number]), shown])
    return {
        "x": x.tolist(),
        "x_units": x_units,
        "bands": [spin.T.tolist() for spin in bands],
        "units": attributes.get("units") or "eV",
        "labels": labels,
    }


def bands_figure(node: DbNode, *, title: str | None = None) -> Figure:
    """The band structure as a matplotlib figure (no pyplot state).

    :raises InputValidationError: as :func:`bands_data`.
    """
    data = bands_data(node)
    figure = Figure(figsize=(6.4, 4.8), dpi=100)
    axes = figure.add_subplot()
    colours = ("#1f4e9c", "#c0392b")
    for spin, bands in enumerate(data["bands"]):
        for band in bands:
            axes.plot(data["x"], band, color=colours[spin % 2], linewidth=1.2)
    for position, _ in data["labels"]:
        axes.axvline(position, color="#888888", linewidth=0.6)
    if data["labels"]:
        axes.set_xticks(
            [position for position, _ in data["labels"]],
            [name for _, name in data["labels"]],
        )
    else:
        axes.set_xlabel(data["x_units"])
    axes.set_xlim(data["x"][0], data["x"][-1])
    axes.set_ylabel(f"Energy ({data['units']})")
    axes.set_title(
        title or f"BandsData {node.pk}" + (f" {node.label}" if node.label else "")
    )
    axes.grid(axis="y", color="#eeeeee")
    figure.tight_layout()
    return figure


def bands_export(node: DbNode, fmt: str) -> bytes:
    """The plot as ``png`` or ``svg``, or its numbers as ``json``.

    :raises InputValidationError: an unknown format, or as :func:`bands_data`.
    """
    if fmt not in EXPORT_FORMATS:
        raise InputValidationError(
            f"unknown bands format {fmt!r}; choose from {', '.join(EXPORT_FORMATS)}"
        )
    if fmt == "json":
        return json.dumps(bands_data(node)).encode()
    buffer = io.BytesIO()
    bands_figure(node).savefig(buffer, format=fmt)
    return buffer.getvalue()


def kpoints_summary(node: DbNode) -> dict[str, Any]:
    """A KpointsData as ``{"mesh": [n1, n2, n3], "offset": [...]}`` or as
    ``{"kpoints": [[k1, k2, k3], ...], "labels": [[index, name], ...]}``
    (fractional coordinates); ``{}`` when it holds neither.

    :raises InputValidationError: not a KpointsData.
    """
    if not node.is_a(types.KPOINTS):
        raise InputValidationError(f"node {node.pk} is not a KpointsData")
    attributes = node.attributes or {}
    if "mesh" in attributes:
        return {
            "mesh": attributes["mesh"],
            "offset": attributes.get("offset") or [0, 0, 0],
        }
    if "kpoints" not in array_names(node):
        return {}
    return {
        "kpoints": np.asarray(node_array(node, "kpoints"), dtype=float).tolist(),
        "labels": [
            [number, name]
            for number, name in zip(
                attributes.get("label_numbers") or [],
                attributes.get("labels") or [],
                strict=False,
            )
        ],
    }
