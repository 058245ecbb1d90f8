"""What changed between AiiDA's archive versions, applied one record at a time.

Each function takes a record as one version wrote it and answers it as the
final legacy version (``0.13``) has it, applying the steps of aiida-core's
archive migrations in order (``aiida/tools/importexport/migration/v01_to_v02``
... ``v03_to_v04`` in aiida-core 1.x, then
``aiida/storage/sqlite_zip/migrations/legacy/v04_to_v05`` ... ``v12_to_v13``).
Versions are tuples: ``(0, 4)`` for ``"0.4"``.

aiida-core works on the whole ``data.json`` in memory; here each record is
converted alone, with what it needs of other records (the original type of
a link's nodes) passed in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

Version = tuple[int, int]

FIRST, LAST = (0, 1), (0, 13)

# v0.5 -> v0.6 (database migration 0038): a legacy JobCalculation's state.
_LEGACY_STATUS = "Legacy `JobCalculation` with state `{}`"
JOB_STATES = {
    "NEW": ("killed", None),
    "TOSUBMIT": ("killed", None),
    "SUBMITTING": ("killed", None),
    "WITHSCHEDULER": ("killed", None),
    "COMPUTED": ("killed", None),
    "RETRIEVING": ("killed", None),
    "PARSING": ("killed", None),
    "SUBMISSIONFAILED": ("excepted", None),
    "RETRIEVALFAILED": ("excepted", None),
    "PARSINGFAILED": ("excepted", None),
    "FAILED": ("finished", 2),
    "FINISHED": ("finished", 0),
}
ACTIVE_PROCESS_STATES = frozenset({"created", "running", "waiting"})

# v0.11 -> v0.12: entry points of aiida-core's own plugins gained ``core.``.
CORE_DATA_TYPES = {
    f"data.{name}.": f"data.core.{name}."
    for name in (
        "array.ArrayData",
        "array.bands.BandsData",
        "array.kpoints.KpointsData",
        "array.projection.ProjectionData",
        "array.trajectory.TrajectoryData",
        "array.xy.XyData",
        "base.BaseData",
        "bool.Bool",
        "cif.CifData",
        "code.Code",
        "dict.Dict",
        "float.Float",
        "folder.FolderData",
        "int.Int",
        "list.List",
        "numeric.NumericData",
        "orbital.OrbitalData",
        "remote.RemoteData",
        "remote.stash.RemoteStashData",
        "remote.stash.folder.RemoteStashFolderData",
        "singlefile.SinglefileData",
        "str.Str",
        "structure.StructureData",
        "upf.UpfData",
    )
}
CORE_PROCESS_TYPES = {
    "aiida.calculations:arithmetic.add": "aiida.calculations:core.arithmetic.add",
    "aiida.calculations:templatereplacer": "aiida.calculations:core.templatereplacer",
    "aiida.workflows:arithmetic.add_multiply": (
        "aiida.workflows:core.arithmetic.add_multiply"
    ),
    "aiida.workflows:arithmetic.multiply_add": (
        "aiida.workflows:core.arithmetic.multiply_add"
    ),
}
CORE_SCHEDULERS = {
    name: f"core.{name}"
    for name in ("direct", "lsf", "pbspro", "sge", "slurm", "torque")
}
# v0.12 -> v0.13
CORE_TRANSPORTS = {"local": "core.local", "ssh": "core.ssh"}

# v0.3 -> v0.4 (0022) then v0.8 -> v0.9 (0044): group type strings.
GROUP_TYPES_V04 = {
    "": "user",
    "data.upf.family": "data.upf",
    "aiida.import": "auto.import",
    "autogroup.run": "auto.run",
}
GROUP_TYPES_V09 = {
    "user": "core",
    "data.upf": "core.upf",
    "auto.import": "core.import",
    "auto.run": "core.auto",
}

# v0.3 -> v0.4 (0020): calculation plugins of the AiiDA registry of the time,
# so an old ``calculation.job.<name>.<Class>.`` type maps to its entry point.
KNOWN_CALCULATIONS = frozenset(
    """arithmetic.add templatereplacer ase.ase castep.bs castep.castep castep.pot1d
    castep.spec castep.ts codtools.cifcellcontents codtools.cifcodcheck
    codtools.cifcoddeposit codtools.cifcodnumbers codtools.ciffilter
    codtools.cifsplitprimitive cp2k crystal17.basic crystal17.immigrant
    crystal17.main ddec diff dynaphopy gollum.gollum gudhi.rdm kkr.kkr kkr.kkrimp
    kkr.kkrimporter kkr.voro lammps.combinate lammps.force lammps.md
    lammps.optimize nwchem.basic nwchem.pymatgen phonopy.phono3py phonopy.phonopy
    phtools.dmatrix phtools.surface qeq.eqeq qeq.qeq quantumespresso.cp
    quantumespresso.dos quantumespresso.hp quantumespresso.matdyn
    quantumespresso.namelists quantumespresso.neb quantumespresso.ph
    quantumespresso.pp quantumespresso.projwfc quantumespresso.pw
    quantumespresso.pw2wannier90 quantumespresso.pwimmigrant quantumespresso.q2r
    raspa siesta.siesta siesta.stm vasp.vasp vasp.vasp2w90 wannier90.wannier90
    yambo.yambo zeopp.network""".split()
)

# v0.2 -> v0.3: the link type follows from the kinds of its two nodes.
_CALC, _CODE, _DATA, _WORK = "calc", "code", "data", "work"


def parse_version(text: Any) -> Version | None:
    """``"0.10"`` as ``(0, 10)``; None if it is not a ``0.x`` version."""
    if not isinstance(text, str):
        return None
    major, _, minor = text.partition(".")
    if major != "0" or not minor.isdigit():
        return None
    return (0, int(minor))


def entity_name(name: str) -> str:
    """``aiida.djsite.db.models.DbNode`` (v0.1, v0.2) as ``Node`` (v0.3 on)."""
    last = name.rsplit(".", 1)[-1]
    return last[2:] if last.startswith("Db") and "." in name else last


def archive_time(value: Any) -> str | None:
    """A legacy timestamp (naive UTC, ``2014-11-03T13:43:36.000000``) as the
    ``main_0001`` database text (``2014-11-03 13:43:36.000000``).

    :raises ValueError: not a timestamp.
    """
    if value is None:
        return None
    if len(value) == 26 and value[10] == "T" and value[19] == ".":
        # The form every AiiDA version wrote: only the separator changes.
        return f"{value[:10]} {value[11:]}"
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed.isoformat(sep=" ", timespec="microseconds")


# --- nodes -----------------------------------------------------------------


def node_kind(original_type: str) -> str | None:
    """The kind of a node by its type before v0.4, for link types (v0.2 -> v0.3)."""
    if original_type.startswith(("calculation.job.", "calculation.inline.")):
        return _CALC
    if original_type.startswith("code.Code"):
        return _CODE
    if original_type.startswith("data."):
        return _DATA
    if original_type.startswith("calculation.work."):
        return _WORK
    return None


def node(
    version: Version,
    fields: dict[str, Any],
    attributes: dict[str, Any],
    attribute_conversion: Any = None,
    extras_conversion: Any = None,
    extras: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A node's fields, attributes and extras as of ``0.13``.

    :raises ValueError: a process is exported in an active state (v0.6 -> v0.7
        refuses these: aiida-core never exports running processes).
    """
    extras = {} if extras is None else extras
    if version < (0, 4):
        fields, attributes = _node_v03_to_v04(fields, attributes)
        if isinstance(attribute_conversion, dict):
            # Keys renamed in the attributes are renamed in their conversion too.
            _rename_process_keys(fields["node_type"], attribute_conversion)
    if version < (0, 5):
        fields.pop("nodeversion", None)
        fields.pop("public", None)
    if version < (0, 6):
        attributes = _with_utc_dates(attributes, attribute_conversion)
        extras = _with_utc_dates(extras, extras_conversion)
        if fields.get("node_type") == "process.calculation.calcjob.CalcJobNode.":
            _job_state_to_process_state(attributes)
    if version < (0, 7) and str(fields.get("node_type", "")).startswith("process."):
        state = attributes.get("process_state", "")
        if state in ACTIVE_PROCESS_STATES:
            raise ValueError(
                f"process node {fields.get('uuid')} was exported while {state}"
            )
        attributes["sealed"] = True
        for key in ("_sealed", "_finished", "_failed", "_aborted", "_do_abort"):
            attributes.pop(key, None)
    if version < (0, 12):
        node_type = fields.get("node_type") or ""
        fields["node_type"] = CORE_DATA_TYPES.get(node_type, node_type)
        process_type = fields.get("process_type")
        if process_type in CORE_PROCESS_TYPES:
            fields["process_type"] = CORE_PROCESS_TYPES[process_type]
    return fields, attributes, extras


def _with_utc_dates(value: Any, conversion: Any) -> Any:
    """Values that were datetimes carry their UTC offset again (v0.5 -> v0.6,
    database migration 0037): before, the archive said which values were dates
    in a parallel ``*_conversion`` structure and stored them without offset."""
    if conversion is None:
        return value
    if isinstance(value, dict) and isinstance(conversion, dict):
        return {
            key: _with_utc_dates(item, conversion.get(key))
            for key, item in value.items()
        }
    if isinstance(value, list) and isinstance(conversion, list):
        converted = [
            _with_utc_dates(item, sub)
            for item, sub in zip(value, conversion, strict=False)
        ]
        return converted + value[len(converted) :]
    if conversion == "date" and isinstance(value, str):
        return f"{value}+00:00"
    return value


def _job_state_to_process_state(attributes: dict[str, Any]) -> None:
    """A legacy JobCalculation's ``state`` as process attributes (0038)."""
    state = attributes.get("state")
    if state not in JOB_STATES:
        return
    del attributes["state"]
    process_state, exit_status = JOB_STATES[state]
    if exit_status is not None:
        attributes["exit_status"] = exit_status
    attributes["process_state"] = process_state
    if process_state != "finished":
        attributes["process_status"] = _LEGACY_STATUS.format(state)
    attributes["process_label"] = "Legacy JobCalculation"


def _node_v03_to_v04(
    fields: dict[str, Any], attributes: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The provenance redesign of AiiDA 1.0 (database migrations 0009-0033)."""
    fields = dict(fields)
    node_type = fields.pop("type", fields.get("node_type", "")) or ""
    fields.setdefault("process_type", "")
    if node_type.startswith("data.base."):  # 0009: data.base.Int. -> data.int.Int.
        name = node_type[len("data.base.") :]
        node_type = f"data.{name.lower()}{name}"
    if node_type == "code.Code.":  # 0016
        node_type = "data.code.Code."
    plugins = {  # 0019
        "calculation.job.simpleplugins.arithmetic.add.ArithmeticAddCalculation.": (
            "calculation.job.arithmetic.add.ArithmeticAddCalculation."
        ),
        "calculation.job.simpleplugins.templatereplacer.TemplatereplacerCalculation.": (
            "calculation.job.templatereplacer.TemplatereplacerCalculation."
        ),
    }
    node_type = plugins.get(node_type, node_type)
    if node_type == "data.code.Code.":
        plugin = attributes.get("input_plugin")
        if plugin in ("simpleplugins.arithmetic.add", "simpleplugins.templatereplacer"):
            attributes["input_plugin"] = plugin[len("simpleplugins.") :]
    # 0020: process types from the old class path, then the new node types.
    if node_type.startswith("calculation.job."):
        fields["process_type"] = _calculation_entry_point(node_type)
    if node_type == "calculation.process.ProcessCalculation.":
        node_type = "calculation.work.WorkCalculation."
    if node_type == "calculation.work.WorkCalculation.":
        if attributes.get("function_name") is not None:
            node_type = "process.workflow.workfunction.WorkFunctionNode."
        else:
            node_type = "process.workflow.workchain.WorkChainNode."
    elif node_type.startswith("calculation.job."):
        node_type = "process.calculation.calcjob.CalcJobNode."
    elif node_type == "calculation.inline.InlineCalculation.":
        node_type = "process.calculation.calcfunction.CalcFunctionNode."
    elif node_type == "calculation.function.FunctionCalculation.":
        node_type = "process.workflow.workfunction.WorkFunctionNode."
    _rename_process_keys(node_type, attributes)
    if node_type == "data.parameter.ParameterData.":  # 0029
        node_type = "data.dict.Dict."
    fields["node_type"] = node_type  # 0030: type -> node_type
    return fields, attributes


def _rename_process_keys(node_type: str, attributes: dict[str, Any]) -> None:
    """Calculation job options and the process label renamed (0023)."""
    renames = [("_process_label", "process_label")]
    if node_type == "process.calculation.calcjob.CalcJobNode.":
        renames += [
            ("custom_environment_variables", "environment_variables"),
            ("jobresource_params", "resources"),
            ("parser", "parser_name"),
        ]
    if node_type.startswith("process."):
        for old, new in renames:
            if old in attributes:
                attributes[new] = attributes.pop(old)


def _calculation_entry_point(node_type: str) -> str:
    """``calculation.job.quantumespresso.pw.PwCalculation.`` ->
    ``aiida.calculations:quantumespresso.pw`` (0020); an unknown plugin keeps
    its module and class (``unknown.UnknownCalculation``)."""
    parts = [part for part in node_type[len("calculation.job.") :].split(".") if part]
    if not parts:
        return ""
    cls, name = parts[-1], ".".join(parts[:-1])
    if name in KNOWN_CALCULATIONS:
        return f"aiida.calculations:{name}"
    return f"{name}.{cls}" if name else ""


# --- links -----------------------------------------------------------------


def link_type_v02(input_kind: str | None, output_kind: str | None) -> str:
    """The type of a link of a v0.1/v0.2 archive, which had none."""
    if input_kind in (_CODE, _DATA) and output_kind in (_CALC, _WORK):
        return "inputlink"
    if input_kind == _CALC and output_kind == _DATA:
        return "createlink"
    if input_kind == _WORK and output_kind == _DATA:
        return "returnlink"
    if input_kind == _WORK and output_kind in (_CALC, _WORK):
        return "calllink"
    return "unspecified"


def link(
    version: Version,
    link: dict[str, Any],
    input_type: tuple[str, str],
    output_type: tuple[str, str],
) -> dict[str, Any] | None:
    """A link as of ``0.13``; None if a migration deletes it.

    ``input_type`` and ``output_type`` are each node's (original, converted)
    type; a v0.1/v0.2 link's type is inferred from the original ones.
    """
    link = dict(link)
    if version < (0, 3):
        link["type"] = link_type_v02(
            node_kind(input_type[0]), node_kind(output_type[0])
        )
    if version < (0, 4):
        kind = link.get("type")
        source = input_type[0]
        # 0020: links the provenance redesign forbids are deleted.
        if source.startswith(("calculation.job.", "calculation.inline.")) and kind in (
            "calllink",
            "returnlink",
        ):
            return None
        if (
            source.startswith(("calculation.function", "calculation.work"))
            and kind == "createlink"
        ):
            return None
        target = output_type[1]
        family = "calc" if target.startswith("process.calculation") else None
        if target.startswith("process.workflow"):
            family = "work"
        renamed = {"createlink": "create", "returnlink": "return"}
        if kind in renamed:
            link["type"] = renamed[kind]
        elif kind == "inputlink" and family:
            link["type"] = f"input_{family}"
        elif kind == "calllink" and family:
            link["type"] = f"call_{family}"
    if version < (0, 8) and link.get("label") == "_return":
        link["label"] = "result"
    return link


# --- other entities ----------------------------------------------------------


def computer(version: Version, fields: dict[str, Any]) -> dict[str, Any]:
    """A computer as of ``0.13``."""
    import json

    fields = dict(fields)
    if version < (0, 4):
        fields.pop("enabled", None)
        for key in ("metadata", "transport_params"):
            if isinstance(fields.get(key), str):  # Django kept them as JSON text
                fields[key] = json.loads(fields[key])
    if version < (0, 5):
        fields.pop("transport_params", None)
    if version < (0, 11) and "name" in fields:
        fields["label"] = fields.pop("name")
    if version < (0, 12):
        scheduler = fields.get("scheduler_type")
        fields["scheduler_type"] = CORE_SCHEDULERS.get(scheduler, scheduler)
    if version < (0, 13):
        transport = fields.get("transport_type")
        fields["transport_type"] = CORE_TRANSPORTS.get(transport, transport)
    return fields


def group(version: Version, fields: dict[str, Any]) -> dict[str, Any]:
    """A group as of ``0.13``."""
    fields = dict(fields)
    if version < (0, 4):
        if "name" in fields:
            fields["label"] = fields.pop("name")
        if "type" in fields:
            fields["type_string"] = fields.pop("type")
        kind = fields.get("type_string")
        fields["type_string"] = GROUP_TYPES_V04.get(kind, kind)
    if version < (0, 9):
        kind = fields.get("type_string")
        fields["type_string"] = GROUP_TYPES_V09.get(kind, kind)
    return fields


def log(version: Version, fields: dict[str, Any]) -> dict[str, Any]:
    """A log record as of ``0.13``."""
    import json

    fields = dict(fields)
    if version < (0, 4) and isinstance(fields.get("metadata"), str):
        fields["metadata"] = json.loads(fields["metadata"])
    return fields
