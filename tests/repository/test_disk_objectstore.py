"""What only the disk-objectstore backend does."""

from __future__ import annotations

import hashlib
import io
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from disk_objectstore import Container
from filelock import FileLock

from aiidasite.exceptions import LockedError
from repository.backends import DiskObjectStoreRepositoryBackend
from repository.backends.disk_objectstore import LOCK_FILENAME

from .conftest import make_disk_objectstore


def test_keys_are_sha256_of_the_content(dos_backend):
    key = dos_backend.put_object_from_filelike(io.BytesIO(b"content"))
    assert key == hashlib.sha256(b"content").hexdigest()
    assert dos_backend.key_format == "sha256"


def test_uuid_is_the_container_id(tmp_path):
    container = Container(tmp_path / "c")
    container.init_container()
    backend = DiskObjectStoreRepositoryBackend(container)
    assert backend.uuid == container.container_id


def test_uuid_of_an_uninitialised_container_is_none(tmp_path):
    backend = DiskObjectStoreRepositoryBackend(Container(tmp_path / "c"))
    assert backend.uuid is None
    assert not backend.is_initialised


def test_the_same_content_twice_is_stored_once(dos_backend):
    first = dos_backend.put_object_from_filelike(io.BytesIO(b"same"))
    second = dos_backend.put_objects_from_bytes([b"same"])[0]
    assert first == second
    assert list(dos_backend.list_objects()) == [first]


def test_the_container_is_opened_once_per_thread(dos_backend):
    assert dos_backend.container is dos_backend.container
    seen = []
    thread = threading.Thread(target=lambda: seen.append(dos_backend.container))
    thread.start()
    thread.join()
    assert seen[0] is not dos_backend.container
    assert seen[0].get_folder() == dos_backend.container.get_folder()


def test_threads_write_and_read_concurrently(dos_backend):
    errors = []

    def work(index: int) -> None:
        try:
            for i in range(30):
                content = f"thread {index} object {i}".encode()
                key = dos_backend.put_object_from_filelike(io.BytesIO(content))
                assert dos_backend.get_object_content(key) == content
            keys = dos_backend.put_objects_from_bytes(
                [b"t%d-%d" % (index, i) for i in range(30)]
            )
            assert dos_backend.get_objects_content(keys)[keys[5]] == b"t%d-5" % index
        except Exception as exc:  # the assertion is made in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(list(dos_backend.list_objects())) == 4 * 60


def test_bulk_puts_go_to_a_pack_and_single_puts_stay_loose(dos_backend):
    dos_backend.put_object_from_filelike(io.BytesIO(b"loose"))
    dos_backend.put_objects_from_bytes([b"packed-1", b"packed-2"])
    objects = dos_backend.get_info()["Objects"]
    assert objects == {"loose": 1, "packed": 2, "pack_files": 1}


def test_bulk_put_from_filelikes_streams_into_a_pack(dos_backend, tmp_path):
    paths = []
    for i in range(3):
        path = tmp_path / f"f{i}"
        path.write_bytes(b"file %d" % i)
        paths.append(path)
    handles = [open(path, "rb") for path in paths]
    try:
        keys = dos_backend.put_objects_from_filelikes(handles)
    finally:
        for handle in handles:
            handle.close()
    assert dos_backend.get_info()["Objects"]["packed"] == 3
    assert dos_backend.get_object_content(keys[2]) == b"file 2"


def test_maintain_packs_loose_objects(dos_backend):
    keys = [
        dos_backend.put_object_from_filelike(io.BytesIO(b"%d" % i)) for i in range(10)
    ]
    report = dos_backend.maintain()
    assert report["objects_before"]["loose"] == 10
    assert report["objects_after"] == {"loose": 0, "packed": 10, "pack_files": 1}
    assert report["actions"] == ["pack_loose", "clean_storage"]
    assert dos_backend.get_object_content(keys[3]) == b"3"


def loose_files(backend: DiskObjectStoreRepositoryBackend) -> list[Path]:
    return [path for path in (backend.folder / "loose").rglob("*") if path.is_file()]


def test_live_maintain_leaves_no_loose_copy_of_what_it_packed(dos_backend):
    contents = [b"object %d" % i * 1000 for i in range(50)]
    keys = [dos_backend.put_object_from_filelike(io.BytesIO(c)) for c in contents]
    assert len(loose_files(dos_backend)) == 50
    dos_backend.maintain(live=True)
    assert loose_files(dos_backend) == []
    packs = dos_backend.folder / "packs"
    on_disk = sum(path.stat().st_size for path in packs.iterdir())
    assert on_disk == sum(map(len, contents))
    assert dos_backend.get_objects_content(keys) == dict(
        zip(keys, contents, strict=True)
    )


def test_maintain_without_packing_or_cleaning_leaves_loose_objects(dos_backend):
    key = dos_backend.put_object_from_filelike(io.BytesIO(b"stays loose"))
    report = dos_backend.maintain(
        live=False,
        pack_loose=False,
        do_repack=False,
        clean_storage=False,
        do_vacuum=False,
    )
    assert report["actions"] == []
    assert report["objects_after"] == {"loose": 1, "packed": 0, "pack_files": 0}
    assert dos_backend.get_object_content(key) == b"stays loose"


def test_compress_packs_compressible_objects_smaller(dos_backend):
    content = b"the same line again\n" * 5000
    key = dos_backend.put_object_from_filelike(io.BytesIO(content))
    dos_backend.maintain(live=False, compress=True)
    pack = dos_backend.folder / "packs" / "0"
    assert pack.stat().st_size < len(content) // 10
    assert dos_backend.get_object_content(key) == content


def test_maintain_dry_run_changes_nothing(dos_backend):
    dos_backend.put_object_from_filelike(io.BytesIO(b"x"))
    report = dos_backend.maintain(live=False, dry_run=True)
    assert report["actions"] == [
        "pack_loose",
        "do_repack",
        "clean_storage",
        "do_vacuum",
    ]
    assert dos_backend.get_info()["Objects"] == {
        "loose": 1,
        "packed": 0,
        "pack_files": 0,
    }


def test_full_maintain_reclaims_space_of_deleted_packed_objects(dos_backend):
    keys = dos_backend.put_objects_from_bytes([bytes([i]) * 2**19 for i in range(10)])
    dos_backend.delete_objects(keys[:9])
    sizes = dos_backend.get_info(detailed=True)["Size (MB)"]
    assert sizes["total_size_packfiles_on_disk"] == 5.0
    dos_backend.maintain(live=False)
    sizes = dos_backend.get_info(detailed=True)["Size (MB)"]
    assert sizes["total_size_packfiles_on_disk"] == 0.5
    assert dos_backend.get_object_content(keys[9]) == bytes([9]) * 2**19


def test_maintain_reports_progress_through_the_callback(dos_backend):
    for i in range(5):
        dos_backend.put_object_from_filelike(io.BytesIO(b"%d" % i))
    actions = []
    dos_backend.maintain(callback=lambda action, value: actions.append(action))
    assert actions[0] == "init"
    assert "update" in actions
    assert actions[-1] == "close"


def test_a_write_by_another_process_is_seen_by_an_open_backend(dos_backend):
    # Reading first opens the index transaction the library would otherwise keep.
    dos_backend.put_objects_from_bytes([b"before"])
    assert dos_backend.get_info()["Objects"]["packed"] == 1
    folder = dos_backend.folder
    code = (
        "from disk_objectstore import Container;"
        f"Container({str(folder)!r}).add_objects_to_pack([b'after'])"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    key = hashlib.sha256(b"after").hexdigest()
    assert dos_backend.get_info()["Objects"]["packed"] == 2
    assert key in dos_backend.list_objects()
    assert dos_backend.get_object_content(key) == b"after"
    # And writing on top of the other process's pack still works.
    more = dos_backend.put_objects_from_bytes([b"more"])
    assert dos_backend.get_object_content(more[0]) == b"more"


def test_a_pack_lock_left_by_a_killed_writer_does_not_block_writes(dos_backend):
    dos_backend.put_objects_from_bytes([b"first"])
    stale = dos_backend.folder / "packs" / "0.lock"
    stale.touch()
    keys = dos_backend.put_objects_from_bytes([b"second"])
    assert dos_backend.get_object_content(keys[0]) == b"second"
    assert not stale.exists()


def test_exclusive_work_waits_for_another_holder_then_fails_clearly(tmp_path):
    backend = DiskObjectStoreRepositoryBackend(
        Container(tmp_path / "c"), lock_timeout=0.2
    )
    backend.initialise()
    other = FileLock(backend.folder / LOCK_FILENAME, thread_local=False)
    holder_ready, release = threading.Event(), threading.Event()

    def hold() -> None:
        with other:
            holder_ready.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    holder_ready.wait(5)
    try:
        with pytest.raises(LockedError, match="locked by another process"):
            backend.put_objects_from_bytes([b"blocked"])
    finally:
        release.set()
        thread.join()
    assert backend.put_objects_from_bytes([b"free"])


def test_loose_writes_do_not_need_the_lock(tmp_path):
    backend = DiskObjectStoreRepositoryBackend(
        Container(tmp_path / "c"), lock_timeout=0.1
    )
    backend.initialise()
    with backend.exclusive():
        other = threading.Thread(
            target=lambda: backend.put_object_from_filelike(io.BytesIO(b"loose"))
        )
        other.start()
        other.join(5)
    assert backend.has_object(hashlib.sha256(b"loose").hexdigest())


def test_from_options_creates_the_container_with_its_options(tmp_path):
    backend = DiskObjectStoreRepositoryBackend.from_options(
        folder=tmp_path / "new", pack_size_target=1024, loose_prefix_len=0
    )
    assert backend.is_initialised
    assert backend.container.pack_size_target == 1024
    key = backend.put_object_from_filelike(io.BytesIO(b"flat"))
    assert (tmp_path / "new" / "loose" / key).is_file()


def test_from_options_refuses_an_unknown_option(tmp_path):
    with pytest.raises(TypeError, match="unknown repository options: colour"):
        DiskObjectStoreRepositoryBackend.from_options(
            folder=tmp_path / "x", colour="red"
        )


def test_initialise_with_clear_empties_the_container(dos_backend):
    key = dos_backend.put_object_from_filelike(io.BytesIO(b"x"))
    old_uuid = dos_backend.uuid
    dos_backend.initialise(clear=True)
    assert not dos_backend.has_object(key)
    assert dos_backend.uuid != old_uuid


def test_find_corrupt_objects_spots_a_damaged_loose_object(dos_backend):
    key = dos_backend.put_object_from_filelike(io.BytesIO(b"original"))
    good = dos_backend.put_object_from_filelike(io.BytesIO(b"fine"))
    loose = dos_backend.folder / "loose" / key[:2] / key[2:]
    loose.write_bytes(b"tampered")
    assert dos_backend.find_corrupt_objects() == [key]
    assert good not in dos_backend.find_corrupt_objects()


def test_find_corrupt_objects_spots_a_damaged_packed_object(dos_backend):
    keys = dos_backend.put_objects_from_bytes([b"AAAA", b"BBBB"])
    pack = dos_backend.folder / "packs" / "0"
    data = bytearray(pack.read_bytes())
    data[data.index(b"BBBB")] = ord("X")
    pack.write_bytes(bytes(data))
    assert dos_backend.find_corrupt_objects() == [keys[1]]


def test_erase_removes_the_folder(tmp_path):
    backend = make_disk_objectstore(tmp_path / "c")
    backend.put_object_from_filelike(io.BytesIO(b"x"))
    backend.erase()
    assert not Path(tmp_path / "c").exists()


def interrupt_repack(
    backend: DiskObjectStoreRepositoryBackend, index_moved: bool
) -> None:
    """Leave the container as a repack killed before or after moving the index."""
    packs = backend.folder / "packs"
    shutil.copyfile(packs / "0", packs / "-1")
    if index_moved:
        with sqlite3.connect(backend.folder / "packs.idx") as db:
            db.execute("UPDATE db_object SET pack_id = -1 WHERE pack_id = 0")


@pytest.mark.parametrize("index_moved", [False, True])
@pytest.mark.parametrize("full", [False, True])
def test_maintain_finishes_a_repack_that_was_killed(dos_backend, index_moved, full):
    keys = dos_backend.put_objects_from_bytes([b"one", b"two", b"three"])
    interrupt_repack(dos_backend, index_moved)
    dos_backend.maintain(live=not full)
    assert not (dos_backend.folder / "packs" / "-1").exists()
    assert dos_backend.get_objects_content(keys) == dict(
        zip(keys, [b"one", b"two", b"three"], strict=True)
    )
    assert dos_backend.find_corrupt_objects() == []
    more = dos_backend.put_objects_from_bytes([b"four"])
    assert dos_backend.get_object_content(more[0]) == b"four"
    dos_backend.maintain(live=False)
    assert dos_backend.get_info()["Objects"]["packed"] == 4


def test_verify_after_a_killed_repack_checks_every_object(dos_backend):
    keys = dos_backend.put_objects_from_bytes([b"one", b"two"])
    interrupt_repack(dos_backend, index_moved=True)
    assert dos_backend.find_corrupt_objects() == []
    assert dos_backend.get_objects_content(keys)[keys[0]] == b"one"


def test_discard_removes_the_loose_copy_of_a_packed_object(dos_backend):
    key = dos_backend.put_object_from_filelike(io.BytesIO(b"packed and loose"))
    # A loose copy of a packed object, as a writer racing a packing leaves.
    dos_backend.maintain(live=False, clean_storage=False)
    loose = dos_backend.folder / "loose" / key[:2] / key[2:]
    loose.parent.mkdir(exist_ok=True)
    loose.write_bytes(b"packed and loose")
    assert dos_backend.get_info()["Objects"]["packed"] == 1

    dos_backend.discard_objects([key])

    assert not loose.exists()
    assert not dos_backend.has_object(key)


@pytest.mark.parametrize("prefix_len", [0, 1, 2])
def test_discard_removes_many_loose_objects_and_keeps_the_rest(tmp_path, prefix_len):
    backend = DiskObjectStoreRepositoryBackend.from_options(
        folder=tmp_path / "c", loose_prefix_len=prefix_len
    )
    keys = [
        backend.put_object_from_filelike(io.BytesIO(b"object %d" % i))
        for i in range(400)
    ]
    packed = backend.put_objects_from_bytes([b"packed"])
    missing = [hashlib.sha256(b"never stored %d" % i).hexdigest() for i in range(50)]
    kept, discarded = keys[::7], [key for i, key in enumerate(keys) if i % 7]

    backend.discard_objects(discarded + packed + missing)

    assert not any(backend.has_objects(discarded + packed + missing))
    assert all(backend.has_objects(kept))
    assert backend.get_info()["Objects"]["loose"] == len(kept)
    assert backend.get_object_content(kept[1]) == b"object 7"
