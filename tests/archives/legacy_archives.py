"""Small archives in each legacy layout (``0.1`` ... ``0.13``), built here.

One provenance graph — a code on a computer, a structure and parameters into
a calculation job called by a work chain, its outputs created and returned,
two groups, a log record and a comment — written as each version of AiiDA
wrote it: entity names, field names, node and link types, attribute
conventions and group types of that version. ``FINAL`` is the same graph as
the last version has it, which an import of any of them must give.
"""

from __future__ import annotations

import copy
import io
import json
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

VERSIONS = [f"0.{minor}" for minor in range(1, 14)]

USER = {
    "email": "scientist@example.org",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "institution": "EPFL",
}
COMPUTER_UUID = "4f33c6fd-b624-47df-9ffb-a58f05d323af"
CODE = "c1879cbe-8f6f-4343-b3f7-df8ecbd4d403"
STRUCTURE = "b4197406-cf07-4c89-a6da-a1f6ec75ab80"
PARAMETERS = "e5098e78-8430-4e2d-a494-357686eb63dc"
CALCULATION = "3b429fd4-601c-4473-add5-7cbb76cf38cb"
RESULTS = "37007e25-f37c-47dd-b2af-b17748274e6f"
RETRIEVED = "f75aaf40-f952-488c-be84-488a183a03d4"
WORKFLOW = "9d73cf46-b8df-4fbb-af66-ac797194c24f"
TRAJECTORY = "d60b7c8a-4808-4f69-a72c-670df4d63700"
PROJECT_GROUP = "bde385c0-c1d5-4c6e-95db-b1b26026c7fc"
PSEUDO_GROUP = "ad9a83a1-7c09-4ecc-8ac7-b88afdbecce5"
LOG_UUID = "8a1e9d5f-3c1b-4e58-9a9e-0b0c6f3d2a11"
COMMENT_UUID = "2b5abaed-d765-473b-8716-849024f10779"

CELL = [[4.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 4.0]]
FILES = {
    CALCULATION: {
        "raw_input/aiida.in": b"&control\n/\n",
        "path/.aiida/calc.json": b"{}",
    },
    RETRIEVED: {
        "path/aiida.out": b"JOB DONE\n",
        "path/out/data.bin": bytes(range(256)),
    },
    TRAJECTORY: {"path/positions.npy": b"positions"},
}
EMPTY_FOLDERS = {RETRIEVED: ["path/empty/"]}


def symbols_npy() -> bytes:
    """The ``symbols.npy`` a v0.3 trajectory kept its symbols in."""
    import numpy

    handle = io.BytesIO()
    numpy.save(handle, numpy.array(["Si", "O"]))
    return handle.getvalue()


# The graph as the last legacy version (0.13) holds it; pks are the archive's.
FINAL = {
    "nodes": {
        CODE: (
            1,
            "data.core.code.Code.",
            "",
            {"input_plugin": "quantumespresso.pw", "remote_exec_path": "/bin/pw.x"},
        ),
        STRUCTURE: (
            2,
            "data.core.structure.StructureData.",
            "",
            {
                "cell": CELL,
                "pbc1": True,
                "pbc2": True,
                "pbc3": True,
                "kinds": [
                    {"name": "Si", "symbols": ["Si"], "weights": [1.0], "mass": 28.085}
                ],
                "sites": [{"kind_name": "Si", "position": [0.0, 0.0, 0.0]}],
            },
        ),
        PARAMETERS: (
            3,
            "data.core.dict.Dict.",
            "",
            {"ecutwfc": 30.0, "started": "2019-01-01T10:00:00.000000+00:00"},
        ),
        CALCULATION: (
            4,
            "process.calculation.calcjob.CalcJobNode.",
            "aiida.calculations:quantumespresso.pw",
            {
                "resources": {"num_machines": 1},
                "parser_name": "quantumespresso.pw",
                "process_state": "finished",
                "exit_status": 0,
                "process_label": "Legacy JobCalculation",
                "sealed": True,
            },
        ),
        RESULTS: (5, "data.core.dict.Dict.", "", {"energy": -10.5}),
        RETRIEVED: (6, "data.core.folder.FolderData.", "", {}),
        TRAJECTORY: (
            8,
            "data.core.array.trajectory.TrajectoryData.",
            "",
            {"array|positions": [2, 2, 3], "symbols": ["Si", "O"]},
        ),
        WORKFLOW: (
            7,
            "process.workflow.workchain.WorkChainNode.",
            "",
            {
                "process_label": "PwWorkChain",
                "process_state": "finished",
                "exit_status": 0,
                "sealed": True,
            },
        ),
    },
    "links": {
        (CODE, CALCULATION, "code", "input_calc"),
        (STRUCTURE, CALCULATION, "structure", "input_calc"),
        (PARAMETERS, CALCULATION, "parameters", "input_calc"),
        (CALCULATION, RESULTS, "output_parameters", "create"),
        (CALCULATION, RETRIEVED, "retrieved", "create"),
        (WORKFLOW, CALCULATION, "CALL", "call_calc"),
        (WORKFLOW, RESULTS, "result", "return"),
        (STRUCTURE, WORKFLOW, "structure", "input_work"),
    },
    "groups": {
        PROJECT_GROUP: ("project", "core", {STRUCTURE, RESULTS}),
        PSEUDO_GROUP: ("pseudos", "core.upf", set()),
    },
    "computer": ("cluster", "core.slurm", "core.ssh"),
}


def minor(version: str) -> int:
    return int(version.split(".")[1])


def entity(version: str, name: str) -> str:
    """The key of an entity in ``export_data``: Django's model path before v0.3."""
    if minor(version) == 1:
        return f"aiida.djsite.db.models.Db{name}"
    if minor(version) == 2:
        return f"aiida.backends.djsite.db.models.Db{name}"
    return name


def node_type(version: str, final: str, uuid: str, attributes: dict) -> str:
    """A node's type string as ``version`` wrote it."""
    v = minor(version)
    if v >= 12:
        return final
    if final.startswith("data.core."):
        old = "data." + final[len("data.core.") :]
    else:
        old = final
    if v >= 4:
        return old
    if old == "data.code.Code.":
        return "code.Code."
    if old == "data.dict.Dict.":
        return "data.parameter.ParameterData."
    if uuid == CALCULATION:
        return "calculation.job.quantumespresso.pw.PwCalculation."
    if uuid == WORKFLOW:
        return "calculation.work.WorkCalculation."
    return old


def node_attributes(version: str, uuid: str, final: dict) -> tuple[dict, dict]:
    """A node's attributes and their conversion structure as ``version`` wrote them."""
    v = minor(version)
    attributes = copy.deepcopy(final)
    conversion = {key: None for key in attributes}
    if uuid == PARAMETERS and v <= 5:
        attributes["started"] = "2019-01-01T10:00:00.000000"
        conversion["started"] = "date"
    if uuid in (CALCULATION, WORKFLOW) and v <= 6:
        del attributes["sealed"]
        attributes["_sealed"] = True
    if uuid == CALCULATION and v <= 5:
        for key in ("process_state", "exit_status"):
            del attributes[key]
        attributes["state"] = "FINISHED"
        attributes["process_label"] = "PwCalculation"
    if uuid in (CALCULATION, WORKFLOW) and v <= 3:
        attributes["_process_label"] = attributes.pop("process_label")
    if uuid == TRAJECTORY and v <= 3:
        del attributes["symbols"]
        attributes["array|symbols"] = [2]
    if uuid == CALCULATION and v <= 3:
        attributes["jobresource_params"] = attributes.pop("resources")
        attributes["parser"] = attributes.pop("parser_name")
    conversion = {key: conversion.get(key) for key in attributes}
    return attributes, conversion


def link_type(version: str, final: str) -> str | None:
    v = minor(version)
    if v <= 2:
        return None
    if v == 3:
        return {
            "input_calc": "inputlink",
            "input_work": "inputlink",
            "create": "createlink",
            "return": "returnlink",
            "call_calc": "calllink",
        }[final]
    return final


def build(version: str) -> tuple[dict, dict]:
    """``metadata.json`` and ``data.json`` of the graph as ``version`` wrote them."""
    v = minor(version)
    nodes, attributes, extras, conversions = {}, {}, {}, {}
    for uuid, (pk, final_type, process_type, final_attributes) in FINAL[
        "nodes"
    ].items():
        fields = {
            "uuid": uuid,
            "label": f"node {pk}",
            "description": "",
            "ctime": f"2019-01-0{pk}T10:00:00.000000",
            "mtime": f"2019-01-0{pk}T11:00:00.000000",
            "user": 1,
            "dbcomputer": 1 if uuid in (CODE, CALCULATION) else None,
        }
        kind = node_type(version, final_type, uuid, final_attributes)
        if v <= 3:
            fields["type"] = kind
        else:
            fields["node_type"] = kind
            fields["process_type"] = process_type
        if v <= 4:
            fields.update(nodeversion=1, public=False)
        nodes[str(pk)] = fields
        attributes[str(pk)], conversions[str(pk)] = node_attributes(
            version, uuid, final_attributes
        )
        extras[str(pk)] = {"tag": "kept"} if uuid == STRUCTURE else {}
    if v >= 12:
        scheduler, transport = "core.slurm", "core.ssh" if v >= 13 else "ssh"
    else:
        scheduler, transport = "slurm", "ssh"
    metadata_field = {"workdir": "/scratch/{username}/"}
    computer = {
        "uuid": COMPUTER_UUID,
        "label" if v >= 11 else "name": "cluster",
        "hostname": "cluster.example.org",
        "description": "",
        "scheduler_type": scheduler,
        "transport_type": transport,
        "metadata": json.dumps(metadata_field) if v <= 3 else metadata_field,
    }
    if v <= 4:
        computer["transport_params"] = "{}" if v <= 3 else {}
    if v <= 3:
        computer["enabled"] = True
    groups = {}
    for pk, (uuid, (label, final_kind, _)) in enumerate(FINAL["groups"].items(), 1):
        kinds = {"core": ("", "user"), "core.upf": ("data.upf.family", "data.upf")}
        kind = final_kind if v >= 9 else kinds[final_kind][v >= 4]
        group = {"uuid": uuid, "user": 1, "time": "2020-04-04T21:43:47.644608"}
        group.update(
            {"name": label, "type": kind}
            if v <= 3
            else {"label": label, "type_string": kind}
        )
        group["description"] = ""
        groups[str(pk)] = group
    export_data = {
        entity(version, "User"): {"1": USER},
        entity(version, "Computer"): {"1": computer},
        entity(version, "Node"): nodes,
        entity(version, "Group"): groups,
    }
    if v >= 4:
        export_data["Log"] = {
            "1": {
                "uuid": LOG_UUID,
                "time": "2019-01-04T10:30:00.000000",
                "loggername": "aiida.calculation",
                "levelname": "WARNING",
                "message": "SCF did not converge quickly",
                "metadata": {},
                "dbnode": 4,
            }
        }
        export_data["Comment"] = {
            "1": {
                "uuid": COMMENT_UUID,
                "ctime": "2019-01-05T10:00:00.000000",
                "mtime": "2019-01-05T10:00:00.000000",
                "content": "used for the paper",
                "dbnode": 4,
                "user": 1,
            }
        }
    links = []
    for source, target, label, final_kind in sorted(FINAL["links"]):
        link = {"input": source, "output": target, "label": label}
        if label == "result" and v <= 7:
            link["label"] = "_return"
        if (kind := link_type(version, final_kind)) is not None:
            link["type"] = kind
        links.append(link)
    data = {
        "export_data": export_data,
        "links_uuid": links,
        "groups_uuid": {
            uuid: sorted(members)
            for uuid, (_, _, members) in FINAL["groups"].items()
            if members
        },
        "node_attributes": attributes,
    }
    if v >= 4:
        data["node_extras"] = extras
    if v <= 5:
        data["node_attributes_conversion"] = conversions
        if v >= 4:
            data["node_extras_conversion"] = {pk: {} for pk in extras}
    metadata = {"export_version": version, "aiida_version": "1.1.1"}
    return metadata, data


def node_folder(uuid: str) -> str:
    return f"nodes/{uuid[:2]}/{uuid[2:4]}/{uuid[4:]}/"


def write_legacy_archive(
    path: Path,
    version: str,
    *,
    tar: bool = False,
    change: Callable[[dict, dict], Any] | None = None,
    members: dict[str, bytes | None] | None = None,
) -> Path:
    """The graph written as ``version`` wrote it, to ``path`` (zip or tar.gz).

    ``change(metadata, data)`` may alter the JSON before it is written;
    ``members`` replaces members by name (bytes) or leaves them out (None).
    """
    metadata, data = build(version)
    if change is not None:
        change(metadata, data)
    entries: dict[str, bytes | None] = {
        "metadata.json": json.dumps(metadata).encode(),
        "data.json": json.dumps(data).encode(),
    }
    for uuid in FINAL["nodes"]:
        folder = node_folder(uuid)
        entries[folder] = None  # a folder entry
        entries[f"{folder}path/"] = None
        for name, content in FILES.get(uuid, {}).items():
            entries[folder + name] = content
        if uuid == TRAJECTORY and minor(version) <= 3:
            entries[folder + "path/symbols.npy"] = symbols_npy()
        for name in EMPTY_FOLDERS.get(uuid, []):
            entries[folder + name] = None
    for name, content in (members or {}).items():
        if content is None:
            entries = {
                key: value for key, value in entries.items() if not key.startswith(name)
            }
        else:
            entries[name] = content
    if tar:
        with tarfile.open(path, "w:gz") as archive:
            for name, content in entries.items():
                info = tarfile.TarInfo(name.rstrip("/"))
                if content is None:
                    info.type = tarfile.DIRTYPE
                    archive.addfile(info)
                else:
                    info.size = len(content)
                    archive.addfile(info, io.BytesIO(content))
        return path
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, b"" if content is None else content)
    return path
