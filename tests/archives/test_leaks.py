"""What archive downloads and errors tell about the site: no e-mails to
anonymous clients (unless the site allows), no server paths."""

from __future__ import annotations

import io
import sqlite3
import zipfile
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from aiidasite.exceptions import CorruptArchive
from aiidasite.tempdirs import temp_root
from archives.views import server_paths_hidden
from nodes import services, types

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_group(django_user_model):
    owner = django_user_model.objects.create(
        username="carol", email="carol@lab.example", first_name="Carol", last_name="C"
    )
    group = services.group_create(user=owner, label="shared")
    node = services.node_store(user=owner, node_type=types.INT, attributes={"v": 1})
    services.group_add_nodes(group=group, pks=[node.pk])
    return group


def exported_users(response, tmp_path: Path) -> list[tuple]:
    assert response.status_code == 200, response.content
    content = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        (tmp_path / "db.sqlite3").write_bytes(archive.read("db.sqlite3"))
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        return db.execute(
            "SELECT email, first_name, last_name FROM db_dbuser"
        ).fetchall()


def test_anonymous_downloads_carry_no_emails_or_names(shared_group, tmp_path):
    response = APIClient().get("/api/v1/archives/", {"group": "shared"})

    users = exported_users(response, tmp_path)

    assert users == [(f"user-{shared_group.user_id}@hidden.invalid", "", "")]


def test_signed_in_downloads_carry_users_as_aiida_exports_them(
    shared_group, tmp_path, user
):
    client = APIClient()
    client.force_authenticate(user)

    users = exported_users(
        client.get("/api/v1/archives/", {"group": "shared"}), tmp_path
    )

    assert users == [("carol@lab.example", "Carol", "C")]


def test_a_site_may_show_emails_to_anonymous_clients(shared_group, tmp_path, settings):
    settings.AIIDASITE_HIDE_EMAILS_FROM_ANONYMOUS = False

    response = APIClient().get("/api/v1/archives/", {"group": "shared"})

    assert exported_users(response, tmp_path) == [("carol@lab.example", "Carol", "C")]


@pytest.mark.parametrize("content", [b"PK\x03\x04 broken", b"not a zip at all"])
def test_upload_errors_name_no_server_path(staff_client, tmp_path, content):
    bad = tmp_path / "mine.aiida"
    bad.write_bytes(content)

    with open(bad, "rb") as handle:
        response = staff_client.post(
            "/api/v1/archives/", {"file": handle}, format="multipart"
        )

    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "zip" in detail
    assert "/" not in detail


def test_errors_raised_in_archive_views_lose_server_paths():
    upload = f"{temp_root()}/aiidasite-upload-1/upload.aiida"
    inner = f"{temp_root()}/aiidasite-archive-2/db.sqlite3"

    with pytest.raises(CorruptArchive) as error:
        with server_paths_hidden({upload: "the upload"}):
            raise CorruptArchive(f"{upload}: bad member; {inner}: no such table")

    assert str(error.value) == (
        "the upload: bad member; <temporary file>: no such table"
    )
