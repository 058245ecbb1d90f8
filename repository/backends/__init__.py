"""Storage backends: where the bytes of repository objects live."""

from repository.backends.base import AbstractRepositoryBackend
from repository.backends.disk_objectstore import DiskObjectStoreRepositoryBackend
from repository.backends.sandbox import SandboxRepositoryBackend

__all__ = [
    "AbstractRepositoryBackend",
    "DiskObjectStoreRepositoryBackend",
    "SandboxRepositoryBackend",
]
