"""StructureData: its summary, and CIF/XYZ/XSF written by ASE over the API
and by ``node export``."""

from __future__ import annotations

import io
import math

import ase.io
import pytest
from django.core.management import CommandError, call_command

from nodes import services, types
from pictures.structure import structure_summary

pytestmark = pytest.mark.django_db


def test_summary_gives_formula_cell_volume_and_sites(workflow):
    summary = structure_summary(workflow["structure"])
    a = 5.431 * 0.99  # the first demo unit is strained by -1 %
    assert summary["formula"] == "Si2"
    assert summary["lengths"] == pytest.approx([a / math.sqrt(2)] * 3, rel=1e-4)
    assert summary["angles"] == pytest.approx([60.0, 60.0, 60.0])
    assert summary["volume"] == pytest.approx(a**3 / 4, rel=1e-4)
    assert summary["pbc"] == [True, True, True]
    assert [site["symbols"] for site in summary["sites"]] == ["Si", "Si"]
    assert summary["sites"][1]["position"] == pytest.approx([a / 4] * 3, rel=1e-4)


@pytest.mark.parametrize("fmt", ["cif", "xyz", "xsf"])
def test_download_reads_back_with_ase(api_client, workflow, fmt):
    structure = workflow["structure"]
    response = api_client.get(
        f"/api/v1/nodes/{structure.pk}/download/", {"format": fmt}
    )
    assert response.status_code == 200
    assert f"StructureData_{structure.pk}.{fmt}" in response["Content-Disposition"]
    atoms = ase.io.read(io.StringIO(response.content.decode()), format=fmt)
    assert atoms.get_chemical_formula() == "Si2"
    if fmt == "xyz":  # plain XYZ holds no cell: Cartesian positions
        expected = structure.attributes["sites"][1]["position"]
        assert atoms.positions[1] == pytest.approx(expected, abs=1e-5)
        return
    # CIF keeps the cell's lengths and angles, not its orientation.
    a = structure_summary(structure)["lengths"][0]
    assert atoms.cell.cellpar() == pytest.approx([a, a, a, 60, 60, 60], rel=1e-5)
    assert atoms.get_scaled_positions()[1] == pytest.approx([0.25] * 3, abs=1e-5)


def test_download_refuses_what_the_type_does_not_offer(api_client, workflow):
    structure = workflow["structure"]
    response = api_client.get(
        f"/api/v1/nodes/{structure.pk}/download/", {"format": "png"}
    )
    assert response.status_code == 400
    assert "formats: cif, xyz, xsf" in response.json()["detail"]
    assert api_client.get(f"/api/v1/nodes/{structure.pk}/download/").status_code == 400
    workchain = workflow["workchain"]
    response = api_client.get(
        f"/api/v1/nodes/{workchain.pk}/download/", {"format": "cif"}
    )
    assert response.status_code == 400
    assert "formats: none" in response.json()["detail"]
    missing = api_client.get("/api/v1/nodes/987654/download/", {"format": "cif"})
    assert missing.status_code == 404


def test_alloys_cannot_be_written(api_client, user):
    alloy = services.node_store(
        user=user,
        node_type=types.STRUCTURE,
        attributes={
            "cell": [[3, 0, 0], [0, 3, 0], [0, 0, 3]],
            "pbc1": True,
            "pbc2": True,
            "pbc3": False,
            "kinds": [{"name": "CuZn", "symbols": ["Cu", "Zn"], "weights": [0.5, 0.5]}],
            "sites": [{"kind_name": "CuZn", "position": [0, 0, 0]}],
        },
    )
    summary = structure_summary(alloy)
    assert summary["formula"] == "CuZn"
    assert summary["dimensionality"] == 2
    response = api_client.get(f"/api/v1/nodes/{alloy.pk}/download/", {"format": "cif"})
    assert response.status_code == 400
    assert "alloy" in response.json()["detail"]


def test_export_command_writes_a_cif(workflow, tmp_path):
    target = tmp_path / "si.cif"
    call_command(
        "node",
        "export",
        str(workflow["structure"].pk),
        "--format",
        "cif",
        "-o",
        str(target),
    )
    atoms = ase.io.read(target)
    assert atoms.get_chemical_formula() == "Si2"
    with pytest.raises(CommandError, match="cannot be downloaded as 'pdb'"):
        call_command("node", "export", str(workflow["structure"].pk), "--format", "pdb")


def test_export_command_refuses_a_missing_parent_folder(workflow, tmp_path):
    target = tmp_path / "missing" / "s.xyz"
    with pytest.raises(CommandError, match="missing does not exist; create it first"):
        call_command(
            "node",
            "export",
            str(workflow["structure"].pk),
            "--format",
            "xyz",
            "-o",
            str(target),
        )
    assert list(tmp_path.iterdir()) == []
