"""The record conversions between legacy archive versions, one rule at a time."""

from __future__ import annotations

import pytest

from archives.legacy import convert

JOB = "process.calculation.calcjob.CalcJobNode."
STATUS = "Legacy `JobCalculation` with state `{}`"


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("FINISHED", {"process_state": "finished", "exit_status": 0}),
        ("FAILED", {"process_state": "finished", "exit_status": 2}),
        (
            "SUBMISSIONFAILED",
            {
                "process_state": "excepted",
                "process_status": STATUS.format("SUBMISSIONFAILED"),
            },
        ),
        (
            "WITHSCHEDULER",
            {
                "process_state": "killed",
                "process_status": STATUS.format("WITHSCHEDULER"),
            },
        ),
    ],
)
def test_a_job_state_of_v05_becomes_process_attributes(state, expected):
    _, attributes, _ = convert.node((0, 5), {"node_type": JOB}, {"state": state})

    assert attributes == {
        **expected,
        "process_label": "Legacy JobCalculation",
        "sealed": True,
    }


def test_an_unknown_job_state_is_kept():
    _, attributes, _ = convert.node((0, 5), {"node_type": JOB}, {"state": "ODD"})

    assert attributes == {"state": "ODD", "sealed": True}


def test_a_process_exported_while_running_is_refused():
    with pytest.raises(ValueError, match="running"):
        convert.node(
            (0, 6),
            {"uuid": "u", "node_type": "process.workflow.WorkflowNode."},
            {"process_state": "running"},
        )


def test_dates_get_their_utc_offset_only_where_the_conversion_says_so():
    _, attributes, extras = convert.node(
        (0, 4),
        {"node_type": "data.dict.Dict."},
        {"when": "2019-01-01T10:00:00.000000", "note": "2019-01-01T10:00:00.000000"},
        {"when": "date", "note": None},
        {"list": [None, "date"]},
        {"list": ["x", "2019-02-01T00:00:00.000000"]},
    )

    assert attributes["when"] == "2019-01-01T10:00:00.000000+00:00"
    assert attributes["note"] == "2019-01-01T10:00:00.000000"
    assert extras == {"list": ["x", "2019-02-01T00:00:00.000000+00:00"]}


@pytest.mark.parametrize(
    ("old", "new", "process_type"),
    [
        ("data.base.Int.", "data.core.int.Int.", ""),
        ("data.parameter.ParameterData.", "data.core.dict.Dict.", ""),
        ("code.Code.", "data.core.code.Code.", ""),
        (
            "calculation.job.quantumespresso.pw.PwCalculation.",
            JOB,
            "aiida.calculations:quantumespresso.pw",
        ),
        (
            "calculation.job.simpleplugins.arithmetic.add.ArithmeticAddCalculation.",
            JOB,
            "aiida.calculations:core.arithmetic.add",
        ),
        ("calculation.job.mine.MyCalculation.", JOB, "mine.MyCalculation"),
        (
            "calculation.inline.InlineCalculation.",
            "process.calculation.calcfunction.CalcFunctionNode.",
            "",
        ),
        (
            "calculation.function.FunctionCalculation.",
            "process.workflow.workfunction.WorkFunctionNode.",
            "",
        ),
    ],
)
def test_v03_node_types_become_current_ones(old, new, process_type):
    fields, _, _ = convert.node((0, 3), {"type": old}, {})

    assert fields["node_type"] == new
    assert fields["process_type"] == process_type


def test_a_work_calculation_with_a_function_name_is_a_workfunction():
    fields, _, _ = convert.node(
        (0, 3), {"type": "calculation.work.WorkCalculation."}, {"function_name": "f"}
    )

    assert fields["node_type"] == "process.workflow.workfunction.WorkFunctionNode."


@pytest.mark.parametrize(
    ("source", "target", "old_type", "expected"),
    [
        ("calculation.job.x.X.", "data.foo.Foo.", "calllink", None),
        ("calculation.inline.InlineCalculation.", "data.foo.Foo.", "returnlink", None),
        ("calculation.work.WorkCalculation.", "data.foo.Foo.", "createlink", None),
        ("data.foo.Foo.", "calculation.job.x.X.", "inputlink", "input_calc"),
    ],
)
def test_v03_links_the_provenance_rules_forbid_go(source, target, old_type, expected):
    converted = {
        "calculation.job.x.X.": JOB,
        "data.foo.Foo.": "data.foo.Foo.",
    }.get(target, target)
    link = convert.link(
        (0, 3),
        {"input": "a", "output": "b", "label": "x", "type": old_type},
        (source, source),
        (target, converted),
    )

    assert (link and link["type"]) == expected


def test_untyped_v02_links_get_the_type_their_nodes_imply():
    calc, data = "calculation.job.x.X.", "data.foo.Foo."
    link = convert.link((0, 2), {"label": "_return"}, (calc, JOB), (data, data))

    assert link == {"label": "result", "type": "create"}


def test_group_and_computer_names_follow_the_versions():
    assert convert.group((0, 3), {"name": "g", "type": "data.upf.family"}) == {
        "label": "g",
        "type_string": "core.upf",
    }
    assert convert.computer(
        (0, 10), {"name": "c", "scheduler_type": "pbspro", "transport_type": "local"}
    ) == {"label": "c", "scheduler_type": "core.pbspro", "transport_type": "core.local"}
    assert convert.entity_name("aiida.backends.djsite.db.models.DbNode") == "Node"
    assert convert.parse_version("0.10") == (0, 10)
    assert convert.parse_version("main_0001") is None
