"""The production backend: a disk-objectstore container.

Four things differ from using the library naively, each for a measured reason:

* The container is opened once per thread and process and reused. Opening and
  closing it per call (which also disposes its SQLite engine) makes reads 15-23x
  slower.
* The library's index session keeps a read transaction open after a query, so
  a long-lived container would go on reading a stale snapshot (and hold back
  SQLite's checkpoints). Every read ends that transaction when it is done.
* The library's own pack lock is not safe between processes: four processes
  calling ``add_objects_to_pack`` at once corrupted objects. Every operation the
  library documents as needing exclusive access (pack writes, packing, repack,
  vacuum, deletes, validation) runs under an inter-process file lock,
  ``aiidasite.lock`` in the container folder. Loose writes and reads do not
  need it. Every process that writes packs or maintains the container must go
  through this backend (or take that lock) for the guarantee to hold.
* A repack killed after it pointed the index at its temporary pack ``-1`` left
  every object of that pack unreadable (``AssertionError: Invalid pack ID -1``)
  until the next maintenance. A read that meets that state finishes the
  repack first, or, if a repack is running right now, waits a moment for it
  to point the index back; building the backend finishes one too.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import fcntl
import itertools
import logging
import operator
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from disk_objectstore import CompressMode, Container
from disk_objectstore.database import Obj
from disk_objectstore.exceptions import NotExistent as DosNotExistent
from filelock import FileLock, Timeout
from sqlalchemy import select, update

from aiidasite.exceptions import LockedError
from repository.backends.base import (
    AbstractRepositoryBackend,
    ObjectStreams,
    maintenance_plan,
    missing_key_error,
)

LOCK_FILENAME = "aiidasite.lock"
# Below SQLite's oldest limit of 999 bound parameters, as the library does.
DELETE_CHUNK = 950
# From this many keys in one loose folder, listing it beats trying each file.
LIST_LOOSE_FROM = 16
REFERENCES_LOCK_FILENAME = "aiidasite-references.lock"
LOCK_POLL_SECONDS = 0.05
# A running repack points the index back at the real pack milliseconds after
# it moved it; a read that meets the moved index retries for this long.
REPACK_WAIT_SECONDS = 2.0
# Keys are checked before they reach the library: it builds a file path from
# the key, so a key such as "../../etc/passwd" must never get there.
SHA256_KEY = re.compile(r"[0-9a-f]{64}")

# Options of Container.init_container that a settings OPTIONS dict may carry.
# Keys are checked as SHA-256, so the hash type is not an option.
INIT_OPTIONS = ("pack_size_target", "loose_prefix_len", "compression_algorithm")

ProgressCallback = Callable[[str, Any], None]
T = TypeVar("T")
BYTES_PER_MB = 1024**2

logger = logging.getLogger(__name__)


def all_sha256_keys(keys: list[str]) -> bool:
    """Whether every key is 64 lowercase hex digits, checked in C for a batch.

    Equivalent to matching each key against ``SHA256_KEY``, about ten times
    faster on thousands of keys: ``bytes.fromhex`` rejects any non-hex
    character and the decoded length rules out the whitespace it skips.
    """
    if not keys:
        return True
    if set(map(len, keys)) != {64}:
        return False
    joined = "".join(keys)
    try:
        decoded = bytes.fromhex(joined)
    except ValueError:
        return False
    return len(decoded) == 32 * len(keys) and joined == joined.lower()


class DiskObjectStoreRepositoryBackend(AbstractRepositoryBackend):
    """Objects in a disk-objectstore container, keyed by their SHA-256.

    :param container: the container; its folder is what this backend stores in.
    :param lock_timeout: seconds to wait for exclusive access (packing, bulk
        writes, deletes, maintenance) before raising ``LockedError``.
    """

    def __init__(self, container: Container, *, lock_timeout: float = 300.0) -> None:
        self._folder = Path(container.get_folder())
        self._origin = (os.getpid(), threading.get_ident(), container)
        self._local = threading.local()
        self._lock_timeout = lock_timeout
        self._lock = FileLock(self._folder / LOCK_FILENAME, timeout=lock_timeout)

    @classmethod
    def from_options(
        cls, *, folder: str | Path, lock_timeout: float = 300.0, **init_options: Any
    ) -> DiskObjectStoreRepositoryBackend:
        """Build from settings ``OPTIONS``, creating the container if missing.

        :param init_options: any of ``pack_size_target``, ``loose_prefix_len``,
            ``compression_algorithm``; used only when the container is created.
        :raises TypeError: for an unknown option.
        """
        unknown = sorted(set(init_options) - set(INIT_OPTIONS))
        if unknown:
            raise TypeError(f"unknown repository options: {', '.join(unknown)}")
        backend = cls(Container(folder), lock_timeout=lock_timeout)
        backend.initialise(**init_options)
        with contextlib.suppress(LockedError):
            # Locked: a maintenance is running, and it repairs first itself.
            backend.repair_killed_repack()
        return backend

    def __str__(self) -> str:
        return f"DiskObjectStoreRepositoryBackend<{self._folder}>"

    @property
    def container(self) -> Container:
        """This thread's container, opened once and kept.

        SQLite connections may not cross threads or a fork, so each thread of
        each process gets its own; the one given to the constructor serves the
        thread that built the backend.
        """
        local = self._local
        pid = os.getpid()
        if getattr(local, "pid", None) != pid:
            origin_pid, origin_thread, origin = self._origin
            if (origin_pid, origin_thread) == (pid, threading.get_ident()):
                local.container = origin
            else:
                local.container = Container(self._folder)
            local.pid = pid
        return local.container

    @property
    def _container(self) -> Container:
        """aiida-core's name for the container (its tests read it)."""
        return self.container

    @property
    def folder(self) -> Path:
        return self._folder

    @property
    def uuid(self) -> str | None:
        if not self.is_initialised:
            return None
        return self.container.container_id

    @property
    def key_format(self) -> str:
        return self.container.hash_type

    @property
    def is_initialised(self) -> bool:
        return self.container.is_initialised

    def initialise(self, **kwargs: Any) -> None:
        """Create the container unless it exists; ``clear=True`` empties it first.

        :param kwargs: ``clear`` and the options of ``Container.init_container``.
        """
        clear = kwargs.pop("clear", False)
        container = self.container
        if container.is_initialised and not clear:
            return
        try:
            container.init_container(clear=clear, **kwargs)
        except FileExistsError:
            # Another process is creating the same container right now.
            self._wait_until_initialised(container)

    @staticmethod
    def _wait_until_initialised(container: Container, seconds: float = 5.0) -> None:
        deadline = time.monotonic() + seconds
        while not container.is_initialised:
            if time.monotonic() > deadline:
                raise FileExistsError(
                    f"{container.get_folder()} is not empty and not a container"
                )
            time.sleep(0.05)

    def erase(self) -> None:
        """Delete the container folder and everything in it."""
        self.container.close()
        self._local = threading.local()
        self._origin = (-1, -1, self._origin[2])
        shutil.rmtree(self._folder, ignore_errors=True)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[Container]:
        """Hold the inter-process lock for an operation that needs the store alone.

        Pack files locked by a writer that was killed are released here: under
        this lock no other writer can hold them.

        :raises LockedError: if the lock is not had within ``lock_timeout``.
        """
        container = self.container
        try:
            self._lock.acquire()
        except Timeout:
            raise LockedError(
                f"the repository at {self._folder} is locked by another process "
                f"(waited {self._lock_timeout:g} s)"
            ) from None
        try:
            self._resync_session(container)
            self._release_stale_pack_locks()
            yield container
        finally:
            self._end_snapshot(container)
            self._lock.release()

    @contextlib.contextmanager
    def reference_guard(self, *, exclusive: bool) -> Iterator[None]:
        """A shared/exclusive lock between object writers and orphan cleanup.

        ``flock`` locks belong to the open file, so threads of one process
        coordinate as separate processes do, and a killed holder releases its
        lock with its process.

        :raises LockedError: if the lock is not had within ``lock_timeout``.
        """
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        deadline = time.monotonic() + self._lock_timeout
        with open(self._folder / REFERENCES_LOCK_FILENAME, "a+b") as handle:
            while True:
                try:
                    fcntl.flock(handle, mode | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise LockedError(
                            f"the repository at {self._folder} is being "
                            f"maintained or written (waited {self._lock_timeout:g} s)"
                        ) from None
                    time.sleep(LOCK_POLL_SECONDS)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _release_stale_pack_locks(self) -> None:
        with os.scandir(self._folder / "packs") as entries:
            for entry in entries:
                if entry.name.endswith(".lock"):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)

    @staticmethod
    def _end_snapshot(container: Container) -> None:
        """End the read transaction the library's index session leaves open.

        Only SQLite's transaction is ended, which is cheap; SQLAlchemy still
        believes it is in one, so the next reads run in autocommit and each
        sees the latest commits. Writes go through :meth:`_resync_session`.
        """
        session = container._operation_session
        if session is None or not session.in_transaction():
            return
        connection = session.connection().connection.dbapi_connection
        if connection is not None and connection.in_transaction:
            connection.rollback()

    @staticmethod
    def _resync_session(container: Container) -> None:
        # After _end_snapshot SQLAlchemy thinks a transaction is open while
        # SQLite runs in autocommit. A write must run in a real transaction
        # (or each inserted row would commit on its own), so open the one
        # SQLAlchemy believes in; its commit then closes it.
        session = container._operation_session
        if session is None or not session.in_transaction():
            return
        connection = session.connection().connection.dbapi_connection
        if connection is not None and not connection.in_transaction:
            connection.execute("BEGIN")

    def _put_object_from_filelike(self, handle: BinaryIO) -> str:
        return self.container.add_streamed_object(handle)

    def put_objects_from_filelikes(self, handles: list[BinaryIO]) -> list[str]:
        """Write the whole batch into a pack file in one go."""
        for handle in handles:
            self._check_byte_stream(handle)
        if not handles:
            return []
        with self.exclusive() as container:
            return container.add_streamed_objects_to_pack(list(handles))

    def put_objects_from_bytes(self, contents: list[bytes]) -> list[str]:
        """Write the whole batch into a pack file in one go."""
        if not contents:
            return []
        with self.exclusive() as container:
            return container.add_objects_to_pack(contents)

    def has_objects(self, keys: list[str]) -> list[bool]:
        if all_sha256_keys(keys):
            valid = keys
        else:
            valid = [key for key in keys if SHA256_KEY.fullmatch(key)]
        container = self.container
        try:
            flags = self._repairing(lambda: container.has_objects(valid))
        finally:
            self._end_snapshot(container)
        found = set(key for key, ok in zip(valid, flags, strict=True) if ok)
        return [key in found for key in keys]

    def _repairing(self, read: Callable[[], T]) -> T:
        """``read()``, settling a repack in progress if the read meets one.

        The library asserts that a pack id is valid before it opens a pack:
        that assertion, with the temporary pack ``-1`` on disk, is how a
        repack in progress shows (any other assertion is raised as it is).
        See :meth:`_settle_repack`; then the read runs again.

        :raises LockedError: if a running repack holds the index too long.
        """
        try:
            return read()
        except AssertionError:
            if not self._temporary_pack.exists():
                raise
        self._settle_repack()
        return read()

    def _settle_repack(self) -> None:
        """Make the index point at real packs again, after a read met ``-1``.

        If no other process holds the store, the repack was killed: it is
        finished here. If one does, the repack is running and points the
        index back within moments: this waits for that, up to
        :data:`REPACK_WAIT_SECONDS`.

        :raises LockedError: if the index still points at ``-1`` by then.
        """
        deadline = time.monotonic() + REPACK_WAIT_SECONDS
        while True:
            try:
                self.repair_killed_repack()
                return
            except LockedError:
                if not self._index_uses_temporary_pack():
                    return
                if time.monotonic() > deadline:
                    raise
                time.sleep(LOCK_POLL_SECONDS)

    def _index_uses_temporary_pack(self) -> bool:
        container = self.container
        # A new snapshot: the failed read's would hide the repack's commits.
        self._end_snapshot(container)
        try:
            session = container._get_operation_session()
            return (
                session.scalar(
                    select(Obj.id)
                    .where(Obj.pack_id == Container._REPACK_PACK_ID)
                    .limit(1)
                )
                is not None
            )
        finally:
            self._end_snapshot(container)

    @property
    def _temporary_pack(self) -> Path:
        """Where the library's repack writes its temporary pack."""
        return self._folder / "packs" / str(Container._REPACK_PACK_ID)

    def delete_objects(self, keys: list[str]) -> None:
        super().delete_objects(keys)
        if keys:
            with self.exclusive() as container:
                container.delete_objects(list(keys))

    def discard_objects(self, keys: list[str]) -> None:
        """Delete the stored ones of ``keys`` without asking which they are.

        Does what the library's ``delete_objects`` does (loose file, any
        duplicates, then the pack index rows, which a full repack reclaims),
        but without path objects and a listing per key, and with one statement
        per chunk of keys: deletion of many nodes spends most of its time here.
        Every key's loose file is removed even when the key is packed: a
        loose copy of a packed object stays until ``clean_storage``.
        """
        if not all_sha256_keys(keys):
            keys = [key for key in keys if SHA256_KEY.fullmatch(key)]
        wanted = sorted(set(keys))
        if not wanted:
            return
        with self.exclusive() as container:
            self._unlink_loose(container, wanted)
            duplicates = container._get_duplicates_folder()
            wanted_set = set(wanted)
            for name in os.listdir(duplicates):
                if name.split(".", 1)[0] in wanted_set:
                    os.unlink(duplicates / name)
            session = container._get_operation_session()
            connection = session.connection()
            table = Obj.__tablename__
            for start in range(0, len(wanted), DELETE_CHUNK):
                chunk = tuple(wanted[start : start + DELETE_CHUNK])
                # The driver's SQL: compiling a thousand-literal IN per chunk
                # costs more than running it.
                connection.exec_driver_sql(
                    f"DELETE FROM {table} WHERE hashkey IN "
                    f"({', '.join(['?'] * len(chunk))})",
                    chunk,
                )
            session.commit()

    @staticmethod
    def _unlink_loose(container: Container, keys: list[str]) -> None:
        """Remove the loose files of ``keys`` that exist.

        A failed ``unlink`` costs about 4 us (the exception); listing a
        sparse folder is ten times cheaper per key, so a folder holding
        many of the keys is listed first and only the files in it are
        unlinked.
        """
        # Private helpers of the pinned library: they name its layout.
        loose = str(container._get_loose_folder())
        width = container.loose_prefix_len
        counts = collections.Counter(map(operator.itemgetter(slice(width)), keys))
        listed = {prefix for prefix, n in counts.items() if n >= LIST_LOOSE_FROM}
        present: set[str] = set()
        for prefix in listed:
            with contextlib.suppress(FileNotFoundError):
                names = os.listdir(os.path.join(loose, prefix))
                present.update(prefix + name for name in names)
        doomed = present.intersection(keys)
        if len(listed) < len(counts):
            doomed.update(key for key in keys if key[:width] not in listed)
        for key in doomed:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(loose, key[:width], key[width:]))

    def list_objects(self) -> list[str]:
        container = self.container
        try:
            return list(container.list_all_objects())
        finally:
            self._end_snapshot(container)

    @contextlib.contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        if not SHA256_KEY.fullmatch(key):
            raise missing_key_error(key)
        container = self.container
        try:
            with contextlib.ExitStack() as stack:
                yield self._enter_stream(stack, container, key)
        finally:
            self._end_snapshot(container)

    def _enter_stream(
        self, stack: contextlib.ExitStack, container: Container, key: str
    ) -> BinaryIO:
        """Open ``key``'s stream in ``stack``, repairing a killed repack once."""
        try:
            return self._repairing(
                lambda: stack.enter_context(container.get_object_stream(key))
            )
        except DosNotExistent:
            raise missing_key_error(key) from None

    def iter_object_streams(self, keys: Iterable[str]) -> ObjectStreams:
        return ObjectStreams(self._stream_pairs(list(keys)))

    def _stream_pairs(self, keys: list[str]) -> Iterator[tuple[str, BinaryIO]]:
        self._check_keys(keys)
        container = self.container
        pending = keys
        try:
            for attempt in range(2):
                done: set[str] = set()
                try:
                    with container.get_objects_stream_and_meta(
                        pending, skip_if_missing=False
                    ) as triplets:
                        for key, stream, _ in triplets:
                            if stream is None:
                                raise missing_key_error(key)
                            done.add(key)
                            yield key, stream
                    return
                except AssertionError:
                    if attempt or not self._temporary_pack.exists():
                        raise
                    self._settle_repack()
                    pending = [key for key in pending if key not in done]
        finally:
            self._end_snapshot(container)

    @staticmethod
    def _check_keys(keys: list[str]) -> None:
        """:raises ObjectNotFoundError: for the first key that is not a key."""
        if all_sha256_keys(keys):
            return
        for key in keys:
            if not SHA256_KEY.fullmatch(key):
                raise missing_key_error(key)

    def get_object_hash(self, key: str) -> str:
        """The key itself when the container hashes with SHA-256."""
        if self.key_format != "sha256":
            return super().get_object_hash(key)
        if not self.has_object(key):
            raise missing_key_error(key)
        return key

    def get_info(self, detailed: bool = False) -> dict[str, Any]:
        """aiida-core's keys (``SHA-hash algorithm``, ``Compression algorithm``,
        ``Objects``: ``loose``, ``packed``, ``pack_files``; with ``detailed``,
        ``Size (MB)``: the library's totals in MiB, two decimals) plus
        ``backend``, ``uuid`` and ``folder``.
        """
        container = self.container
        try:
            info: dict[str, Any] = {
                "backend": type(self).__name__,
                "uuid": container.container_id,
                "folder": str(self._folder),
                "SHA-hash algorithm": container.hash_type,
                "Compression algorithm": container.compression_algorithm,
                "Objects": dataclasses.asdict(container.count_objects()),
            }
            if detailed:
                sizes = dataclasses.asdict(container.get_total_size())
                info["Size (MB)"] = {
                    name: round(size / BYTES_PER_MB, 2) for name, size in sizes.items()
                }
            return info
        finally:
            self._end_snapshot(container)

    def maintain(
        self,
        dry_run: bool = False,
        live: bool = True,
        pack_loose: bool | None = None,
        do_repack: bool | None = None,
        clean_storage: bool | None = None,
        do_vacuum: bool | None = None,
        compress: bool = False,
        callback: ProgressCallback | None = None,
    ) -> dict[str, Any]:
        """Pack loose objects, then (unless ``live``) repack, clean and vacuum.

        Options as aiida-core names them, resolved by
        :func:`~repository.backends.base.maintenance_plan`. Packing removes
        each loose file as soon as its pack is written, and a live
        maintenance cleans storage too, so no object is left on disk twice.
        With ``live=False`` the index is rewritten: other processes' reads
        may fail meanwhile. A repack that was killed is finished first.

        :param compress: compress what is packed where it is worth it
            (the library's ``CompressMode.AUTO``).
        :param callback: progress callback in disk-objectstore's form,
            ``callback(action, value)`` with action ``init``, ``update``, ``close``.
        :return: ``{"live", "dry_run", "actions", "objects_before"}`` and,
            unless ``dry_run``, ``"objects_after"`` (``Objects`` counts).
        :raises MaintenanceOptionsError: (a ``ValueError``) for a repack,
            clean or vacuum asked for while ``live``.
        :raises LockedError: if another process holds the store too long.
        """
        plan = maintenance_plan(
            live=live,
            pack_loose=pack_loose,
            do_repack=do_repack,
            clean_storage=clean_storage,
            do_vacuum=do_vacuum,
            compress=compress,
        )
        report: dict[str, Any] = {
            "live": live,
            "dry_run": dry_run,
            "actions": plan.actions,
            "objects_before": self.get_info()["Objects"],
        }
        if dry_run:
            return report
        with self.exclusive() as container:
            self._finish_interrupted_repack(container)
            if plan.pack_loose:
                logger.info("packing all loose objects")
                container.pack_all_loose(
                    compress=CompressMode.AUTO if plan.compress else CompressMode.NO,
                    callback=callback,
                    clean_loose_per_pack=True,
                )
            if plan.do_repack:
                logger.info("re-packing all pack files")
                container.repack(callback=callback)
            if plan.clean_storage:
                logger.info("cleaning storage (vacuum=%s)", plan.do_vacuum)
                container.clean_storage(vacuum=plan.do_vacuum)
        report["objects_after"] = self.get_info()["Objects"]
        return report

    def repair_killed_repack(self) -> bool:
        """Finish a repack that was killed, if there is one; whether there was.

        disk-objectstore's repack points the index at a temporary pack ``-1``
        before moving it into place; killed in that window, every object of
        the pack is unreadable (the library refuses pack id ``-1``). Reads
        call this when the library refuses, and the backend when it is
        built, so the next access repairs the store by itself.

        :raises LockedError: if another process holds the store: a repack
            may be running right now, and its temporary pack is not garbage.
        """
        if not self._temporary_pack.exists():
            return False
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise LockedError(
                f"the repository at {self._folder} is being repacked by another "
                "process; try again when its maintenance is done"
            ) from None
        container = self.container
        try:
            self._resync_session(container)
            self._finish_interrupted_repack(container)
        finally:
            self._end_snapshot(container)
            self._lock.release()
        logger.warning("finished a repack of %s that had been killed", self._folder)
        return True

    def _finish_interrupted_repack(self, container: Container) -> None:
        """Bring a container whose repack was killed back to a state it can repack.

        A repack copies a pack into the temporary pack ``-1``, points the index
        at the copy, removes the old pack, links the copy into its place,
        points the index back and unlinks the copy. Killed before the index
        moved, ``-1`` is garbage. Killed after, the copy is complete and is
        linked under the lowest pack id no index row uses (the old pack's id:
        its file, if still there, is an identical copy no row refers to)
        before the index is pointed at it. Each step can be killed too: run
        again, this picks up where it stopped. Must run under :meth:`exclusive`
        (no pack writer may be between writing a pack and indexing it).
        """
        repack_id = container._REPACK_PACK_ID
        packs = self._folder / "packs"
        temporary = packs / str(repack_id)
        if not temporary.exists():
            return
        session = container._get_operation_session()
        used = set(session.scalars(select(Obj.pack_id).distinct()))
        if repack_id in used:
            target_id = next(i for i in itertools.count() if i not in used)
            target = packs / str(target_id)
            if target.exists() and not os.path.samefile(target, temporary):
                target.unlink()
            if not target.exists():
                os.link(temporary, target)
            session.execute(
                update(Obj).where(Obj.pack_id == repack_id).values(pack_id=target_id)
            )
            session.commit()
        temporary.unlink()

    def find_corrupt_objects(
        self, callback: ProgressCallback | None = None
    ) -> list[str]:
        """Recompute every object's hash (loose and packed) and check pack layout.

        A repack that was killed is finished first (see :meth:`maintain`):
        until then its objects cannot be read, so they cannot be checked.
        """
        with self.exclusive() as container:
            self._finish_interrupted_repack(container)
            issues = container.validate(callback=callback)
        return sorted(
            {key for keys in dataclasses.asdict(issues).values() for key in keys}
        )
