"""Several real processes writing to one container, and writers killed mid-write."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from repository import get_backend

from .writer import content


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


WRITER = Path(__file__).with_name("writer.py")

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_reference_providers")]


def start_writer(
    folder: Path, mode: str, index: int, count: int = 0
) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WRITER), str(folder), mode, str(index), str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.001)
    return False


def test_four_processes_write_500_objects_each_and_all_read_back_exactly(
    configured_repository,
):
    backend = get_backend()
    writers = [
        start_writer(configured_repository, "mixed", index, 500) for index in range(4)
    ]
    keys_by_writer = []
    for writer in writers:
        out, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
        keys_by_writer.append(json.loads(out))

    expected = {}
    for index, keys in enumerate(keys_by_writer):
        assert len(keys) == 500
        singles = [content(index, n) for n in range(0, 500, 2)]
        bulk = [content(index, n) for n in range(1, 500, 2)]
        assert {backend.get_object_hash(k) for k in keys} == set(keys)
        for data in singles + bulk:
            expected[sha256(data)] = data

    stored = backend.get_objects_content(list(expected))
    assert stored == expected
    assert len(set(backend.list_objects())) == 2000
    assert backend.find_corrupt_objects() == []
    call_command("repository", "verify", stdout=io.StringIO())


def kill_when(writer: subprocess.Popen, condition) -> None:
    assert writer.stdout.readline().strip() == "started"
    try:
        assert wait_for(condition), "the writer never reached the point to kill it at"
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL


def assert_store_is_sound_and_writable(folder: Path) -> None:
    call_command("repository", "verify", stdout=io.StringIO())
    backend = get_backend()
    single = backend.put_object_from_filelike(io.BytesIO(b"after the crash"))
    bulk = backend.put_objects_from_bytes([b"bulk after the crash", b"another"])
    assert backend.get_object_content(single) == b"after the crash"
    assert backend.get_objects_content(bulk)[bulk[1]] == b"another"
    backend.maintain(live=False)
    assert backend.get_object_content(single) == b"after the crash"
    call_command("repository", "verify", stdout=io.StringIO())


def test_a_writer_killed_while_writing_a_pack_leaves_a_sound_store(
    configured_repository,
):
    get_backend().put_objects_from_bytes([b"before the crash"])
    packs = configured_repository / "packs"
    writer = start_writer(configured_repository, "loop-pack", 1)
    # A pack's lock file exists exactly while a writer appends to that pack.
    kill_when(writer, lambda: any(p.suffix == ".lock" for p in packs.iterdir()))
    assert_store_is_sound_and_writable(configured_repository)
    assert (
        get_backend().get_object_content(sha256(b"before the crash"))
        == b"before the crash"
    )


def test_a_writer_killed_while_writing_a_loose_object_leaves_a_sound_store(
    configured_repository,
):
    get_backend().put_object_from_filelike(io.BytesIO(b"before the crash"))
    sandbox = configured_repository / "sandbox"

    def writing() -> bool:
        # A loose object is written in the sandbox, then renamed into place.
        for entry in os.scandir(sandbox):
            try:
                if entry.stat().st_size > 0:
                    return True
            except FileNotFoundError:
                continue
        return False

    writer = start_writer(configured_repository, "loop-loose", 2)
    kill_when(writer, writing)
    assert_store_is_sound_and_writable(configured_repository)
    assert (
        get_backend().get_object_content(sha256(b"before the crash"))
        == b"before the crash"
    )
