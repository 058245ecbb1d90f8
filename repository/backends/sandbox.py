"""A throw-away backend: one file per object in a temporary folder."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from repository.backends.base import (
    CHUNK_SIZE,
    AbstractRepositoryBackend,
    ObjectStreams,
    maintenance_plan,
    missing_key_error,
)
from repository.exceptions import ObjectNotFoundError


@dataclasses.dataclass(frozen=True)
class SandboxFolder:
    """Where a sandbox keeps its objects, under aiida-core's attribute name.

    aiida-core's sandbox backend exposes its folder as ``sandbox.abspath``;
    this is that much of it. :attr:`SandboxRepositoryBackend.folder` is the
    same folder as a ``Path``.
    """

    abspath: str


class SandboxRepositoryBackend(AbstractRepositoryBackend):
    """Objects live in a temporary folder that goes when the backend goes.

    Keys are random UUID hex strings, so storing the same content twice gives
    two keys. The folder is created on first write (or :meth:`initialise`) and
    removed by :meth:`erase` or when the instance is garbage-collected.

    :param filepath: parent folder of the temporary folder; the system's
        temporary directory when ``None``.
    """

    def __init__(self, filepath: str | Path | None = None) -> None:
        self._parent = Path(filepath) if filepath is not None else None
        self._folder: Path | None = None
        self._finalizer: weakref.finalize | None = None

    def __str__(self) -> str:
        where = self._folder if self._folder else "uninitialised"
        return f"SandboxRepositoryBackend<{where}>"

    @property
    def uuid(self) -> str | None:
        return None

    @property
    def key_format(self) -> str:
        return "uuid4"

    @property
    def folder(self) -> Path:
        """The temporary folder, created on first use."""
        if self._folder is None or not self._folder.is_dir():
            if self._parent is not None:
                self._parent.mkdir(parents=True, exist_ok=True)
            self._folder = Path(tempfile.mkdtemp(prefix="sandbox-", dir=self._parent))
            # A finalizer, not __del__: it runs at collection or interpreter exit
            # and never resurrects the instance.
            self._finalizer = weakref.finalize(
                self, shutil.rmtree, self._folder, ignore_errors=True
            )
        return self._folder

    @property
    def sandbox(self) -> SandboxFolder:
        """The folder as aiida-core names it (``sandbox.abspath``), made if missing."""
        return SandboxFolder(str(self.folder))

    def initialise(self, **kwargs: Any) -> None:
        """Create the temporary folder; accepts no options.

        :raises TypeError: if any option is given.
        """
        if kwargs:
            raise TypeError(f"unexpected options: {', '.join(sorted(kwargs))}")
        self.folder  # noqa: B018 - creating it is the point

    @property
    def is_initialised(self) -> bool:
        return self._folder is not None and self._folder.is_dir()

    def erase(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        self._folder = None
        self._finalizer = None

    def _path(self, key: str) -> Path:
        # Keys are checked before they touch the file system so that a key can
        # never name a file outside the folder.
        if len(key) != 32 or any(c not in "0123456789abcdef" for c in key):
            raise missing_key_error(key)
        return self.folder / key

    def _put_object_from_filelike(self, handle: BinaryIO) -> str:
        key = uuid.uuid4().hex
        target = self.folder / key
        partial = self.folder / f".{key}.partial"
        with open(partial, "wb") as out:
            while chunk := handle.read(CHUNK_SIZE):
                out.write(chunk)
        os.replace(partial, target)
        return key

    def has_objects(self, keys: list[str]) -> list[bool]:
        if not self.is_initialised:
            return [False] * len(keys)
        result = []
        for key in keys:
            try:
                result.append(self._path(key).is_file())
            except ObjectNotFoundError:
                result.append(False)
        return result

    def delete_objects(self, keys: list[str]) -> None:
        super().delete_objects(keys)
        for key in keys:
            self._path(key).unlink()

    def list_objects(self) -> Iterable[str]:
        if not self.is_initialised:
            return []
        return [
            entry.name for entry in os.scandir(self.folder) if len(entry.name) == 32
        ]

    @contextlib.contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        try:
            handle = open(self._path(key), "rb")
        except FileNotFoundError:
            raise missing_key_error(key) from None
        with handle:
            yield handle

    def iter_object_streams(self, keys: Iterable[str]) -> ObjectStreams:
        def pairs() -> Iterator[tuple[str, BinaryIO]]:
            for key in keys:
                with self.open(key) as handle:
                    yield key, handle

        return ObjectStreams(pairs())

    def get_info(self, detailed: bool = False) -> dict[str, Any]:
        """``backend``, ``uuid`` (``None``), ``folder``, ``Objects``
        (``count``) and, with ``detailed``, ``Size (MB)`` (``total``).
        """
        keys = list(self.list_objects())
        info: dict[str, Any] = {
            "backend": type(self).__name__,
            "uuid": None,
            "folder": str(self._folder) if self._folder else None,
            "Objects": {"count": len(keys)},
        }
        if detailed:
            total = sum((self.folder / key).stat().st_size for key in keys)
            info["Size (MB)"] = {"total": round(total / 1024**2, 2)}
        return info

    def maintain(
        self,
        dry_run: bool = False,
        live: bool = True,
        pack_loose: bool | None = None,
        do_repack: bool | None = None,
        clean_storage: bool | None = None,
        do_vacuum: bool | None = None,
        compress: bool = False,
        callback: Callable[[str, Any], None] | None = None,
    ) -> dict[str, Any]:
        """Nothing to reorganise: each object is already one plain file.

        The options are still checked as every backend checks them.

        :raises MaintenanceOptionsError: for a repack, clean or vacuum asked
            for while ``live``.
        """
        maintenance_plan(
            live=live,
            pack_loose=pack_loose,
            do_repack=do_repack,
            clean_storage=clean_storage,
            do_vacuum=do_vacuum,
            compress=compress,
        )
        return {"live": live, "dry_run": dry_run, "actions": []}
