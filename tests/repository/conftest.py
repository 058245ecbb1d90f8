"""Fixtures for the repository tests: real backends in a per-test folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from disk_objectstore import Container

from repository import services
from repository.backends import (
    AbstractRepositoryBackend,
    DiskObjectStoreRepositoryBackend,
    SandboxRepositoryBackend,
)


def make_disk_objectstore(folder: Path) -> DiskObjectStoreRepositoryBackend:
    backend = DiskObjectStoreRepositoryBackend(Container(folder))
    backend.initialise()
    return backend


@pytest.fixture(params=["disk_objectstore", "sandbox"])
def backend(request, tmp_path: Path) -> AbstractRepositoryBackend:
    """A fresh, initialised backend of each kind."""
    if request.param == "disk_objectstore":
        made: AbstractRepositoryBackend = make_disk_objectstore(tmp_path / "container")
    else:
        made = SandboxRepositoryBackend(tmp_path / "sandbox")
        made.initialise()
    yield made
    made.erase()


@pytest.fixture
def dos_backend(tmp_path: Path) -> DiskObjectStoreRepositoryBackend:
    return make_disk_objectstore(tmp_path / "container")


@pytest.fixture
def no_reference_providers(monkeypatch):
    """An empty provider registry, whatever other installed apps registered."""
    monkeypatch.setattr(services, "_providers", [])
