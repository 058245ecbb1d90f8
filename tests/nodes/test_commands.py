"""The `node` management command, run as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from nodes import types
from nodes.models import DbNode

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("node", *map(str, args), stdout=out)
    return out.getvalue()


@pytest.fixture
def chain(make_node):
    structure = make_node(types.STRUCTURE, label="Si")
    calc = make_node(types.CALCJOB, inputs=[(structure, "structure", "input_calc")])
    folder = make_node(
        types.FOLDER,
        inputs=[(calc, "retrieved", "create")],
        files={"aiida.out": b"JOB DONE\n", "sub/x.dat": b"1 2"},
    )
    return structure, calc, folder


def test_show_prints_fields_and_links(chain):
    structure, calc, _ = chain
    output = run("show", calc.pk)
    assert str(calc.uuid) in output
    assert "process.calculation.calcjob.CalcJobNode." in output
    assert f"input_calc  structure            {structure.pk}" in output


def test_show_as_json(chain):
    _, calc, folder = chain
    data = json.loads(run("show", str(calc.uuid)[:10], "--format", "json"))
    assert data["id"] == calc.pk
    assert data["outgoing"] == [
        {"id": folder.pk, "label": "retrieved", "type": "create"}
    ]


def test_show_as_json_prints_attribute_keys_sorted_on_both_databases(chain):
    _, calc, _ = chain
    # Written out of order, and so that PostgreSQL's order (shorter keys
    # first) is not the sorted one either.
    calc.attributes = {"b": 1, "aa": {"d": [{"z": 1, "y": 2}], "c": 2}}
    calc.extras = {"q": 1, "pp": 2}
    calc.save()
    output = run("show", calc.pk, "--format", "json")
    assert '"aa": {\n      "c": 2,\n      "d": [\n        {\n          "y": 2' in output
    assert output.index('"aa"') < output.index('"b"')
    assert output.index('"pp"') < output.index('"q"')
    # The top level keeps its reading order.
    assert list(json.loads(output))[:3] == ["id", "uuid", "node_type"]


def test_show_of_a_missing_node_is_a_command_error():
    with pytest.raises(CommandError, match="no node with pk 4242"):
        run("show", 4242)


def test_delete_dry_run_lists_and_keeps(chain):
    structure, calc, folder = chain
    data = json.loads(run("delete", structure.pk, "--dry-run", "--format", "json"))
    assert data == {
        "action": "would delete",
        "nodes": sorted([structure.pk, calc.pk, folder.pk]),
        "also": {"comments": 0, "log records": 0},
    }
    assert DbNode.objects.count() == 3


def test_delete_without_force_refuses_when_it_cannot_ask(chain):
    with pytest.raises(CommandError, match="pass --force"):
        run("delete", chain[0].pk)
    assert DbNode.objects.count() == 3


def test_delete_with_force_and_a_rule_switched_off(chain):
    structure, _calc, folder = chain
    output = run("delete", structure.pk, "--force", "--no-create-forward")
    assert output.startswith("Deleted 2 nodes")
    assert list(DbNode.objects.values_list("pk", flat=True)) == [folder.pk]


def test_repo_ls_cat_and_dump(chain, tmp_path):
    folder = chain[2]
    assert run("repo", "ls", folder.pk).split() == ["aiida.out", "sub/"]
    assert json.loads(run("repo", "ls", folder.pk, "sub", "--format", "json")) == [
        {"name": "x.dat", "type": "file"}
    ]
    assert run("repo", "cat", folder.pk, "aiida.out") == "JOB DONE\n"
    destination = tmp_path / "dump"
    run("repo", "dump", folder.pk, destination)
    assert (destination / "sub" / "x.dat").read_bytes() == b"1 2"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("cat", "{pk}", "../etc/passwd"), "'..'"),
        (("cat", "{pk}", "/etc/passwd"), "absolute"),
        (("cat", "{pk}", "missing"), "no file or directory"),
        (("ls", "{pk}", "aiida.out"), "is a file"),
    ],
)
def test_repo_refuses_bad_paths(chain, args, message):
    pk = chain[2].pk
    with pytest.raises(CommandError, match=message):
        run("repo", *(arg.format(pk=pk) for arg in args))


def test_dump_refuses_a_folder_with_content(chain, tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(CommandError, match="not an empty folder"):
        run("repo", "dump", chain[2].pk, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_dump_refuses_a_missing_parent_folder_and_creates_none(chain, tmp_path):
    destination = tmp_path / "x" / "y"
    with pytest.raises(CommandError, match=f"folder {tmp_path / 'x'} does not exist"):
        run("repo", "dump", chain[2].pk, destination)
    assert list(tmp_path.iterdir()) == []


def test_graph_refuses_a_missing_parent_folder_and_creates_none(chain, tmp_path):
    output = tmp_path / "x" / "graph.dot"
    with pytest.raises(CommandError, match=f"folder {tmp_path / 'x'} does not exist"):
        run("graph", chain[0].pk, "--format", "dot", "-o", output)
    assert list(tmp_path.iterdir()) == []


def test_errors_are_one_line_on_stderr_with_exit_code_1(tmp_path):
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "AIIDASITE_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=root, env=env, check=True
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "node", "show", "12345"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["CommandError: no node with pk 12345"]


def test_delete_is_silent_at_verbosity_0_given_after_the_action(chain):
    out = StringIO()
    call_command(
        "node", "delete", str(chain[2].pk), "--force", "--verbosity", "0", stdout=out
    )
    assert out.getvalue() == ""
    # The folder goes with its creator; the structure, an input, stays.
    assert list(DbNode.objects.values_list("pk", flat=True)) == [chain[0].pk]


def test_verbosity_2_names_each_node(chain):
    output = run("delete", chain[2].pk, "--dry-run", "-v", "2")
    assert "FolderData<" in output
    assert "CalcJobNode<" in output
