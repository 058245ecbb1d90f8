"""A node's provenance neighbourhood: JSON, SVG and the ``node graph`` command."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from nodes import services, types
from pictures import graph

pytestmark = pytest.mark.django_db


def edges(data):
    return {(e["source"], e["target"], e["type"], e["label"]) for e in data["edges"]}


def test_workchain_neighbourhood_holds_inputs_calls_and_returns(api_client, workflow):
    workchain = workflow["workchain"]
    response = api_client.get(f"/api/v1/nodes/{workchain.pk}/graph/")
    assert response.status_code == 200
    data = response.json()
    assert data["root"] == workchain.pk
    assert not data["truncated"]
    assert (
        workflow["structure"].pk,
        workchain.pk,
        "input_work",
        "structure",
    ) in edges(data)
    assert (workchain.pk, workflow["bands"].pk, "return", "band_structure") in edges(
        data
    )
    kinds = {node["class_name"]: node["kind"] for node in data["nodes"]}
    assert kinds == {
        "StructureData": "data",
        "Dict": "data",
        "WorkChainNode": "workflow",
        "CalcJobNode": "calculation",
        "CalcFunctionNode": "calculation",
        "BandsData": "data",
    }
    root = next(node for node in data["nodes"] if node["id"] == workchain.pk)
    assert root["process_state"] == "finished"
    assert root["exit_status"] == 0
    assert root["process_label"] == "PwBandsWorkChain"


def test_depth_direction_and_link_types_narrow_the_walk(api_client, workflow):
    bands = workflow["bands"]
    url = f"/api/v1/nodes/{bands.pk}/graph/"
    only_root = api_client.get(url, {"depth": 0}).json()
    assert [node["id"] for node in only_root["nodes"]] == [bands.pk]
    assert only_root["edges"] == []
    descendants = api_client.get(url, {"direction": "descendants"}).json()
    assert [node["id"] for node in descendants["nodes"]] == [bands.pk]
    creators = api_client.get(
        url, {"direction": "ancestors", "link_types": "create"}
    ).json()
    assert {e["type"] for e in creators["edges"]} == {"create"}
    assert len(creators["nodes"]) == 2
    # Two levels up the bands reach the structure through its creator.
    deeper = api_client.get(url, {"direction": "ancestors", "depth": 2}).json()
    assert workflow["structure"].pk in {node["id"] for node in deeper["nodes"]}


def test_svg_draws_every_node_linked_to_its_admin_page(api_client, workflow):
    workchain = workflow["workchain"]
    response = api_client.get(f"/api/v1/nodes/{workchain.pk}/graph/", {"format": "svg"})
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    svg = response.content.decode()
    assert svg.lstrip().startswith("<?xml")
    assert f"/admin/nodes/dbnode/{workchain.pk}/change/" in svg
    assert f"PwBandsWorkChain ({workchain.pk})" in svg
    assert "WorkChainNode" in svg
    assert "Finished [0]" in svg
    assert "RETURN" in svg
    assert "band_structure" in svg


@pytest.mark.parametrize(
    "query",
    [
        {"depth": -1},
        {"depth": 51},
        {"depth": "two"},
        {"direction": "sideways"},
        {"link_types": "create,bogus"},
        {"format": "gif"},
    ],
)
def test_bad_graph_options_are_refused(api_client, workflow, query):
    response = api_client.get(f"/api/v1/nodes/{workflow['bands'].pk}/graph/", query)
    assert response.status_code == 400


def test_graph_of_missing_node_is_404(api_client, db):
    response = api_client.get("/api/v1/nodes/987654/graph/", {"format": "svg"})
    assert response.status_code == 404
    assert response.json() == {"detail": "no node with pk 987654"}


def test_walk_stops_at_the_node_limit(make_chain):
    first = make_chain(6)
    cut = graph.neighbourhood(node=first, depth=10, max_nodes=4)
    assert cut.truncated
    assert len(cut.nodes) == 4
    whole = graph.neighbourhood(node=first, depth=10)
    assert not whole.truncated
    assert len(whole.nodes) == 11


def test_failed_process_stands_out(make_chain):
    first = make_chain(1)
    calc = services.node_links(node=first)[1][0].output
    calc.attributes = {"process_state": "finished", "exit_status": 310}
    calc.save()
    drawn = graph.render(graph.neighbourhood(node=first), "dot").decode()
    assert "Finished [310]" in drawn
    assert "#b00000" in drawn


@pytest.fixture
def make_chain(user):
    """``n`` Ints each the input of a calculation creating the next."""

    def make(n):
        first = services.node_store(
            user=user, node_type=types.INT, attributes={"value": 0}
        )
        data = first
        for i in range(n):
            calc = services.node_store(
                user=user,
                node_type=types.CALCFUNCTION,
                attributes={"process_state": "finished", "exit_status": 0},
                links=[services.IncomingLink(data.pk, "x", "input_calc")],
            )
            data = services.node_store(
                user=user,
                node_type=types.INT,
                attributes={"value": i + 1},
                links=[services.IncomingLink(calc.pk, "result", "create")],
            )
        return first

    return make


@pytest.mark.parametrize("fmt", ["svg", "png", "dot"])
def test_command_writes_the_graph(workflow, tmp_path, fmt):
    target = tmp_path / f"graph.{fmt}"
    call_command(
        "node",
        "graph",
        str(workflow["bands"].pk),
        "--ancestors",
        "--depth",
        "2",
        "--format",
        fmt,
        "-o",
        str(target),
    )
    content = target.read_bytes()
    start = {"svg": b"<?xml", "png": b"\x89PNG", "dot": b"digraph"}[fmt]
    assert content.startswith(start)
    if fmt == "dot":
        assert f"{workflow['structure'].pk} ->".encode() in content


def test_command_refuses_bad_options_with_one_line(workflow, tmp_path):
    with pytest.raises(CommandError, match="unknown link type bogus"):
        call_command(
            "node", "graph", str(workflow["bands"].pk), "--link-types", "bogus"
        )
    with pytest.raises(CommandError, match="no node with pk 987654"):
        call_command("node", "graph", "987654", "-o", str(tmp_path / "x.svg"))
    assert not (tmp_path / "x.svg").exists()
    with pytest.raises(CommandError, match="missing does not exist; create it first"):
        call_command(
            "node",
            "graph",
            str(workflow["bands"].pk),
            "-o",
            str(tmp_path / "missing" / "x.svg"),
        )
    assert not (tmp_path / "missing").exists()


def test_without_graphviz_drawing_is_a_clear_503(
    api_client, workflow, monkeypatch, tmp_path
):
    monkeypatch.setenv("PATH", str(tmp_path))
    url = f"/api/v1/nodes/{workflow['bands'].pk}/graph/"
    response = api_client.get(url, {"format": "svg"})
    assert response.status_code == 503
    assert "apt-get install graphviz" in response.json()["detail"]
    assert api_client.get(url).status_code == 200
