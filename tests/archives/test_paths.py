"""Labels and names chosen by users never become paths on the server."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from aiidasite.downloads import safe_filename
from aiidasite.exceptions import InputValidationError
from archives.services import archive_export
from nodes import services, types

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create(username="owner")


def group_with_a_node(user, label: str):
    group = services.group_create(user=user, label=label)
    node = services.node_store(user=user, node_type=types.INT, attributes={"value": 1})
    services.group_add_nodes(group=group, pks=[node.pk])
    return group


def hostile_labels(tmp_path: Path) -> list[str]:
    depth = "../" * (len(Path.cwd().parts) + len(tmp_path.parts) + 2)
    return [
        f"{depth}{str(tmp_path).lstrip('/')}/relative/x",
        f"{tmp_path}/dir/new/abs",
        "../../../../tmp/x",
    ]


def test_export_by_api_writes_nothing_where_a_label_points(tmp_path, owner):
    area = tmp_path / "area"
    area.mkdir()
    client = APIClient()
    for label in hostile_labels(area):
        group_with_a_node(owner, label)

        response = client.get("/api/v1/archives/", {"group": label})

        assert response.status_code == 200, response.content
        disposition = response["Content-Disposition"]
        assert "/" not in disposition.split("filename=", 1)[1]
        assert ".." not in disposition
        content = b"".join(response.streaming_content)
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            assert "db.sqlite3" in archive.namelist()
    assert list(area.iterdir()) == []
    assert not Path("/tmp/x.aiida").exists()


def test_group_labels_that_look_like_paths_are_kept_as_labels(tmp_path, user):
    client = APIClient()
    client.force_authenticate(user)
    label = f"{tmp_path}/dir/new/abs"

    created = client.post("/api/v1/groups/", {"label": label}, format="json")
    download = client.get("/api/v1/archives/", {"group": label})

    assert created.status_code == 201
    assert created.json()["label"] == label
    assert download.status_code == 200
    disposition = download["Content-Disposition"]
    assert disposition.endswith('_dir_new_abs.aiida"')
    assert "/" not in disposition
    assert not (tmp_path / "dir").exists()


def test_export_command_refuses_a_missing_folder_without_parents(tmp_path, owner):
    group_with_a_node(owner, "g")
    target = tmp_path / "missing" / "deeper" / "g.aiida"

    with pytest.raises(CommandError, match="does not exist; choose --parents"):
        call_command("archive", "export", str(target), "--groups", "g")

    assert not (tmp_path / "missing").exists()


def test_export_command_creates_parents_when_asked(tmp_path, owner):
    group_with_a_node(owner, "g")
    target = tmp_path / "missing" / "deeper" / "g.aiida"

    call_command("archive", "export", str(target), "--groups", "g", "--parents")

    assert zipfile.is_zipfile(target)


def test_export_refuses_a_folder_as_target_and_a_file_as_folder(tmp_path, owner):
    group_with_a_node(owner, "g")
    (tmp_path / "plain").write_text("x")

    with pytest.raises(CommandError, match="is a folder"):
        call_command("archive", "export", str(tmp_path), "--groups", "g")
    with pytest.raises(InputValidationError, match="cannot write"):
        archive_export(
            str(tmp_path / "plain" / "sub" / "g.aiida"),
            group_labels=["g"],
            parents=True,
        )
    assert (tmp_path / "plain").read_text() == "x"


def test_downloaded_file_names_are_plain(api_client, owner):
    node = services.node_store(
        user=owner,
        node_type=types.SINGLEFILE,
        attributes={},
        files={'..evil"; name=x ä.txt': b"hello"},
    )
    name = '..evil"; name=x ä.txt'

    response = api_client.get(f"/api/v1/nodes/{node.pk}/files/{quote(name)}")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"hello"
    assert response["Content-Disposition"] == (
        'attachment; filename="evil_name_x_a.txt"'
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("../../../../tmp/x", "tmp_x.aiida"),
        ("/tmp/dir/new/abs", "tmp_dir_new_abs.aiida"),
        ("..", "group.aiida"),
        ("", "group.aiida"),
        ("C:\\Windows\\evil", "C_Windows_evil.aiida"),
        ("café résumé Ω", "cafe_resume.aiida"),
        ("bands.aiida", "bands.aiida"),
        ("x" * 300, "x" * 100 + ".aiida"),
    ],
)
def test_safe_filename_keeps_plain_names_only(text, expected):
    assert safe_filename(text, suffix=".aiida", fallback="group") == expected


def test_archive_migrate_creates_missing_folders_only_when_asked(tmp_path, owner):
    group_with_a_node(owner, "g")
    source = tmp_path / "source.aiida"
    call_command("archive", "export", str(source), "--groups", "g")
    target = tmp_path / "missing" / "out.aiida"

    with pytest.raises(CommandError, match="does not exist; choose --parents"):
        call_command("archive", "migrate", str(source), str(target))
    assert not (tmp_path / "missing").exists()

    call_command("archive", "migrate", str(source), str(target), "--parents")
    assert zipfile.is_zipfile(target)


@pytest.mark.parametrize("command", ["export", "migrate"])
def test_archives_are_never_moved_over_a_device_or_a_pipe(tmp_path, owner, command):
    """The archive is written aside and moved into place: over a special file
    that would replace it, as ``--overwrite /dev/null`` once replaced the
    device with a regular file."""
    group_with_a_node(owner, "g")
    source = tmp_path / "source.aiida"
    call_command("archive", "export", str(source), "--groups", "g")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)

    for target in (str(pipe), os.devnull):
        if command == "export":
            arguments = ("export", target, "--groups", "g", "--overwrite")
        else:
            arguments = ("migrate", str(source), target, "--overwrite")
        with pytest.raises(CommandError, match="is not a regular file"):
            call_command("archive", *arguments)
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert stat.S_ISCHR(Path(os.devnull).stat().st_mode)
