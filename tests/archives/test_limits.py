"""Archives too large for their limits are refused before anything is
extracted, and temporary folders of killed processes are removed."""

from __future__ import annotations

import io
import os
import signal
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from aiidasite.exceptions import CorruptArchive
from aiidasite.tempdirs import OWNER_FILE, owned_tempdir
from archives.services import archive_import
from nodes.models import DbNode
from repository import get_backend

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def tmp_root(settings, tmp_path) -> Path:
    """A temporary folder of our own, to see what an import leaves in it."""
    root = tmp_path / "tmp"
    root.mkdir()
    settings.AIIDASITE_TMP_DIR = str(root)
    return root


def rebuild(base: Path, target: Path, members: dict[str, bytes]) -> Path:
    """A copy of ``base`` with some members replaced or added."""
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(target, "w") as copy:
        for info in source.infolist():
            if info.filename not in members:
                copy.writestr(info, source.read(info))
        for name, data in members.items():
            copy.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return target


def declare_size(archive: Path, member: str, size: int) -> None:
    """Make the central directory claim ``size`` bytes for ``member``."""
    raw = bytearray(archive.read_bytes())
    name = member.encode()
    start = 0
    while True:
        start = raw.index(b"PK\x01\x02", start)
        name_length = struct.unpack_from("<H", raw, start + 28)[0]
        if raw[start + 46 : start + 46 + name_length] == name:
            break
        start += 4
    struct.pack_into("<I", raw, start + 24, size)
    archive.write_bytes(bytes(raw))


def refused_leaving_nothing(archive: Path, tmp_root: Path, expected: str) -> None:
    objects_before = set(get_backend().list_objects())
    with pytest.raises(CorruptArchive, match=expected):
        archive_import(str(archive))
    assert list(tmp_root.iterdir()) == []
    assert not DbNode.objects.exists()
    assert set(get_backend().list_objects()) == objects_before


def test_a_database_above_its_limit_is_refused_before_extraction(
    settings, bands_archive, tmp_path, tmp_root
):
    settings.AIIDASITE_ARCHIVE_MAX_DATABASE_MIB = 1
    with zipfile.ZipFile(bands_archive) as source:
        database = source.read("db.sqlite3")
    # Incompressible padding: the member is large on disk too, no bomb.
    archive = rebuild(
        bands_archive,
        tmp_path / "big.aiida",
        {"db.sqlite3": database + os.urandom(MIB)},
    )

    refused_leaving_nothing(archive, tmp_root, r"db\.sqlite3 holds more than 1 MiB")


def test_a_database_zip_bomb_is_refused_by_its_ratio(bands_archive, tmp_path, tmp_root):
    archive = rebuild(
        bands_archive, tmp_path / "bomb.aiida", {"db.sqlite3": bytes(64 * MIB)}
    )
    assert archive.stat().st_size < MIB

    refused_leaving_nothing(archive, tmp_root, "refused as a zip bomb")


def test_a_declared_size_of_gigabytes_is_refused_without_reading(
    bands_archive, tmp_path, tmp_root
):
    archive = rebuild(bands_archive, tmp_path / "liar.aiida", {})
    declare_size(archive, "db.sqlite3", 4 * 1024 * MIB - 1)

    refused_leaving_nothing(archive, tmp_root, "refused as a zip bomb")


def test_a_database_larger_than_declared_is_cut_at_the_declared_size(
    settings, bands_archive, tmp_path, tmp_root
):
    settings.AIIDASITE_ARCHIVE_MAX_DATABASE_MIB = 1
    with zipfile.ZipFile(bands_archive) as source:
        database = source.read("db.sqlite3")
    archive = rebuild(
        bands_archive,
        tmp_path / "understated.aiida",
        {"db.sqlite3": database + os.urandom(2 * MIB)},
    )
    declare_size(archive, "db.sqlite3", len(database))

    # Never more than the declared bytes are read, and they fail their CRC.
    refused_leaving_nothing(archive, tmp_root, "db.sqlite3: Bad CRC-32")


def test_metadata_above_its_limit_is_refused_unread(
    settings, bands_archive, tmp_path, tmp_root
):
    settings.AIIDASITE_ARCHIVE_MAX_METADATA_MIB = 1
    padding = os.urandom(MIB).hex()
    metadata = f'{{"export_version": "main_0001", "pad": "{padding}"}}'.encode()
    archive = rebuild(
        bands_archive, tmp_path / "meta.aiida", {"metadata.json": metadata}
    )

    refused_leaving_nothing(archive, tmp_root, r"metadata\.json holds more than 1 MiB")


def test_a_metadata_zip_bomb_is_refused_by_its_declared_size(
    bands_archive, tmp_path, tmp_root
):
    metadata = b'{"export_version": "main_0001"}' + b" " * (64 * MIB)
    archive = rebuild(
        bands_archive, tmp_path / "meta.aiida", {"metadata.json": metadata}
    )
    assert archive.stat().st_size < MIB

    refused_leaving_nothing(archive, tmp_root, r"metadata\.json holds more than 16 MiB")


def test_metadata_that_understates_its_size_is_read_no_further(
    settings, bands_archive, tmp_path, tmp_root
):
    settings.AIIDASITE_ARCHIVE_MAX_METADATA_MIB = 1
    metadata = b'{"export_version": "main_0001"}' + b" " * (2 * MIB)
    archive = rebuild(
        bands_archive, tmp_path / "meta.aiida", {"metadata.json": metadata}
    )
    declare_size(archive, "metadata.json", 100)

    refused_leaving_nothing(archive, tmp_root, "Bad CRC-32")


def test_a_file_object_zip_bomb_is_refused_before_any_object_is_stored(
    bands_archive, tmp_path, tmp_root
):
    archive = rebuild(
        bands_archive, tmp_path / "object.aiida", {"repo/" + "0" * 64: bytes(64 * MIB)}
    )

    refused_leaving_nothing(archive, tmp_root, r"repo/0+ would expand")


def test_many_small_members_that_expand_together_are_refused(
    bands_archive, tmp_path, tmp_root
):
    members = {f"repo/{index:064x}": bytes(MIB) for index in range(40)}
    archive = rebuild(bands_archive, tmp_path / "many.aiida", members)

    refused_leaving_nothing(archive, tmp_root, "the archive would expand")


def test_limits_are_read_from_the_settings_module():
    assert django_settings.AIIDASITE_ARCHIVE_MAX_METADATA_MIB == 16
    assert django_settings.AIIDASITE_ARCHIVE_MAX_DATABASE_MIB == 16_384
    assert django_settings.AIIDASITE_ARCHIVE_MAX_RATIO == 200


# --- temporary folders -------------------------------------------------------

KILL_WHILE_READING = """
import os, signal, sys
import django
django.setup()
from archives.reader import ArchiveReader
reader = ArchiveReader(sys.argv[1])
os.kill(os.getpid(), signal.SIGKILL)
"""


def killed_reader_folder(archive: Path, tmp_root: Path) -> Path:
    """Open ``archive`` in another process and SIGKILL it while it is open;
    answer the folder it leaves."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aiidasite.settings",
        "AIIDASITE_TMP_DIR": str(tmp_root),
    }
    result = subprocess.run(
        [sys.executable, "-c", KILL_WHILE_READING, str(archive)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr[-2000:]
    (left,) = tmp_root.iterdir()
    assert left.name.startswith("aiidasite-archive-")
    assert (left / "db.sqlite3").exists()
    return left


def test_the_next_import_removes_the_folder_of_a_killed_import(bands_archive, tmp_root):
    left = killed_reader_folder(bands_archive, tmp_root)

    archive_import(str(bands_archive))

    assert not left.exists()
    assert list(tmp_root.iterdir()) == []


def test_repository_maintain_removes_the_folder_of_a_killed_import(
    bands_archive, tmp_root
):
    left = killed_reader_folder(bands_archive, tmp_root)
    out = io.StringIO()

    call_command("repository", "maintain", stdout=out)

    assert not left.exists()
    assert "stale temporary folders: 1" in out.getvalue()


def test_folders_of_live_processes_and_foreign_folders_stay(tmp_root):
    foreign = tmp_root / "aiidasite-something"
    foreign.mkdir()
    with owned_tempdir("archive") as mine:
        with owned_tempdir("export") as other:
            assert mine.exists() and other.exists()
            assert (other / OWNER_FILE).read_text().split()[0] == str(os.getpid())
        assert mine.exists()
    assert not mine.exists()
    assert foreign.exists()
