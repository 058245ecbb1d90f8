"""What only the sandbox backend does."""

from __future__ import annotations

import gc
import io

import pytest

from repository.backends import SandboxRepositoryBackend


def test_keys_are_random_uuid_hex_even_for_equal_content(tmp_path):
    backend = SandboxRepositoryBackend(tmp_path)
    first = backend.put_object_from_filelike(io.BytesIO(b"same"))
    second = backend.put_object_from_filelike(io.BytesIO(b"same"))
    assert first != second
    assert len(first) == 32
    int(first, 16)
    assert backend.key_format == "uuid4"


def test_uuid_is_none(tmp_path):
    assert SandboxRepositoryBackend(tmp_path).uuid is None


def test_the_folder_is_created_under_the_given_parent(tmp_path):
    backend = SandboxRepositoryBackend(tmp_path / "parent")
    backend.put_object_from_filelike(io.BytesIO(b"x"))
    assert backend.folder.parent == tmp_path / "parent"


def test_erase_removes_the_folder(tmp_path):
    backend = SandboxRepositoryBackend(tmp_path)
    backend.put_object_from_filelike(io.BytesIO(b"x"))
    folder = backend.folder
    backend.erase()
    assert not folder.exists()
    assert not backend.is_initialised


def test_the_folder_goes_when_the_backend_is_collected(tmp_path):
    backend = SandboxRepositoryBackend(tmp_path)
    backend.put_object_from_filelike(io.BytesIO(b"x"))
    folder = backend.folder
    del backend
    gc.collect()
    assert not folder.exists()


def test_initialise_refuses_options(tmp_path):
    with pytest.raises(TypeError, match="unexpected options: clear"):
        SandboxRepositoryBackend(tmp_path).initialise(clear=True)


def test_an_uninitialised_sandbox_is_empty(tmp_path):
    backend = SandboxRepositoryBackend(tmp_path)
    assert list(backend.list_objects()) == []
    assert backend.has_objects(["0" * 32]) == [False]
    assert not (tmp_path / "sandbox").exists()
