"""A realistic demo graph: band-structure workflows on real crystals.

Each unit is what a ``PwBandsWorkChain`` leaves behind: a structure, its
parameters and k-points, a workchain that calls an SCF and a bands
calculation (a calcfunction computes the k-point path in between), their
outputs (parameters, retrieved folders with ``aiida.out``, and a BandsData
whose arrays are ``.npy`` files), and the outputs the workchain returns.
"""

from __future__ import annotations

import datetime
import itertools
import math
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from nodes import services, types
from nodes.services import NodeSpec

# Nodes one unit stores.
UNIT_SIZE = 14
# How far back in time the units are spread.
SPAN = datetime.timedelta(days=6)

HBAR2_OVER_2M = 3.80998  # eV * Angstrom^2, free-electron dispersion


@dataclass(frozen=True)
class Crystal:
    formula: str
    lattice: str  # "diamond", "zincblende", "rocksalt" or "fcc"
    a: float  # conventional lattice constant, Angstrom
    species: tuple[tuple[str, float], ...]  # (symbol, mass)


CRYSTALS = (
    Crystal("Si2", "diamond", 5.431, (("Si", 28.0855),)),
    Crystal("GaAs", "zincblende", 5.653, (("Ga", 69.723), ("As", 74.9216))),
    Crystal("NaCl", "rocksalt", 5.640, (("Na", 22.98977), ("Cl", 35.453))),
    Crystal("MgO", "rocksalt", 4.212, (("Mg", 24.305), ("O", 15.9994))),
    Crystal("Cu", "fcc", 3.615, (("Cu", 63.546),)),
    Crystal("Al", "fcc", 4.050, (("Al", 26.981538),)),
    Crystal("Ge2", "diamond", 5.658, (("Ge", 72.64),)),
    Crystal("C2", "diamond", 3.567, (("C", 12.0107),)),
)
STRAINS = (-0.01, 0.0, 0.01)


def fcc_cell(a: float) -> list[list[float]]:
    half = a / 2
    return [[0.0, half, half], [half, 0.0, half], [half, half, 0.0]]


def structure_attributes(crystal: Crystal, a: float) -> dict[str, Any]:
    """AiiDA's StructureData attributes for ``crystal`` at lattice constant ``a``."""
    first, *rest = crystal.species
    second = rest[0] if rest else first
    if crystal.lattice == "fcc":
        sites = [(first[0], [0.0, 0.0, 0.0])]
    elif crystal.lattice == "rocksalt":
        sites = [(first[0], [0.0, 0.0, 0.0]), (second[0], [a / 2, a / 2, a / 2])]
    else:  # diamond and zincblende: the second atom a quarter along the diagonal
        sites = [(first[0], [0.0, 0.0, 0.0]), (second[0], [a / 4, a / 4, a / 4])]
    return {
        "cell": fcc_cell(a),
        "pbc1": True,
        "pbc2": True,
        "pbc3": True,
        "kinds": [
            {"name": symbol, "symbols": [symbol], "weights": [1.0], "mass": mass}
            for symbol, mass in crystal.species
        ],
        "sites": [
            {"kind_name": name, "position": [round(x, 6) for x in position]}
            for name, position in sites
        ],
    }


def _cross(u: list[float], v: list[float]) -> list[float]:
    return [
        u[1] * v[2] - u[2] * v[1],
        u[2] * v[0] - u[0] * v[2],
        u[0] * v[1] - u[1] * v[0],
    ]


def reciprocal(cell: list[list[float]]) -> list[list[float]]:
    a1, a2, a3 = cell
    volume = sum(x * y for x, y in zip(a1, _cross(a2, a3), strict=True))
    factor = 2 * math.pi / volume
    return [
        [factor * c for c in _cross(a2, a3)],
        [factor * c for c in _cross(a3, a1)],
        [factor * c for c in _cross(a1, a2)],
    ]


# Gamma - X - W - L - Gamma, in reciprocal-lattice coordinates of the fcc cell.
PATH = (
    ("GAMMA", (0.0, 0.0, 0.0)),
    ("X", (0.5, 0.0, 0.5)),
    ("W", (0.5, 0.25, 0.75)),
    ("L", (0.5, 0.5, 0.5)),
    ("GAMMA", (0.0, 0.0, 0.0)),
)
POINTS_PER_SEGMENT = 10
BANDS = 8
POINTS = (len(PATH) - 1) * POINTS_PER_SEGMENT + 1


def kpoint_path() -> tuple[list[list[float]], list[list[Any]]]:
    """The path's points (fractional) and its labels ``[index, name]``."""
    points, labels = [], []
    for (name, start), (_, end) in itertools.pairwise(PATH):
        labels.append([len(points), name])
        for step in range(POINTS_PER_SEGMENT):
            t = step / POINTS_PER_SEGMENT
            points.append([s + (e - s) * t for s, e in zip(start, end, strict=True)])
    labels.append([len(points), PATH[-1][0]])
    points.append(list(PATH[-1][1]))
    return points, labels


def free_electron_bands(cell: list[list[float]], kpoints: list[list[float]]):
    """The lowest ``BANDS`` free-electron energies (eV) at each k-point."""
    b = reciprocal(cell)
    shells = list(itertools.product(range(-2, 3), repeat=3))
    bands = []
    for k in kpoints:
        energies = []
        for g in shells:
            q = [sum((k[i] + g[i]) * b[i][x] for i in range(3)) for x in range(3)]
            energies.append(HBAR2_OVER_2M * sum(c * c for c in q))
        energies.sort()
        bands.append([round(e, 6) for e in energies[:BANDS]])
    return bands


def npy(rows: list[list[float]]) -> bytes:
    """``rows`` as a NumPy ``.npy`` file of little-endian float64."""
    shape = (len(rows), len(rows[0]))
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}"
    # Magic (6) + version (2) + length (2) + header must be a multiple of 64.
    padding = 64 - (10 + len(header) + 1) % 64
    header = header + " " * padding + "\n"
    values = [value for row in rows for value in row]
    return (
        b"\x93NUMPY\x01\x00"
        + struct.pack("<H", len(header))
        + header.encode("latin1")
        + struct.pack(f"<{len(values)}d", *values)
    )


def pw_output(formula: str, kind: str, energy: float, seconds: float) -> bytes:
    return (
        f"     Program PWSCF v.7.2 starts on  1Jan2026\n"
        f"     {kind.upper()} calculation for {formula}\n"
        f"     number of k points=    {POINTS}\n"
        f"!    total energy              =   {energy / 13.605693:.8f} Ry\n"
        f"     PWSCF        :   {seconds:.2f}s CPU\n\n"
        f"   JOB DONE.\n"
    ).encode()


def finished(label: str, **extra: Any) -> dict[str, Any]:
    return {
        "process_state": "finished",
        "exit_status": 0,
        "process_label": label,
        "sealed": True,
        **extra,
    }


_cache: dict[tuple[str, float], tuple[bytes, bytes, float]] = {}


def _bands_files(crystal: Crystal, a: float) -> tuple[bytes, bytes, float]:
    key = (crystal.formula, a)
    if key not in _cache:
        points, _ = kpoint_path()
        bands = free_electron_bands(fcc_cell(a), points)
        _cache[key] = (npy(bands), npy(points), max(max(row) for row in bands))
    return _cache[key]


def unit(
    index: int, ctime: datetime.datetime
) -> tuple[list[NodeSpec], list[tuple[Any, Any, str, str]], dict[str, NodeSpec]]:
    """The nodes and links of one band-structure workflow run."""
    crystal = CRYSTALS[index % len(CRYSTALS)]
    strain = STRAINS[(index // len(CRYSTALS)) % len(STRAINS)]
    a = round(crystal.a * (1 + strain), 4)
    clock = itertools.count()

    def at() -> datetime.datetime:
        return ctime + datetime.timedelta(minutes=3 * next(clock))

    energy = -155.0 * len(structure_attributes(crystal, a)["sites"]) * (1 + strain)
    bands_npy, kpoints_npy, top = _bands_files(crystal, a)
    _, path_labels = kpoint_path()
    pw = "aiida.calculations:quantumespresso.pw"
    resources = {"num_machines": 1, "num_mpiprocs_per_machine": 2}
    node = {
        "structure": NodeSpec(
            types.STRUCTURE,
            attributes=structure_attributes(crystal, a),
            label=f"{crystal.formula} a={a}",
            description=f"{crystal.lattice} {crystal.formula}, strain {strain:+.0%}",
            ctime=at(),
        ),
        "parameters": NodeSpec(
            types.DICT,
            attributes={
                "CONTROL": {"calculation": "scf", "tprnfor": True},
                "SYSTEM": {"ecutwfc": 40.0, "ecutrho": 320.0, "occupations": "fixed"},
                "ELECTRONS": {"conv_thr": 1e-10, "mixing_beta": 0.7},
            },
            ctime=at(),
        ),
        "mesh": NodeSpec(
            types.KPOINTS,
            attributes={"mesh": [6, 6, 6], "offset": [0, 0, 0]},
            ctime=at(),
        ),
        "workchain": NodeSpec(
            types.WORKCHAIN,
            process_type="aiida.workflows:quantumespresso.pw.bands",
            attributes=finished("PwBandsWorkChain", stepper_state_info="3:results"),
            label=f"bands {crystal.formula}",
            ctime=at(),
        ),
        "scf": NodeSpec(
            types.CALCJOB,
            process_type=pw,
            attributes=finished(
                "PwCalculation", resources=resources, parser_name="quantumespresso.pw"
            ),
            label="scf",
            ctime=at(),
        ),
        "scf_parameters": NodeSpec(
            types.DICT,
            attributes={
                "energy": energy,
                "energy_units": "eV",
                "wall_time_seconds": 41.2,
            },
            ctime=at(),
        ),
        "scf_retrieved": NodeSpec(
            types.FOLDER,
            files={"aiida.out": pw_output(crystal.formula, "scf", energy, 41.2)},
            ctime=at(),
        ),
        "seekpath": NodeSpec(
            types.CALCFUNCTION,
            process_type="aiida.tools.data.array.kpoints.main:get_explicit_kpoints_path",
            attributes=finished("get_explicit_kpoints_path"),
            ctime=at(),
        ),
        "path": NodeSpec(
            types.KPOINTS,
            attributes={
                "array|kpoints": [POINTS, 3],
                "labels": [name for _, name in path_labels],
                "label_numbers": [number for number, _ in path_labels],
            },
            files={"kpoints.npy": kpoints_npy},
            ctime=at(),
        ),
        "bands_calc": NodeSpec(
            types.CALCJOB,
            process_type=pw,
            attributes=finished(
                "PwCalculation", resources=resources, parser_name="quantumespresso.pw"
            ),
            label="bands",
            ctime=at(),
        ),
        "bands": NodeSpec(
            types.BANDS,
            attributes={
                "array|bands": [POINTS, BANDS],
                "array|kpoints": [POINTS, 3],
                "units": "eV",
                "labels": [name for _, name in path_labels],
                "label_numbers": [number for number, _ in path_labels],
                "cell": fcc_cell(a),
            },
            files={"bands.npy": bands_npy, "kpoints.npy": kpoints_npy},
            label=f"{crystal.formula} bands",
            ctime=at(),
        ),
        "bands_parameters": NodeSpec(
            types.DICT,
            attributes={"highest_band_energy": top, "energy_units": "eV"},
            ctime=at(),
        ),
        "bands_retrieved": NodeSpec(
            types.FOLDER,
            files={"aiida.out": pw_output(crystal.formula, "bands", energy, 63.9)},
            ctime=at(),
        ),
        "energy": NodeSpec(types.FLOAT, attributes={"value": energy}, ctime=at()),
    }
    n = node
    links = [
        (n["structure"], n["workchain"], "structure", "input_work"),
        (n["parameters"], n["workchain"], "parameters", "input_work"),
        (n["workchain"], n["scf"], "scf", "call_calc"),
        (n["structure"], n["scf"], "structure", "input_calc"),
        (n["parameters"], n["scf"], "parameters", "input_calc"),
        (n["mesh"], n["scf"], "kpoints", "input_calc"),
        (n["scf"], n["scf_parameters"], "output_parameters", "create"),
        (n["scf"], n["scf_retrieved"], "retrieved", "create"),
        (n["workchain"], n["seekpath"], "seekpath", "call_calc"),
        (n["structure"], n["seekpath"], "structure", "input_calc"),
        (n["seekpath"], n["path"], "explicit_kpoints", "create"),
        (n["workchain"], n["bands_calc"], "bands", "call_calc"),
        (n["structure"], n["bands_calc"], "structure", "input_calc"),
        (n["parameters"], n["bands_calc"], "parameters", "input_calc"),
        (n["path"], n["bands_calc"], "kpoints", "input_calc"),
        (n["bands_calc"], n["bands"], "output_band", "create"),
        (n["bands_calc"], n["bands_parameters"], "output_parameters", "create"),
        (n["bands_calc"], n["bands_retrieved"], "retrieved", "create"),
        (n["seekpath"], n["energy"], "result", "create"),
        (n["workchain"], n["bands"], "band_structure", "return"),
        (n["workchain"], n["scf_parameters"], "scf_parameters", "return"),
        (n["workchain"], n["bands_parameters"], "band_parameters", "return"),
    ]
    return list(node.values()), links, node


def demo_graph_create(
    *,
    user: Any,
    size: int,
    now: datetime.datetime,
    progress: Callable[[int], None] | None = None,
) -> dict[str, list[int]]:
    """Store about ``size`` nodes of band-structure workflows, spread over the
    days before ``now``; returns the pks of structures, bands and workchains.

    Units are stored in batches through :func:`services.nodes_store_bulk`.
    """
    units = max(1, math.ceil(size / UNIT_SIZE))
    made: dict[str, list[int]] = {"structure": [], "bands": [], "workchain": []}
    for batch in _batches(range(units), 25):
        specs, links, named = [], [], []
        for index in batch:
            start = now - SPAN + SPAN * (index / units)
            nodes, unit_links, by_name = unit(index, start)
            specs.extend(nodes)
            links.extend(unit_links)
            named.append(by_name)
        pks = services.nodes_store_bulk(user=user, nodes=specs, links=links)
        pk_of = {id(spec): pk for spec, pk in zip(specs, pks, strict=True)}
        for by_name in named:
            for key, pks in made.items():
                pks.append(pk_of[id(by_name[key])])
        if progress:
            progress(len(batch))
    return made


def _batches(items: range, size: int) -> Iterator[range]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
