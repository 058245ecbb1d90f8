"""``/api/v1/archives/``: upload to import, download a group's archive."""

from __future__ import annotations

import io
import zipfile

import pytest

from archives.services import archive_import
from nodes.models import DbNode

pytestmark = pytest.mark.django_db


def upload(client, path):
    with open(path, "rb") as handle:
        return client.post("/api/v1/archives/", {"file": handle}, format="multipart")


def test_staff_upload_imports_then_reports_nothing_new(staff_client, bands_archive):
    first = upload(staff_client, bands_archive)
    second = upload(staff_client, bands_archive)

    assert first.status_code == 201
    assert first.json()["nodes_new"] == 54
    assert second.status_code == 200
    assert second.json()["nodes_existing"] == 54
    assert DbNode.objects.count() == 54


def test_anonymous_upload_is_refused(api_client, bands_archive):
    response = upload(api_client, bands_archive)

    assert response.status_code in (401, 403)
    assert DbNode.objects.count() == 0


def test_upload_of_a_broken_file_is_a_400(staff_client, tmp_path):
    bad = tmp_path / "bad.aiida"
    bad.write_bytes(b"PK\x03\x04 broken")

    response = upload(staff_client, bad)

    assert response.status_code == 400
    assert "zip" in response.json()["detail"]


def test_upload_without_a_file_is_a_400(staff_client):
    response = staff_client.post("/api/v1/archives/", {}, format="multipart")

    assert response.status_code == 400


def test_group_export_downloads_an_archive(api_client, bands_archive):
    archive_import(str(bands_archive))

    response = api_client.get("/api/v1/archives/?group=bands-set-1")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    content = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert {"metadata.json", "db.sqlite3"} <= set(archive.namelist())


def test_export_of_an_unknown_group_is_a_404(api_client):
    response = api_client.get("/api/v1/archives/?group=nope")

    assert response.status_code == 404
    assert response.json() == {"detail": "no group with label 'nope'"}


def test_export_without_a_group_is_a_400(api_client):
    response = api_client.get("/api/v1/archives/")

    assert response.status_code == 400
