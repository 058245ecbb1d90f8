"""A full maintenance killed mid-repack: the next read repairs the store.

disk-objectstore's repack leaves, when killed at the wrong moment, an index
pointing at its temporary pack ``-1``, which the library then refuses to read
(``AssertionError: Invalid pack ID -1``). A real process is killed at each
step of the repack (``repacker.py``); afterwards the files must be readable
through the API and the commands at once, on every database.
"""

from __future__ import annotations

import io
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from filelock import FileLock

from aiidasite.exceptions import LockedError
from nodes import services, types
from repository import get_backend
from repository.backends.disk_objectstore import LOCK_FILENAME
from repository.handler import reset_backend

from .repacker import POINTS

REPACKER = Path(__file__).with_name("repacker.py")
# Windows after which the index points at the temporary pack -1.
BROKEN = ("index-moved", "old-pack-removed", "linked")

FILES = {
    "aiida.out": b"JOB DONE\n",
    "out/data.txt": b"1 2 3\n" * 1000,
    "out/empty.txt": b"",
}


def pack_ids_in_index(folder: Path) -> set[int]:
    with sqlite3.connect(folder / "packs.idx") as db:
        return {row[0] for row in db.execute("SELECT DISTINCT pack_id FROM db_object")}


def kill_repack(folder: Path, point: str) -> None:
    """Run a full maintenance in another process, killed at ``point``."""
    done = subprocess.run(
        [sys.executable, str(REPACKER), str(folder), point],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -9, done.stdout + done.stderr


@pytest.fixture
def packed_node(configured_repository, user):
    """A node whose files are packed, plus a loose object of another node."""
    node = services.node_store(user=user, node_type=types.FOLDER, files=FILES)
    services.node_store(
        user=user, node_type=types.SINGLEFILE, files={"loose.txt": b"x"}
    )
    call_command("repository", "maintain", "--full", verbosity=0, stdout=io.StringIO())
    get_backend().put_object_from_filelike(io.BytesIO(b"loose after packing"))
    assert pack_ids_in_index(configured_repository) == {0}
    return node


def read_through_the_api(client, node) -> dict[str, bytes]:
    contents = {}
    for path in FILES:
        response = client.get(f"/api/v1/nodes/{node.pk}/files/{path}")
        assert response.status_code == 200, response.content
        contents[path] = b"".join(response.streaming_content)
    return contents


def read_through_the_command(node, path: str) -> bytes:
    out = io.StringIO()
    call_command("node", "repo", "cat", str(node.pk), path, stdout=out)
    return out.getvalue().encode()


@pytest.mark.django_db
@pytest.mark.parametrize("point", BROKEN)
def test_the_killed_repack_breaks_the_index_as_the_library_leaves_it(
    packed_node, configured_repository, point
):
    kill_repack(configured_repository, point)
    packs = configured_repository / "packs"
    assert (packs / "-1").exists()
    assert pack_ids_in_index(configured_repository) == {-1}
    assert (packs / "0").exists() == (point != "old-pack-removed")


@pytest.mark.django_db
@pytest.mark.parametrize("point", POINTS)
def test_files_are_readable_through_the_api_after_a_killed_repack(
    packed_node, configured_repository, api_client, point
):
    kill_repack(configured_repository, point)

    assert read_through_the_api(api_client, packed_node) == FILES
    # Where reads were broken, reading repaired it; elsewhere -1 was harmless.
    assert (configured_repository / "packs" / "-1").exists() == (point not in BROKEN)
    assert -1 not in pack_ids_in_index(configured_repository)
    call_command("repository", "verify", verbosity=0, stdout=io.StringIO())
    assert not (configured_repository / "packs" / "-1").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("point", BROKEN)
def test_files_are_readable_through_the_node_command_after_a_killed_repack(
    packed_node, configured_repository, point
):
    kill_repack(configured_repository, point)
    assert (
        read_through_the_command(packed_node, "out/data.txt") == FILES["out/data.txt"]
    )


@pytest.mark.django_db
@pytest.mark.parametrize("point", BROKEN)
def test_the_next_command_repairs_before_it_reads(
    packed_node, configured_repository, point
):
    kill_repack(configured_repository, point)
    reset_backend()  # a new process builds its backend anew
    out = io.StringIO()
    call_command("repository", "info", "--format", "json", stdout=out)
    assert not (configured_repository / "packs" / "-1").exists()
    assert '"packed": 5' in out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("point", POINTS)
def test_maintenance_after_a_killed_repack_completes_and_keeps_everything(
    packed_node, configured_repository, api_client, point
):
    kill_repack(configured_repository, point)
    call_command("repository", "maintain", "--full", verbosity=0, stdout=io.StringIO())
    assert pack_ids_in_index(configured_repository) == {0}
    assert sorted(p.name for p in (configured_repository / "packs").iterdir()) == ["0"]
    assert read_through_the_api(api_client, packed_node) == FILES
    call_command("repository", "verify", verbosity=0, stdout=io.StringIO())


@pytest.mark.django_db
def test_a_read_while_a_repack_holds_the_store_is_a_409_not_a_500(
    packed_node, configured_repository, api_client
):
    kill_repack(configured_repository, "old-pack-removed")
    # As if the repack were still running in another process.
    other = FileLock(configured_repository / LOCK_FILENAME, thread_local=False)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with other:
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    try:
        response = api_client.get(f"/api/v1/nodes/{packed_node.pk}/files/aiida.out")
        assert response.status_code == 409
        assert "being repacked" in response.json()["detail"]
        # The temporary pack is not garbage while a repack may be running.
        assert (configured_repository / "packs" / "-1").exists()
    finally:
        release.set()
        holder.join()
    assert read_through_the_api(api_client, packed_node) == FILES


def break_index(backend, *, remove_old: bool) -> None:
    """The on-disk state of a repack killed after moving the index."""
    packs = backend.folder / "packs"
    shutil.copyfile(packs / "0", packs / "-1")
    with sqlite3.connect(backend.folder / "packs.idx") as db:
        db.execute("UPDATE db_object SET pack_id = -1 WHERE pack_id = 0")
    if remove_old:
        (packs / "0").unlink()


@pytest.mark.parametrize("remove_old", [False, True])
def test_iterating_streams_repairs_and_still_yields_every_object_once(
    dos_backend, remove_old
):
    packed = dos_backend.put_objects_from_bytes([b"p1", b"p2", b"p3"])
    loose = [dos_backend.put_object_from_filelike(io.BytesIO(b"loose"))]
    break_index(dos_backend, remove_old=remove_old)
    pairs = [
        (key, stream.read())
        for key, stream in dos_backend.iter_object_streams(loose + packed)
    ]
    assert sorted(pairs) == sorted(
        zip(loose + packed, [b"loose", b"p1", b"p2", b"p3"], strict=True)
    )
    assert not (dos_backend.folder / "packs" / "-1").exists()


def test_open_repairs_once_and_reports_a_missing_key_as_missing(dos_backend):
    keys = dos_backend.put_objects_from_bytes([b"one", b"two"])
    break_index(dos_backend, remove_old=True)
    with dos_backend.open(keys[1]) as handle:
        assert handle.read() == b"two"
    with pytest.raises(FileNotFoundError):
        dos_backend.get_object_content("f" * 64)


def test_a_repair_refused_by_a_running_repack_is_a_locked_error(dos_backend):
    keys = dos_backend.put_objects_from_bytes([b"one"])
    break_index(dos_backend, remove_old=False)
    with dos_backend.exclusive():
        result: list[BaseException] = []

        def read() -> None:
            try:
                dos_backend.get_object_content(keys[0])
            except BaseException as exc:
                result.append(exc)

        reader = threading.Thread(target=read)
        reader.start()
        reader.join(10)
    assert len(result) == 1 and isinstance(result[0], LockedError)
    assert dos_backend.get_object_content(keys[0]) == b"one"


def test_a_read_in_a_running_repacks_window_waits_for_the_index_to_move_back(
    dos_backend,
):
    keys = dos_backend.put_objects_from_bytes([b"one", b"two"])
    break_index(dos_backend, remove_old=False)
    other = FileLock(dos_backend.folder / LOCK_FILENAME, thread_local=False)
    held, moved_back, release = (threading.Event() for _ in range(3))

    def repack_finishing() -> None:
        with other:
            held.set()
            time.sleep(0.3)
            with sqlite3.connect(dos_backend.folder / "packs.idx") as db:
                db.execute("UPDATE db_object SET pack_id = 0 WHERE pack_id = -1")
            (dos_backend.folder / "packs" / "-1").unlink()
            moved_back.set()
            release.wait(30)

    repacker = threading.Thread(target=repack_finishing)
    repacker.start()
    held.wait(5)
    try:
        assert dos_backend.get_object_content(keys[1]) == b"two"
        assert moved_back.is_set()
        assert dos_backend.get_objects_content(keys)[keys[0]] == b"one"
    finally:
        release.set()
        repacker.join()
