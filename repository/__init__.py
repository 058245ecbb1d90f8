"""The file repository: storage backends, the per-node file tree, maintenance.

Public names: :class:`Repository` (the tree), :func:`get_backend` (the
configured backend) and the backends in :mod:`repository.backends`.

The classes follow aiida-core 2.9's ``aiida.repository`` (``Repository``,
``File``, ``FileType``, ``AbstractRepositoryBackend``,
``DiskObjectStoreRepositoryBackend``, ``SandboxRepositoryBackend``): the same
methods, arguments, exception types and messages, so code and tests written
against aiida-core run against these. aiida-core's own repository tests
(``tests/repository/`` of aiida-core 2.9.4) pass against them, except where
this package differs on purpose:

* Paths inside a tree may not hold ``..``, ``.`` or empty segments
  (``a/../b``, ``./a``, ``a//b``): aiida-core accepts them, and a name like
  ``../x`` in a tree would then be written outside the folder ``copy_tree``
  is given. A lone ``"."`` still means the root, as in aiida-core.
* Errors are both aiida-core's type and the project's: an invalid path is a
  ``TypeError`` *and* a ``ValueError`` (``InvalidPathError``, an
  ``InputValidationError``), a missing file a ``FileNotFoundError`` and a
  ``NotExistent``, and so on, so the API answers 400/404 for them.
* ``Repository.erase`` empties the tree but keeps backend objects (aiida-core
  deletes them), because a content-addressed backend shares one object among
  every tree holding the same bytes; ``Repository.delete`` (erase the whole
  backend) is left out for the same reason.
* ``Repository.hash`` is a SHA-256 of its own form: equal trees hash equal,
  but the value is not aiida-core's ``make_hash``.
* ``get_info`` gives aiida-core's keys plus ``backend``, ``uuid`` and
  ``folder``; ``maintain`` takes aiida-core's options (``live``,
  ``pack_loose``, ``do_repack``, ``clean_storage``, ``do_vacuum``,
  ``compress``, with its refusal of a repack, clean or vacuum while
  ``live``) plus a progress ``callback``, and returns what it did.
  Maintenance steps are logged at ``INFO`` on this package's logger, not at
  aiida-core's ``REPORT`` level on ``aiida.storage``: aiida-core's two
  ``test_maintain_logging`` tests look for those records (they fail for
  aiida-core itself outside its configured test profile, too).
* ``iter_object_streams`` is a plain iterator as in aiida-core, and also a
  context manager that releases its open files when the block ends.
* Extras: backends write batches into packs (``put_objects_from_bytes``,
  ``put_objects_from_filelikes``), ``discard_objects``,
  ``find_corrupt_objects``, and the disk-objectstore backend finishes a
  repack that was killed the next time it reads (see
  ``DiskObjectStoreRepositoryBackend.repair_killed_repack``).
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
