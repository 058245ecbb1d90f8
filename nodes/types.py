"""AiiDA's node type strings and the questions asked of them.

A ``node_type`` is a dotted path ending in a dot (``data.core.int.Int.``). The
type's ancestors are its prefixes up to a dot, so "is a ``T``" is a prefix
match against ``T`` without its class name (``data.core.array.`` matches
``ArrayData`` and every array subclass such as ``BandsData``).
"""

from __future__ import annotations

import re

from aiidasite.exceptions import InputValidationError

INT = "data.core.int.Int."
FLOAT = "data.core.float.Float."
STR = "data.core.str.Str."
BOOL = "data.core.bool.Bool."
DICT = "data.core.dict.Dict."
LIST = "data.core.list.List."
STRUCTURE = "data.core.structure.StructureData."
ARRAY = "data.core.array.ArrayData."
BANDS = "data.core.array.bands.BandsData."
KPOINTS = "data.core.array.kpoints.KpointsData."
FOLDER = "data.core.folder.FolderData."
SINGLEFILE = "data.core.singlefile.SinglefileData."

CALCULATION = "process.calculation.CalculationNode."
CALCJOB = "process.calculation.calcjob.CalcJobNode."
CALCFUNCTION = "process.calculation.calcfunction.CalcFunctionNode."
WORKFLOW = "process.workflow.WorkflowNode."
WORKCHAIN = "process.workflow.workchain.WorkChainNode."
WORKFUNCTION = "process.workflow.workfunction.WorkFunctionNode."

DATA_TYPES = (
    INT,
    FLOAT,
    STR,
    BOOL,
    DICT,
    LIST,
    STRUCTURE,
    ARRAY,
    BANDS,
    KPOINTS,
    FOLDER,
    SINGLEFILE,
)
PROCESS_TYPES = (
    CALCULATION,
    CALCJOB,
    CALCFUNCTION,
    WORKFLOW,
    WORKCHAIN,
    WORKFUNCTION,
)
KNOWN_TYPES = DATA_TYPES + PROCESS_TYPES

# A process's ``process_state`` attribute: aiida-core's (plumpy's) states.
PROCESS_STATES = ("created", "waiting", "running", "finished", "excepted", "killed")

# Short names (the class name) users type on the command line or in filters.
BY_CLASS_NAME = {t.rstrip(".").rsplit(".", 1)[-1]: t for t in KNOWN_TYPES}

# Plugins add their own types (``data.quantumespresso.force_constants.X.``):
# anything of this shape under ``data.`` or ``process.`` is accepted.
_NODE_TYPE = re.compile(r"^(data|process)(\.[A-Za-z_][A-Za-z0-9_]*)+\.$")


def type_prefix(node_type: str) -> str:
    """The prefix shared by ``node_type`` and all its subtypes.

    ``data.core.array.ArrayData.`` -> ``data.core.array.``; the class name is
    dropped so that subclasses, which live in deeper modules, still match.
    """
    parts = node_type.rstrip(".").split(".")
    if len(parts) <= 1:
        return node_type if node_type.endswith(".") else f"{node_type}."
    return ".".join(parts[:-1]) + "."


def class_name(node_type: str) -> str:
    """``data.core.int.Int.`` -> ``Int``."""
    return node_type.rstrip(".").rsplit(".", 1)[-1]


def is_subtype(node_type: str, parent: str) -> bool:
    """Whether ``node_type`` is ``parent`` or one of its subtypes."""
    return node_type == parent or node_type.startswith(type_prefix(parent))


def is_data(node_type: str) -> bool:
    return node_type.startswith("data.")


def is_process(node_type: str) -> bool:
    return node_type.startswith("process.")


def is_calculation(node_type: str) -> bool:
    return node_type.startswith("process.calculation.")


def is_workflow(node_type: str) -> bool:
    return node_type.startswith("process.workflow.")


def validate_node_type(node_type: object) -> str:
    """Return ``node_type`` if it is a storable AiiDA type string.

    :raises InputValidationError: if it is not a dotted ``data.``/``process.``
        string ending in a dot, or is one of the abstract roots.
    """
    if not isinstance(node_type, str) or not _NODE_TYPE.match(node_type):
        raise InputValidationError(
            f"invalid node_type {node_type!r}: expected a dotted AiiDA type "
            "string such as 'data.core.int.Int.'"
        )
    return node_type


def resolve(name: str) -> str:
    """A type string from a full string or a known class name (``Int``).

    :raises InputValidationError: if ``name`` is neither.
    """
    if name in BY_CLASS_NAME:
        return BY_CLASS_NAME[name]
    return validate_node_type(name)
