"""What a node's admin page shows: graph, process, structure, bands, k-points,
groups and files; and the admin's own name."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from nodes import services, types
from nodes.models import DbNode

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(django_user_model) -> Client:
    staff = django_user_model.objects.create_superuser(username="root", password="pw")
    client = Client()
    client.force_login(staff)
    return client


def page(client: Client, node: DbNode) -> str:
    response = client.get(f"/admin/nodes/dbnode/{node.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_workchain_page_shows_process_and_clickable_graph(admin_client, workflow):
    html = page(admin_client, workflow["workchain"])
    assert "Process PwBandsWorkChain" in html
    assert re.search(r'pictures-state">Finished<', html)
    process = html[html.index('id="process-panel"') : html.index('id="graph-panel"')]
    structure_url = f"/admin/nodes/dbnode/{workflow['structure'].pk}/change/"
    inputs = process[process.index("Inputs") : process.index("Outputs")]
    assert structure_url in inputs
    called = process[process.index("Called") :]
    assert called.count("CalcJobNode") == 2
    assert "CalcFunctionNode" in called
    graph = html[html.index('id="graph-panel"') :]
    assert "<svg" in graph
    assert f'xlink:href="{structure_url}"' in graph


def test_failed_process_shows_its_exit_message(admin_client, user):
    calc = services.node_store(
        user=user,
        node_type=types.CALCJOB,
        attributes={
            "process_state": "finished",
            "exit_status": 310,
            "exit_message": "The output file could not be read.",
            "process_label": "PwCalculation",
        },
    )
    html = page(admin_client, calc)
    assert 'pictures-state failed">Finished<' in html
    assert "The output file could not be read." in html
    assert ">310<" in html


def test_structure_page_shows_formula_cell_and_sites(admin_client, workflow):
    html = page(admin_client, workflow["structure"])
    panel = html[html.index('id="structure-panel"') : html.index('id="graph-panel"')]
    assert "Structure Si2" in panel
    assert "60.00, 60.00, 60.00°" in panel
    assert "(3D)" in panel
    assert panel.count("<td>Si</td>") == 4  # two sites: kind and symbol
    base = f"/api/v1/nodes/{workflow['structure'].pk}/download/"
    for fmt in ("cif", "xyz", "xsf"):
        assert f"{base}?format={fmt}" in panel


def test_bands_page_embeds_the_plot(admin_client, workflow):
    html = page(admin_client, workflow["bands"])
    url = f"/api/v1/nodes/{workflow['bands'].pk}/download/?format=svg"
    assert f'src="{url}"' in html
    plot = admin_client.get(url)
    assert plot.status_code == 200
    assert b"Energy (eV)" in plot.content


def test_kpoints_page_shows_mesh_or_list(admin_client, workflow):
    mesh, path = DbNode.objects.filter(node_type=types.KPOINTS).order_by("pk")
    assert "Mesh <strong>6 \u00d7 6 \u00d7 6</strong>" in page(admin_client, mesh)
    listed = page(admin_client, path)
    assert "41 k-points" in listed
    assert "… and 11 more" in listed


def test_node_page_lists_its_groups(admin_client, workflow, user):
    group = services.group_create(user=user, label="my-structures")
    services.group_add_nodes(group=group, pks=[workflow["structure"].pk])
    html = page(admin_client, workflow["structure"])
    panel = html[html.index('id="groups-panel"') :]
    assert f"/admin/nodes/dbgroup/{group.pk}/change/" in panel
    assert "my-structures" in panel
    assert "In no group." in page(admin_client, workflow["bands"])


def test_labels_are_escaped_in_the_graph(admin_client, user):
    node = services.node_store(
        user=user, node_type=types.INT, label="<script>alert(1)</script>"
    )
    html = page(admin_client, node)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html


def test_text_files_show_inline_and_every_link_is_encoded(admin_client, user):
    node = services.node_store(
        user=user,
        node_type=types.FOLDER,
        files={
            "aiida.out": b"JOB DONE\n",
            "my file #1.txt": b"hash and spaces",
            "data.bin": bytes(range(256)),
            "big.txt": b"x" * (70 * 1024),
        },
    )
    html = page(admin_client, node)
    assert '<pre class="file-text"' in html
    assert "JOB DONE" in html
    assert "hash and spaces" in html
    assert "first 64 KiB" in html
    assert "data.bin (text" not in html
    link = f"/api/v1/nodes/{node.pk}/files/my%20file%20%231.txt"
    assert f'href="{link}"' in html
    download = admin_client.get(link)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"hash and spaces"


def test_admin_carries_the_product_name_and_one_groups_section(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert "aiidasite" in html
    assert "Django administration" not in html
    names = re.findall(r'<th scope="row"[^>]*>\s*<a href="[^"]+">([^<]+)</a>', html)
    assert names.count("Groups") == 1, names
    assert "Provenance groups" in names


def test_process_page_shows_its_logs_and_computer(admin_client, user):
    from computers.models import DbComputer
    from logs.models import DbLog

    computer = DbComputer.objects.create(
        label="daint", hostname="daint.cscs.ch", scheduler_type="core.slurm"
    )
    calc = services.node_store(
        user=user,
        node_type=types.CALCJOB,
        attributes={"process_state": "finished", "exit_status": 0},
    )
    DbNode.objects.filter(pk=calc.pk).update(dbcomputer=computer)
    for level, message in (("REPORT", "submitted <job>"), ("ERROR", "walltime hit")):
        DbLog.objects.create(
            dbnode=calc, levelname=level, loggername="aiida.calc", message=message
        )
    html = page(admin_client, calc)
    logs = html[html.index('id="process-logs"') :]
    assert "Log (2 records)" in html
    assert "submitted &lt;job&gt;" in logs
    assert '<tr class="log-error"><td>' in logs
    assert "walltime hit" in logs
    assert "daint" in html
    assert "daint.cscs.ch" in html
    code = services.node_store(
        user=user, node_type="data.core.code.installed.InstalledCode."
    )
    DbNode.objects.filter(pk=code.pk).update(dbcomputer=computer)
    assert 'id="computer-panel"' in page(admin_client, code)


def test_node_list_shows_a_structures_formula(admin_client, workflow):
    html = admin_client.get("/admin/nodes/dbnode/").content.decode()
    assert '<td class="field-formula">Si2</td>' in html
    assert html.count('<td class="field-formula">Si2</td>') == 1
    structures = admin_client.get("/admin/nodes/dbnode/", {"type": "StructureData"})
    assert '<td class="field-formula">Si2</td>' in structures.content.decode()


def test_only_the_first_files_are_previewed(admin_client, user):
    files = {f"out{i:02}.txt": f"text of file {i}".encode() for i in range(25)}
    node = services.node_store(user=user, node_type=types.FOLDER, files=files)
    html = page(admin_client, node)
    assert html.count('<pre class="file-text"') == 20
    assert "text of file 19" in html
    assert "text of file 20" not in html
    assert f"/api/v1/nodes/{node.pk}/files/out24.txt" in html


def test_graph_options_on_the_node_page(admin_client, workflow):
    bands, structure = workflow["bands"], workflow["structure"]
    url = f"/admin/nodes/dbnode/{bands.pk}/change/"
    structure_url = f"/admin/nodes/dbnode/{structure.pk}/change/"

    def graph(query):
        response = admin_client.get(url, query)
        assert response.status_code == 200
        html = response.content.decode()
        return html[html.index('id="graph-panel"') :]

    assert structure_url not in graph({})
    deeper = graph({"graph_depth": "2", "graph_direction": "ancestors"})
    assert f'xlink:href="{structure_url}"' in deeper
    assert "<strong>ancestors</strong>" in deeper
    only_create = graph(
        {"graph_depth": "2", "graph_direction": "ancestors", "graph_links": "create"}
    )
    assert f'xlink:href="{structure_url}"' not in only_create
    assert "RETURN" not in only_create
    assert 'class="pictures-link-type off" title="show return links"' in only_create
    refused = graph({"graph_depth": "99"})
    assert "the depth is between 0 and 50" in refused
    assert 'pictures-graph"' not in refused
