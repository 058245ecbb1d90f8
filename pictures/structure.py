"""StructureData as a crystallographer reads it: formula, cell, sites, and
files in the formats of the field (CIF, XYZ, XSF) written by ASE.

AiiDA keeps ``cell`` (three vectors, Angstrom), ``pbc1..3``, ``kinds``
(``name``, ``symbols``, ``weights``, ``mass``) and ``sites`` (``kind_name``,
``position`` in Angstrom) in the node's attributes.
"""

from __future__ import annotations

import io
from typing import Any

import ase
import ase.io
import numpy as np

from aiidasite.exceptions import InputValidationError
from nodes import types
from nodes.models import DbNode
from queries.graph import hill_formula

EXPORT_FORMATS = {
    "cif": "chemical/x-cif",
    "xyz": "chemical/x-xyz",
    "xsf": "text/plain",
}


def _cell(attributes: dict[str, Any]) -> np.ndarray:
    try:
        cell = np.array(attributes.get("cell"), dtype=float)
    except (TypeError, ValueError):
        cell = np.zeros(0)
    if cell.shape != (3, 3):
        raise InputValidationError("the structure has no 3x3 cell")
    return cell


def _angle(u: np.ndarray, v: np.ndarray) -> float:
    norms = np.linalg.norm(u) * np.linalg.norm(v)
    if norms == 0:
        return 0.0
    return float(np.degrees(np.arccos(np.clip(np.dot(u, v) / norms, -1, 1))))


def structure_summary(node: DbNode) -> dict[str, Any]:
    """``formula`` (Hill), ``cell`` (3x3, Angstrom), ``lengths`` (a, b, c in
    Angstrom), ``angles`` (alpha, beta, gamma in degrees), ``volume``
    (Angstrom^3), ``pbc`` (three booleans), ``dimensionality`` (periodic
    directions) and ``sites`` (``kind``, ``symbols``, ``position``).

    :raises InputValidationError: if the node is not a StructureData or has
        no 3x3 cell.
    """
    if not node.is_a(types.STRUCTURE):
        raise InputValidationError(f"node {node.pk} is not a StructureData")
    attributes = node.attributes or {}
    cell = _cell(attributes)
    a, b, c = cell
    pbc = [bool(attributes.get(f"pbc{i}", False)) for i in (1, 2, 3)]
    symbols = {
        kind.get("name"): kind.get("symbols") or []
        for kind in attributes.get("kinds") or []
        if isinstance(kind, dict)
    }
    sites = [
        {
            "kind": site.get("kind_name"),
            "symbols": "".join(symbols.get(site.get("kind_name"), [])) or "?",
            "position": [float(x) for x in site.get("position") or []],
        }
        for site in attributes.get("sites") or []
        if isinstance(site, dict)
    ]
    return {
        "formula": hill_formula(attributes),
        "cell": cell.tolist(),
        "lengths": [float(np.linalg.norm(v)) for v in cell],
        "angles": [_angle(b, c), _angle(a, c), _angle(a, b)],
        "volume": float(abs(np.linalg.det(cell))),
        "pbc": pbc,
        "dimensionality": sum(pbc),
        "sites": sites,
    }


def to_ase(node: DbNode) -> ase.Atoms:
    """The structure as ASE ``Atoms`` (cell, pbc, symbols, positions, masses).

    As AiiDA's ``StructureData.get_ase``, alloys and vacancies (kinds with
    several symbols or weights below one) cannot be converted.

    :raises InputValidationError: not a StructureData, no cell, or a kind
        ASE cannot hold.
    """
    summary = structure_summary(node)
    kinds = {kind["name"]: kind for kind in node.attributes.get("kinds") or []}
    symbols, masses = [], []
    for site in summary["sites"]:
        kind = kinds.get(site["kind"]) or {}
        if len(kind.get("symbols") or []) != 1 or sum(kind.get("weights") or [1]) < 1:
            raise InputValidationError(
                f"kind {site['kind']!r} is an alloy or has vacancies, "
                "which these file formats cannot hold"
            )
        symbols.append(kind["symbols"][0])
        masses.append(kind.get("mass"))
    atoms = ase.Atoms(
        symbols=symbols,
        positions=[site["position"] for site in summary["sites"]],
        cell=summary["cell"],
        pbc=summary["pbc"],
    )
    if all(mass is not None for mass in masses):
        atoms.set_masses(masses)
    return atoms


def structure_export(node: DbNode, fmt: str) -> bytes:
    """The structure as a ``cif``, ``xyz`` or ``xsf`` file, written by ASE.

    :raises InputValidationError: an unknown format, or a structure that
        :func:`to_ase` refuses.
    """
    if fmt not in EXPORT_FORMATS:
        raise InputValidationError(
            f"unknown structure format {fmt!r}; choose from {', '.join(EXPORT_FORMATS)}"
        )
    atoms = to_ase(node)
    if fmt == "cif":
        # ASE's CIF writer wants a binary stream, the others a text one.
        binary = io.BytesIO()
        ase.io.write(binary, atoms, format="cif")
        return binary.getvalue()
    text = io.StringIO()
    ase.io.write(text, atoms, format=fmt)
    return text.getvalue().encode()
