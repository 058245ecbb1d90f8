"""Answers of aiida-core 2.9.4 to a list of queries, for the differential test.

Runs under aiida-core's own python, on a fresh profile (the ``aiida_core``
fixture), never under pytest::

    python aiida_answers.py SPEC.json ANSWERS.json PROBES.aiida ARCHIVE...

It imports the archives, stores the probe Dict nodes that ``SPEC.json``
lists (in a group ``probes``) and exports them to ``PROBES.aiida`` so the
site holds the same nodes, then builds each query with aiida-core's
``QueryBuilder.append`` and writes, per query, the dict aiida-core's
``as_dict()`` gives and the rows (or aiida-core's error).
"""

from __future__ import annotations

import datetime
import json
import sys
from typing import Any

from aiida import load_profile, orm
from aiida.tools.archive import create_archive, import_archive

CLASSES = {
    name: getattr(orm, name)
    for name in (
        "Node",
        "Data",
        "Int",
        "Float",
        "Str",
        "Bool",
        "Dict",
        "List",
        "StructureData",
        "ArrayData",
        "BandsData",
        "KpointsData",
        "FolderData",
        "ProcessNode",
        "CalculationNode",
        "CalcJobNode",
        "WorkflowNode",
        "WorkChainNode",
        "Group",
        "User",
        "Computer",
        "Comment",
        "Log",
        "AuthInfo",
    )
}


def decoded(value: Any) -> Any:
    """``{"$datetime": ISO}`` markers of the spec as datetimes."""
    if isinstance(value, dict):
        if set(value) == {"$datetime"}:
            return datetime.datetime.fromisoformat(value["$datetime"])
        return {key: decoded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decoded(item) for item in value]
    return value


def plain(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    if isinstance(value, orm.Entity):
        return getattr(value, "uuid", None) or value.pk
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def answer(query: dict[str, Any]) -> dict[str, Any]:
    qb = orm.QueryBuilder()
    for item in query["path"]:
        item = decoded(dict(item))
        qb.append(CLASSES[item.pop("cls")], **item)
    if query.get("order_by"):
        qb.order_by(query["order_by"])
    if query.get("limit") is not None:
        qb.limit(query["limit"])
    if query.get("offset") is not None:
        qb.offset(query["offset"])
    if query.get("distinct"):
        qb.distinct()
    found: dict[str, Any] = {"dict": plain(qb.as_dict())}
    try:
        found["rows"] = plain(qb.all())
    except Exception as error:  # aiida-core refusing a query is an answer too
        found["error"] = f"{type(error).__name__}: {str(error)[:300]}"
    return found


def main(spec_path: str, answers_path: str, probes_path: str, *archives: str) -> None:
    load_profile()
    for archive in archives:
        # No "import group" of its own: the site makes none.
        import_archive(archive, create_group=False)
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    probes = []
    for label, attributes in spec["probes"]:
        node = orm.Dict(attributes)
        node.label = label
        probes.append(node.store())
    group = orm.Group(label="probes").store()
    group.add_nodes(probes)
    create_archive([group, *probes], filename=probes_path)
    answers = [answer(query) for query in spec["queries"]]
    with open(answers_path, "w", encoding="utf-8") as handle:
        json.dump(answers, handle)


if __name__ == "__main__":
    main(*sys.argv[1:])
