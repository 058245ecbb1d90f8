"""Write aiida_query_dicts.json: what aiida-core's QueryBuilder.as_dict() gives.

Run with aiida-core 2.9.4's python on any profile (no data is read)::

    AIIDA_PATH=$(mktemp -d) .aiida-venv/bin/verdi presto --profile-name dicts
    AIIDA_PATH=... .aiida-venv/bin/python tests/data/make_aiida_query_dicts.py

Each entry is ``{"name", "dict"}``; tests/queries/test_aiida_dicts.py runs them.
"""

from __future__ import annotations

import json
from pathlib import Path

from aiida import load_profile, orm


def queries() -> dict[str, orm.QueryBuilder]:
    built = {}
    qb = orm.QueryBuilder()
    qb.append(
        orm.Int,
        tag="i",
        filters={"attributes.value": {">": 1}},
        project=["uuid", "attributes.value"],
    )
    qb.order_by({"i": [{"attributes.value": {"order": "desc", "cast": "i"}}]})
    built["int_filter_order_cast"] = qb

    qb = orm.QueryBuilder()
    qb.append(orm.StructureData, tag="s", project="label")
    qb.append(
        orm.CalcJobNode,
        tag="c",
        with_incoming="s",
        edge_filters={"type": "input_calc"},
        edge_project=["label"],
        project="label",
    )
    qb.append(orm.BandsData, tag="b", with_incoming="c", project="label")
    built["edges_through_a_calculation"] = qb

    qb = orm.QueryBuilder()
    qb.append(orm.Group, tag="g", filters={"label": "set"}, project="label")
    qb.append(orm.Node, tag="n", with_group="g", project="label")
    qb.append(orm.User, tag="u", with_node="n", project="email")
    qb.distinct()
    built["group_node_user"] = qb

    qb = orm.QueryBuilder()
    qb.append(orm.StructureData, tag="s")
    qb.append(orm.Node, tag="d", with_ancestors="s", project="label")
    qb.order_by({"d": ["label"]}).limit(2).offset(1).distinct()
    built["descendants_paged"] = qb

    qb = orm.QueryBuilder()
    qb.append((orm.Int, orm.Float), tag="x", project=["label"])
    built["two_classes"] = qb

    qb = orm.QueryBuilder()
    qb.append(orm.Int, subclassing=False, tag="i", project=["label"])
    qb.append(orm.CalcJobNode, tag="c", with_outgoing="i", project=["label"])
    built["no_subclassing_with_outgoing"] = qb

    qb = orm.QueryBuilder()
    qb.append(orm.Node, tag="n", project=["label"])
    qb.append(
        orm.Node,
        tag="m",
        with_incoming="n",
        outerjoin=True,
        filters={"label": "b1"},
        project=["label"],
    )
    built["outerjoin"] = qb

    qb = orm.QueryBuilder()
    qb.append(orm.Int, tag="i", project={"attributes.value": {"cast": "f"}})
    built["unsupported_projection_cast"] = qb

    qb = orm.QueryBuilder()
    qb.append(orm.Computer, tag="computer", project=["label"])
    built["computer"] = qb
    return built


def main() -> None:
    load_profile()
    entries = [{"name": name, "dict": qb.as_dict()} for name, qb in queries().items()]
    target = Path(__file__).with_name("aiida_query_dicts.json")
    target.write_text(json.dumps(entries, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
