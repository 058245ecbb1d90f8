"""The statistics, bands, closest_parents and query commands."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.queries.conftest import BANDS, CALCJOB, INT, STRUCTURE

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def bands_graph(graph):
    structure = graph.structure(["Si", "Si"])
    calc = graph.node(CALCJOB)
    graph.link(structure, calc, "input_calc", "structure")
    bands = graph.node(BANDS, label="silicon bands")
    graph.link(calc, bands, "create", "bands")
    graph.group("done", [bands])
    return structure, calc, bands


def test_statistics_as_text_and_json(graph):
    graph.node(INT)
    graph.node(INT)
    text = run("statistics")
    assert "total: 2" in text
    assert INT in text
    data = json.loads(run("statistics", "--format", "json"))
    assert data["total"] == 2
    assert json.loads(run("statistics", "--user", "alice", "--format", "json"))[
        "types"
    ] == {INT: 2}


def test_statistics_of_an_unknown_user_fails(graph):
    with pytest.raises(CommandError, match="no user 'ghost'"):
        run("statistics", "--user", "ghost")


def test_bands_list_shows_formulas(bands_graph):
    _, _, bands = bands_graph
    text = run("bands", "list")
    assert "Si2" in text
    assert "silicon bands" in text
    rows = json.loads(
        run(
            "bands",
            "list",
            "--group",
            "done",
            "--past-days",
            "60",
            "--all-users",
            "--format",
            "json",
        )
    )
    assert [(r["id"], r["formula"]) for r in rows] == [(bands.pk, "Si2")]
    assert (
        json.loads(run("bands", "list", "--past-days", "1", "--format", "json")) == []
    )


def test_bands_list_refuses_unknown_groups_and_bad_days(bands_graph):
    with pytest.raises(CommandError, match="no group 'nope'"):
        run("bands", "list", "--group", "nope")
    with pytest.raises(CommandError, match="past days must be a whole number"):
        run("bands", "list", "--past-days", "0")


def test_closest_parents_prints_one_line_per_pk(bands_graph, graph):
    structure, calc, bands = bands_graph
    loose = graph.node(INT)
    text = run(
        "closest_parents", str(bands.pk), str(loose.pk), "--node-type", "StructureData"
    )
    assert text.splitlines() == [f"{bands.pk}\t{structure.pk}", f"{loose.pk}\t-"]
    rows = json.loads(run("closest_parents", str(bands.pk), "--format", "json"))
    assert rows == [{"pk": bands.pk, "parent": calc.pk}]
    with pytest.raises(CommandError, match="no node with pk 424242"):
        run("closest_parents", "424242")


def test_closest_parents_takes_uuids_and_prefixes_like_node_show(bands_graph):
    structure, _, bands = bands_graph
    uuid = str(bands.uuid)
    # Prefixes with a dash: all digits would be a pk.
    for identifier in (uuid, uuid[:9], uuid[:13].upper()):
        text = run("closest_parents", identifier, "--node-type", "StructureData")
        assert text.splitlines() == [f"{bands.pk}\t{structure.pk}"]
    with pytest.raises(CommandError, match="no node with pk or uuid 'zz'"):
        run("closest_parents", "zz")


def test_query_runs_a_json_file(graph, tmp_path, monkeypatch):
    graph.node(INT, label="a", attributes={"value": 1})
    graph.node(INT, label="b", attributes={"value": 2})
    monkeypatch.chdir(tmp_path)
    Path("q.json").write_text(
        json.dumps(
            {
                "path": [{"entity": "Int", "tag": "i"}],
                "filters": {"i": {"attributes.value": {">": 1}}},
                "project": {"i": ["label", "attributes"]},
            }
        )
    )
    assert run("query", "q.json").splitlines() == ['b\t{"value": 2}']
    assert json.loads(run("query", "q.json", "--format", "json")) == [
        {"i": {"label": "b", "attributes": {"value": 2}}}
    ]


def test_query_reads_any_path_and_standard_input(graph, tmp_path, monkeypatch):
    graph.node(INT, label="a")
    query = json.dumps({"path": ["Int"], "project": {"int": ["label"]}})
    elsewhere = tmp_path / "elsewhere" / "q.json"
    elsewhere.parent.mkdir()
    elsewhere.write_text(query)
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert run("query", str(elsewhere)).splitlines() == ["a"]
    assert run("query", "../elsewhere/q.json").splitlines() == ["a"]
    monkeypatch.setattr("sys.stdin", io.StringIO(query))
    assert run("query", "-").splitlines() == ["a"]


def test_query_errors_are_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CommandError, match=r"no query file 'missing\.json'"):
        run("query", "missing.json")
    with pytest.raises(CommandError, match="cannot read"):
        run("query", str(tmp_path))
    Path("bad.json").write_text("{not json")
    with pytest.raises(CommandError, match="not JSON"):
        run("query", "bad.json")
    Path("wrong.json").write_text(json.dumps({"path": ["Unobtainium"]}))
    with pytest.raises(CommandError, match="Unknown entity"):
        run("query", "wrong.json")
    monkeypatch.setattr("sys.stdin", io.StringIO("[" * 5000))
    with pytest.raises(CommandError, match="nests deeper"):
        run("query", "-")


def test_query_refuses_a_lone_surrogate_in_one_line(graph, monkeypatch):
    graph.node(INT, label="a")
    # JSON's escape, as a client writes it: json.loads gives a lone surrogate.
    query = (
        '{"path":[{"entity_type":"","orm_base":"node","tag":"n"}],'
        '"filters":{"n":{"label":"\\ud800"}}}'
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(query))
    with pytest.raises(CommandError, match="lone surrogate") as raised:
        run("query", "-")
    assert "\n" not in str(raised.value)


def test_a_failing_command_exits_1_with_one_line(tmp_path):
    # A scratch SQLite site, whatever database the tests themselves use.
    env = {**os.environ, "AIIDASITE_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "closest_parents",
            "77",
            "--node-type",
            STRUCTURE,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["CommandError: no node with pk 77"]
