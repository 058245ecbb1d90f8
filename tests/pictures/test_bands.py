"""BandsData plots and numbers; KpointsData as mesh or list."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from nodes import demo
from nodes.models import DbNode
from pictures.bands import kpoints_summary

pytestmark = pytest.mark.django_db


def test_json_gives_path_labels_units_and_every_band(api_client, workflow):
    bands = workflow["bands"]
    response = api_client.get(f"/api/v1/nodes/{bands.pk}/download/", {"format": "json"})
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["units"] == "eV"
    assert data["x_units"] == "1/Å"
    assert [name for _, name in data["labels"]] == ["Γ", "X", "W", "L", "Γ"]
    assert len(data["bands"]) == 1  # one spin
    assert len(data["bands"][0]) == demo.BANDS
    assert all(len(band) == demo.POINTS for band in data["bands"][0])
    assert data["x"][0] == 0
    assert data["x"] == sorted(data["x"])
    # Gamma to X of an fcc cell is 2*pi/a in 1/Angstrom.
    a = 5.431 * 0.99
    x_point = data["labels"][1][0]
    assert x_point == pytest.approx(2 * 3.141592653589793 / a, rel=1e-4)
    # The lowest free-electron band starts at zero energy at Gamma.
    assert data["bands"][0][0][0] == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("fmt", "start", "media"),
    [("png", b"\x89PNG", "image/png"), ("svg", b"<?xml", "image/svg+xml")],
)
def test_plot_downloads_as_image(api_client, workflow, fmt, start, media):
    bands = workflow["bands"]
    response = api_client.get(f"/api/v1/nodes/{bands.pk}/download/", {"format": fmt})
    assert response.status_code == 200
    assert response["Content-Type"] == media
    assert response.content.startswith(start)
    if fmt == "svg":
        assert "Energy (eV)" in response.content.decode()


def test_bands_without_their_array_file_are_refused(api_client, workflow):
    bands = workflow["bands"]
    DbNode.objects.filter(pk=bands.pk).update(attributes={"units": "eV"})
    response = api_client.get(f"/api/v1/nodes/{bands.pk}/download/", {"format": "png"})
    assert response.status_code == 400
    assert response.json() == {"detail": f"node {bands.pk} has no array 'bands'"}


def test_bands_command_writes_the_plot(workflow, tmp_path):
    target = tmp_path / "bands.svg"
    call_command(
        "bands", "plot", str(workflow["bands"].pk), "--format", "svg", "-o", str(target)
    )
    assert "Energy (eV)" in target.read_text()
    with pytest.raises(CommandError, match="cannot be downloaded as 'png'"):
        call_command("bands", "plot", str(workflow["structure"].pk))


def test_kpoints_show_their_mesh_or_their_list(workflow):
    scf_inputs = DbNode.objects.filter(
        node_type="data.core.array.kpoints.KpointsData."
    ).order_by("pk")
    mesh, path = list(scf_inputs)
    assert kpoints_summary(mesh) == {"mesh": [6, 6, 6], "offset": [0, 0, 0]}
    listed = kpoints_summary(path)
    assert len(listed["kpoints"]) == demo.POINTS
    assert listed["kpoints"][10] == pytest.approx([0.5, 0.0, 0.5])
    assert listed["labels"][1] == [10, "X"]
