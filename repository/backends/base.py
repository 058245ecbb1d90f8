"""The interface every repository backend implements.

A backend stores opaque byte objects under keys it chooses; it knows nothing of
file names or directories (that is :class:`repository.tree.Repository`). Batch
operations are abstract, single-object ones are built on them here once, so a
new backend implements a handful of methods and inherits the rest.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import hashlib
import io
from collections.abc import Callable, Generator, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from repository.exceptions import MaintenanceOptionsError, ObjectNotFoundError

# Reading in chunks of this size keeps memory flat for any object size.
CHUNK_SIZE = 1024 * 1024


def sha256_of_stream(stream: BinaryIO) -> str:
    """Return the hex SHA-256 of what is left to read in ``stream``."""
    hasher = hashlib.sha256()
    while chunk := stream.read(CHUNK_SIZE):
        hasher.update(chunk)
    return hasher.hexdigest()


class AbstractRepositoryBackend(abc.ABC):
    """Stores byte objects under keys chosen by the backend.

    Keys are strings; their format is given by :attr:`key_format`. Reading a key
    that is not stored raises :class:`repository.exceptions.ObjectNotFoundError`,
    which is both a ``FileNotFoundError`` and an ``aiidasite`` ``NotExistent``.
    """

    @property
    @abc.abstractmethod
    def uuid(self) -> str | None:
        """The identifier of this store, or ``None`` if it has none."""

    @property
    @abc.abstractmethod
    def key_format(self) -> str:
        """How keys are made, e.g. ``"sha256"`` (content hash) or ``"uuid4"``."""

    @abc.abstractmethod
    def initialise(self, **kwargs: Any) -> None:
        """Create the store if it does not exist yet; idempotent."""

    @property
    @abc.abstractmethod
    def is_initialised(self) -> bool:
        """Whether :meth:`initialise` has been done."""

    @abc.abstractmethod
    def erase(self) -> None:
        """Delete the store and everything in it. Irreversible."""

    @abc.abstractmethod
    def _put_object_from_filelike(self, handle: BinaryIO) -> str:
        """Store what is left to read in ``handle`` and return its key."""

    @abc.abstractmethod
    def has_objects(self, keys: list[str]) -> list[bool]:
        """Whether each key is stored, in the order of ``keys``."""

    @abc.abstractmethod
    def delete_objects(self, keys: list[str]) -> None:
        """Delete every key in ``keys``.

        Subclasses call this first (``super().delete_objects(keys)``), as in
        aiida-core: it checks that every key is stored.

        :raises ObjectNotFoundError: (a ``FileNotFoundError``) naming the keys
            that are not stored; nothing is deleted then.
        """
        self._raise_if_missing(keys)

    def discard_objects(self, keys: list[str]) -> None:
        """Delete those of ``keys`` that are stored; ignore the others.

        For callers that know the keys were stored but may have been removed
        since (by maintenance); backends override it to skip the check.
        """
        present = [
            key
            for key, found in zip(keys, self.has_objects(keys), strict=True)
            if found
        ]
        if present:
            self.delete_objects(present)

    @abc.abstractmethod
    def list_objects(self) -> Iterable[str]:
        """Every stored key, in no particular order."""

    @abc.abstractmethod
    @contextlib.contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        """A binary stream of the object stored under ``key``.

        :raises ObjectNotFoundError: if ``key`` is not stored.
        """

    @abc.abstractmethod
    def iter_object_streams(self, keys: Iterable[str]) -> ObjectStreams:
        """Pairs ``(key, stream)`` for every key, in the order cheapest to read.

        A plain iterator, as in aiida-core (``for key, stream in ...``); it
        is also a context manager (``with ... as pairs``) that releases what
        it holds when the block ends, even if the iteration stopped early.
        Each stream is valid only until the iteration moves on.

        :raises ObjectNotFoundError: when the iteration reaches a key that is
            not stored.
        """

    @abc.abstractmethod
    def get_info(self, detailed: bool = False) -> dict[str, Any]:
        """What the store holds, as JSON-serialisable data."""

    @abc.abstractmethod
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
        """Reorganise storage for speed and space; return what was (or would be) done.

        The options are aiida-core's (see :func:`maintenance_plan`); ``live``
        keeps to what is safe while others use the store. ``callback``
        reports progress as in :meth:`find_corrupt_objects`.

        :raises MaintenanceOptionsError: (a ``ValueError``) for an option that
            is unsafe with ``live``.
        """

    def __str__(self) -> str:
        return f"{type(self).__name__}<{self.uuid}>"

    @contextlib.contextmanager
    def reference_guard(self, *, exclusive: bool) -> Iterator[None]:
        """Keep orphan cleanup away from objects whose owners are not committed.

        Writers hold it shared from storing objects until the rows that
        reference them are committed; the search for unreferenced objects holds
        it exclusively. A store that other processes share must override this
        with an inter-process lock; this default suits a store private to one
        process and one thread of maintenance.
        """
        yield

    @staticmethod
    def is_readable_byte_stream(handle: Any) -> bool:
        """Whether ``handle`` is an object one can ``read()`` bytes from."""
        if isinstance(handle, io.TextIOBase) or not callable(
            getattr(handle, "read", None)
        ):
            return False
        # Binary io classes may still carry a mode without "b" (zip members).
        if isinstance(handle, io.RawIOBase | io.BufferedIOBase):
            return handle.readable()
        if "b" not in getattr(handle, "mode", "b"):
            return False
        readable = getattr(handle, "readable", None)
        return not callable(readable) or bool(readable())

    def _check_byte_stream(self, handle: Any) -> None:
        if not self.is_readable_byte_stream(handle):
            raise TypeError(
                f"handle does not seem to be a readable byte stream: {handle!r}"
            )

    def put_object_from_filelike(self, handle: BinaryIO) -> str:
        """Store what is left to read in ``handle`` and return its key.

        :raises TypeError: if ``handle`` is a text stream or is not readable.
        """
        self._check_byte_stream(handle)
        return self._put_object_from_filelike(handle)

    def put_object_from_file(self, filepath: str | Path) -> str:
        """Store the content of the local file at ``filepath`` and return its key."""
        with open(filepath, "rb") as handle:
            return self._put_object_from_filelike(handle)

    def put_objects_from_filelikes(self, handles: list[BinaryIO]) -> list[str]:
        """Store each handle's remaining content; keys in the order of ``handles``.

        Backends override this to write a batch in one go.

        :raises TypeError: if any handle is not a readable byte stream; nothing
            is stored then.
        """
        for handle in handles:
            self._check_byte_stream(handle)
        return [self._put_object_from_filelike(handle) for handle in handles]

    def put_objects_from_bytes(self, contents: list[bytes]) -> list[str]:
        """Store each ``bytes`` value; keys in the order of ``contents``."""
        return self.put_objects_from_filelikes([io.BytesIO(c) for c in contents])

    def has_object(self, key: str) -> bool:
        """Whether ``key`` is stored."""
        return self.has_objects([key])[0]

    def get_object_content(self, key: str) -> bytes:
        """The whole content stored under ``key``.

        :raises ObjectNotFoundError: if ``key`` is not stored.
        """
        with self.open(key) as handle:
            return handle.read()

    def get_objects_content(self, keys: Iterable[str]) -> dict[str, bytes]:
        """Map each key to its content, reading in the backend's best order.

        :raises ObjectNotFoundError: if any key is not stored.
        """
        return {key: stream.read() for key, stream in self.iter_object_streams(keys)}

    def get_object_hash(self, key: str) -> str:
        """The hex SHA-256 of the content under ``key``, whatever the key format.

        :raises ObjectNotFoundError: if ``key`` is not stored.
        """
        with self.open(key) as handle:
            return sha256_of_stream(handle)

    def delete_object(self, key: str) -> None:
        """Delete the object stored under ``key``.

        :raises ObjectNotFoundError: if ``key`` is not stored.
        """
        self.delete_objects([key])

    def find_corrupt_objects(
        self, callback: Callable[[str, Any], None] | None = None
    ) -> list[str]:
        """Keys whose content no longer matches the key.

        Only content-addressed backends (``key_format == "sha256"``) can tell;
        for others the list is always empty.

        :param callback: progress callback ``callback(action, value)`` with
            action ``init`` (value ``{"total": n, "description": ...}``),
            ``update`` (value: objects done since last call) and ``close``.
        """
        if self.key_format != "sha256":
            return []
        keys = list(self.list_objects())
        if callback:
            callback("init", {"total": len(keys), "description": "Objects"})
        corrupt = []
        for key, stream in self.iter_object_streams(keys):
            if sha256_of_stream(stream) != key:
                corrupt.append(key)
            if callback:
                callback("update", 1)
        if callback:
            callback("close", None)
        return sorted(corrupt)

    def _raise_if_missing(self, keys: list[str]) -> None:
        """:raises ObjectNotFoundError: naming the first key that is not stored."""
        missing = [
            key
            for key, has in zip(keys, self.has_objects(keys), strict=True)
            if not has
        ]
        if missing:
            raise ObjectNotFoundError(
                f"object with key `{missing[0]}` does not exist"
                + (f" (nor {len(missing) - 1} more)" if len(missing) > 1 else "")
            )


def missing_key_error(key: str) -> ObjectNotFoundError:
    """The error for reading a key that is not stored, in aiida-core's words."""
    return ObjectNotFoundError(f"object with key `{key}` does not exist")


class ObjectStreams(Iterator[tuple[str, BinaryIO]]):
    """``(key, stream)`` pairs from a generator: an iterator and a context manager.

    aiida-core's callers iterate over ``iter_object_streams(keys)`` directly;
    ours may also write ``with ... as pairs`` so that the open pack files and
    index transaction are released as soon as the block ends, not when the
    generator is collected.
    """

    def __init__(self, pairs: Generator[tuple[str, BinaryIO], None, None]) -> None:
        self._pairs = pairs

    def __iter__(self) -> ObjectStreams:
        return self

    def __next__(self) -> tuple[str, BinaryIO]:
        return next(self._pairs)

    def close(self) -> None:
        """Stop the iteration and release what it holds."""
        self._pairs.close()

    def __enter__(self) -> ObjectStreams:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclasses.dataclass(frozen=True)
class MaintenancePlan:
    """Which maintenance steps run, resolved from aiida-core's options."""

    pack_loose: bool
    do_repack: bool
    clean_storage: bool
    do_vacuum: bool
    compress: bool

    @property
    def actions(self) -> list[str]:
        """The steps in the order they run, named as the options."""
        steps = [
            ("pack_loose", self.pack_loose),
            ("do_repack", self.do_repack),
            ("clean_storage", self.clean_storage),
            ("do_vacuum", self.do_vacuum),
        ]
        return [name for name, wanted in steps if wanted]


def maintenance_plan(
    *,
    live: bool = True,
    pack_loose: bool | None = None,
    do_repack: bool | None = None,
    clean_storage: bool | None = None,
    do_vacuum: bool | None = None,
    compress: bool = False,
) -> MaintenancePlan:
    """Resolve maintenance options as aiida-core's disk-objectstore backend does.

    ``None`` means the default: everything but repacking and vacuuming when
    ``live`` (others may be using the store), everything otherwise. Asking
    for a repack, a storage clean or a vacuum explicitly while ``live`` is
    refused, because the library needs the store alone for them. (A live
    maintenance still cleans storage by default, without vacuum: it only
    removes loose copies of packed objects, which readers fall back from.)

    Source: ``aiida.repository.backend.disk_object_store``
    ``DiskObjectStoreRepositoryBackend.maintain`` (aiida-core 2.9).

    :raises MaintenanceOptionsError: (a ``ValueError``) naming the options
        given as ``True`` with ``live``.
    """
    if live:
        unsafe = [
            name
            for name, value in (
                ("do_repack", do_repack),
                ("clean_storage", clean_storage),
                ("do_vacuum", do_vacuum),
            )
            if value is True
        ]
        if unsafe:
            raise MaintenanceOptionsError(
                "The following overrides were enabled but cannot be if "
                f"`live=True`: {', '.join(unsafe)}"
            )
        return MaintenancePlan(
            pack_loose=pack_loose is not False,
            do_repack=False,
            clean_storage=clean_storage is not False,
            do_vacuum=False,
            compress=compress,
        )
    return MaintenancePlan(
        pack_loose=pack_loose is not False,
        do_repack=do_repack is not False,
        clean_storage=clean_storage is not False,
        do_vacuum=do_vacuum is not False,
        compress=compress,
    )
