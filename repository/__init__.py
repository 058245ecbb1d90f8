"""The file repository: storage backends, the per-node file tree, maintenance.

Public names: :class:`Repository` (the tree), :func:`get_backend` (the
configured backend) and the backends in :mod:`repository.backends`.
"""

from repository.handler import get_backend
from repository.tree import File, FileType, Repository, iter_keys, validate_path

__all__ = [
    "File",
    "FileType",
    "Repository",
    "get_backend",
    "iter_keys",
    "validate_path",
]
