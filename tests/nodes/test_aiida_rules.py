"""Deletion follows exactly what aiida-core's own traversal rules take.

The same graph is built here and in aiida-core (in its own virtual
environment, the ``aiida_core`` fixture; ``.ci/run`` installs one),
and for every start node and rule switch both must name the same nodes.
"""

from __future__ import annotations

import json

import pytest

from nodes import services, types
from nodes.services import IncomingLink

pytestmark = pytest.mark.django_db

# Stored in this order; links go in with their target (returns at the end).
NODES = [
    ("d0", "Int"),
    ("lone", "Int"),
    ("w", "WorkChainNode"),
    ("wother", "WorkFunctionNode"),
    ("c1", "CalcFunctionNode"),
    ("d1", "Int"),
    ("wsub", "WorkFunctionNode"),
    ("c2", "CalcFunctionNode"),
    ("d2", "Int"),
    ("c3", "CalcFunctionNode"),
    ("d3", "Int"),
    ("c4", "CalcFunctionNode"),
    ("d4", "Int"),
]
LINKS = [
    ("d0", "w", "x", "input_work"),
    ("d0", "c1", "x", "input_calc"),
    ("w", "c1", "call", "call_calc"),
    ("c1", "d1", "result", "create"),
    ("w", "wsub", "sub", "call_work"),
    ("w", "wother", "other", "call_work"),
    ("lone", "wother", "x", "input_work"),
    ("d1", "wsub", "x", "input_work"),
    ("wsub", "c2", "call", "call_calc"),
    ("d1", "c2", "x", "input_calc"),
    ("c2", "d2", "result", "create"),
    ("d2", "c3", "x", "input_calc"),
    ("c3", "d3", "result", "create"),
    ("c4", "d4", "result", "create"),
    ("wsub", "d2", "result", "return"),
    ("w", "d2", "result", "return"),
    # A workflow may return a node it neither took nor created.
    ("wother", "d4", "found", "return"),
]
RULES = [
    {},
    {"create_forward": False},
    {"call_calc_forward": False},
    {"call_work_forward": False},
]
OURS = {
    "Int": types.INT,
    "WorkChainNode": types.WORKCHAIN,
    "WorkFunctionNode": types.WORKFUNCTION,
    "CalcFunctionNode": types.CALCFUNCTION,
}

AIIDA_SCRIPT = """
import json, sys
from aiida import load_profile, orm
from aiida.common.links import LinkType
from aiida.tools.graph.graph_traversers import get_nodes_delete

load_profile()
spec = json.loads(sys.argv[1])
made = {}
for name, kind in spec["nodes"]:
    node = orm.Int(0) if kind == "Int" else getattr(orm, kind)()
    for source, target, label, link in spec["links"]:
        if target == name and link != "return":
            node.base.links.add_incoming(made[source], LinkType(link), label)
    made[name] = node.store()
for source, target, label, link in spec["links"]:
    if link == "return":
        made[target].base.links.add_incoming(made[source], LinkType(link), label)
names = {node.pk: name for name, node in made.items()}
answers = {}
for name, node in made.items():
    for index, rules in enumerate(spec["rules"]):
        found = get_nodes_delete([node.pk], **rules)["nodes"]
        answers[f"{name}/{index}"] = sorted(names[pk] for pk in found)
print(json.dumps(answers))
"""


def aiida_answers(aiida_core) -> dict[str, list[str]]:
    spec = json.dumps({"nodes": NODES, "links": LINKS, "rules": RULES})
    output = aiida_core(AIIDA_SCRIPT, spec)
    return json.loads(output.strip().splitlines()[-1])


def test_deletion_takes_what_aiida_core_takes(user, aiida_core):
    made = {}
    for name, kind in NODES:
        incoming = [
            IncomingLink(made[source].pk, label, link)
            for source, target, label, link in LINKS
            if target == name and link != "return"
        ]
        made[name] = services.node_store(
            user=user, node_type=OURS[kind], attributes={}, links=incoming
        )
    services.links_add_bulk(
        links=[
            (made[source].pk, made[target].pk, label, link)
            for source, target, label, link in LINKS
            if link == "return"
        ]
    )
    names = {node.pk: name for name, node in made.items()}

    expected = aiida_answers(aiida_core)

    ours = {
        f"{name}/{index}": sorted(
            names[pk] for pk in services.delete_nodes([node.pk], **rules)
        )
        for name, node in made.items()
        for index, rules in enumerate(RULES)
    }
    assert ours == expected
    # The graph exercises every rule: switching each off changes some answer.
    for index in range(1, len(RULES)):
        assert any(
            expected[f"{name}/{index}"] != expected[f"{name}/0"] for name, _ in NODES
        )


KINDS = ["Int", "Dict", "CalcFunctionNode", "WorkChainNode", "WorkFunctionNode"]
LABELS = ["x", "a__b", "_x", "x_", "1x", "class", "a-b", "é", "", "output_band2"]

RULES_SCRIPT = """
import json, sys
from aiida import load_profile, orm
from aiida.common.links import LinkType, validate_link_label
from aiida.orm.utils.links import validate_link

load_profile()
kinds, labels = json.loads(sys.argv[1]), json.loads(sys.argv[2])
def make(kind):
    return orm.Int(0) if kind == "Int" else orm.Dict() if kind == "Dict" else (
        getattr(orm, kind)())
allowed = []
for source_kind in kinds:
    source = make(source_kind).store()
    for target_kind in kinds:
        for link in LinkType:
            try:
                validate_link(source, make(target_kind), link, "x")
            except ValueError:
                continue
            allowed.append([source_kind, target_kind, link.value])
good = []
for label in labels:
    try:
        validate_link_label(label)
    except ValueError:
        continue
    good.append(label)
print(json.dumps({"allowed": allowed, "labels": good}))
"""


def test_link_types_and_labels_are_allowed_as_aiida_core_allows_them(aiida_core):
    from aiidasite.exceptions import InputValidationError, StoringNotAllowed
    from nodes.links import Link, check_endpoints, validate_label

    output = aiida_core(RULES_SCRIPT, json.dumps(KINDS), json.dumps(LABELS))
    expected = json.loads(output.strip().splitlines()[-1])

    type_of = {**OURS, "Dict": types.DICT}
    allowed = []
    for source in KINDS:
        for target in KINDS:
            for link in (
                "create",
                "return",
                "input_calc",
                "input_work",
                "call_calc",
                "call_work",
            ):
                try:
                    check_endpoints(
                        Link(1, 2, "x", link), type_of[source], type_of[target]
                    )
                except StoringNotAllowed:
                    continue
                allowed.append([source, target, link])
    good = []
    for label in LABELS:
        try:
            validate_label(label)
        except InputValidationError:
            continue
        good.append(label)

    assert sorted(allowed) == sorted(expected["allowed"])
    assert good == expected["labels"]
