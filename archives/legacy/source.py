"""The members of a legacy archive, zip or tar.gz.

A zip is read in place: its members are opened on demand. A tar(.gz) can
only be read front to back, so it is walked once: ``data.json`` and each
node file are copied into a scratch folder, the files under their SHA-256
key (each content once).
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, NamedTuple

from aiidasite.exceptions import CorruptArchive
from archives.reader import MIB, RATIO_FLOOR

METADATA_NAME = "metadata.json"
DATA_NAME = "data.json"
NODES_FOLDER = "nodes"
# The subfolders of a node's folder that hold its files (aiida-core's
# ``legacy_to_main`` keeps both, merged into one file tree).
FILE_FOLDERS = frozenset({"path", "raw_input"})
CHUNK = 1024 * 1024


class NodeEntry(NamedTuple):
    """One entry of a node folder: the node's UUID, the path inside the node's
    file tree (None for the node folder itself), and the SHA-256 key of a file
    (None for a directory)."""

    uuid: str
    path: str | None
    key: str | None


def node_entry(name: str) -> tuple[str, str | None] | None:
    """``nodes/c1/87/9cbe-.../path/sub/file`` as (``c1879cbe-...``,
    ``sub/file``); (uuid, None) for the node folder and the entries beside
    its file folders; None for anything else.

    :raises CorruptArchive: the name leaves the archive (``..``, absolute).
    """
    if not name.startswith("nodes/"):
        return None
    parts = [part for part in name.split("/") if part and part != "."]
    if len(parts) < 4:
        return None
    if ".." in parts:
        raise CorruptArchive(f"archive member {name!r} points outside its folder")
    uuid = "".join(parts[1:4])
    if len(parts) < 6 or parts[4] not in FILE_FOLDERS:
        return uuid, None
    return uuid, "/".join(parts[5:])


class LegacySource:
    """An open legacy archive: ``metadata``, ``open_data()``, ``node_entries()``
    and ``open_object(member)``.

    ``limits`` are ``archives.reader.archive_limits()``: ``metadata.json``
    and ``data.json`` (in place of ``db.sqlite3``) are held to theirs as they
    are read, and a tar's content to the expansion ratio as it is unpacked.

    :raises CorruptArchive: the file is missing, empty, neither a zip nor a
        tar, has no ``metadata.json``, or goes beyond a limit.
    """

    def __init__(
        self,
        path: Path,
        scratch: Path,
        limits: dict[str, int],
        zip_file: zipfile.ZipFile | None = None,
    ) -> None:
        self.path = path
        self.scratch = scratch
        self.limits = limits
        self.zip = zip_file
        self.objects = scratch / "objects"
        if zip_file is not None:  # opened already, to read its version
            self.metadata = self._zip_metadata()
            return
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise CorruptArchive(f"{path}: no such file") from None
        if not path.is_file():
            raise CorruptArchive(f"{path}: not a file")
        if size == 0:
            raise CorruptArchive(f"{path}: the file is empty (0 bytes)")
        if zipfile.is_zipfile(path):
            self.zip = zipfile.ZipFile(path)
            self.metadata = self._zip_metadata()
        elif tarfile.is_tarfile(path):
            self.metadata = self._walk_tar()
        else:
            raise CorruptArchive(f"{path}: neither a zip nor a tar archive")

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()

    # --- zip ---------------------------------------------------------------

    def _zip_metadata(self) -> dict[str, Any]:
        try:
            with self.zip.open(METADATA_NAME) as handle:
                raw = handle.read(self.limits["metadata"] + 1)
        except KeyError:
            raise CorruptArchive(
                f"{self.path}: no {METADATA_NAME}; not an AiiDA archive"
            ) from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise CorruptArchive(f"{self.path}: unreadable ({exc})") from None
        self.refuse_above(METADATA_NAME, len(raw), "metadata")
        return parse_metadata(raw)

    def refuse_above(self, name: str, size: int, limit: str) -> None:
        if size > self.limits[limit]:
            setting = {
                "metadata": "AIIDASITE_ARCHIVE_MAX_METADATA_MIB",
                "database": "AIIDASITE_ARCHIVE_MAX_DATABASE_MIB",
            }[limit]
            raise CorruptArchive(
                f"{name} holds more than {self.limits[limit] // MIB} MiB, "
                f"the limit ({setting})"
            )

    # --- tar ---------------------------------------------------------------

    def _walk_tar(self) -> dict[str, Any]:
        """Copy what the reader needs out of the tar, in one pass, counting
        the bytes unpacked against the expansion limit."""
        self.objects.mkdir(parents=True, exist_ok=True)
        self._tar_entries: list[NodeEntry] = []
        self._unpacked = 0
        metadata = None
        try:
            with tarfile.open(self.path, "r:*") as tar:
                for member in tar:
                    name = member.name.removeprefix("./")
                    if name == METADATA_NAME and member.isfile():
                        self.refuse_above(name, member.size, "metadata")
                        with tar.extractfile(member) as handle:
                            raw = self._count(handle.read(self.limits["metadata"] + 1))
                        self.refuse_above(name, len(raw), "metadata")
                        metadata = parse_metadata(raw)
                    elif name == DATA_NAME and member.isfile():
                        self.refuse_above(name, member.size, "database")
                        with (
                            tar.extractfile(member) as src,
                            (self.scratch / DATA_NAME).open("wb") as dst,
                        ):
                            while block := src.read(CHUNK):
                                dst.write(self._count(block))
                    elif (found := node_entry(name)) is not None:
                        self._tar_entries.append(self._tar_entry(tar, member, found))
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise CorruptArchive(f"{self.path}: unreadable tar ({exc})") from None
        if metadata is None:
            raise CorruptArchive(
                f"{self.path}: no {METADATA_NAME}; not an AiiDA archive"
            )
        return metadata

    def _count(self, block: bytes) -> bytes:
        """``block``, once the bytes unpacked so far are within the ratio."""
        self._unpacked += len(block)
        packed = self.path.stat().st_size
        ratio = self.limits["ratio"]
        if self._unpacked > RATIO_FLOOR and self._unpacked > ratio * packed:
            raise CorruptArchive(
                f"the archive would expand from {packed} to more than "
                f"{self._unpacked} bytes, more than {ratio} times "
                "(AIIDASITE_ARCHIVE_MAX_RATIO); refused as a bomb"
            )
        return block

    def _tar_entry(
        self, tar: tarfile.TarFile, member: tarfile.TarInfo, found: tuple
    ) -> NodeEntry:
        uuid, path = found
        if path is None or not member.isfile():
            return NodeEntry(uuid, path or None, None)
        partial = self.objects / "partial"
        digest = hashlib.sha256()
        with tar.extractfile(member) as src, partial.open("wb") as dst:
            while block := src.read(CHUNK):
                digest.update(self._count(block))
                dst.write(block)
        key = digest.hexdigest()
        os.replace(partial, self.objects / key)
        return NodeEntry(uuid, path, key)

    # --- both --------------------------------------------------------------

    @contextmanager
    def open_data(self) -> Iterator[IO[bytes]]:
        """``data.json`` as a binary stream.

        :raises CorruptArchive: the archive has none.
        """
        if self.zip is None:
            target = self.scratch / DATA_NAME
            if not target.exists():
                raise CorruptArchive(f"{self.path}: no {DATA_NAME}")
            with target.open("rb") as handle:
                yield handle
            return
        try:
            handle = self.zip.open(DATA_NAME)
        except KeyError:
            raise CorruptArchive(f"{self.path}: no {DATA_NAME}") from None
        self.refuse_above(DATA_NAME, self.zip.getinfo(DATA_NAME).file_size, "database")
        try:
            with handle:
                yield CappedReader(handle, self)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise CorruptArchive(f"{DATA_NAME} is damaged: {exc}") from None

    def data_size(self) -> int | None:
        """The size of ``data.json`` in bytes, if it is there."""
        if self.zip is None:
            target = self.scratch / DATA_NAME
            return target.stat().st_size if target.exists() else None
        try:
            return self.zip.getinfo(DATA_NAME).file_size
        except KeyError:
            return None

    def node_entries(self) -> Iterator[tuple[NodeEntry, str | None]]:
        """Every entry of the node folders, with the zip member that holds a
        file (None in a tar: its files are in the scratch folder by key)."""
        if self.zip is None:
            for entry in self._tar_entries:
                yield entry, None
            return
        for info in self.zip.infolist():
            found = node_entry(info.filename)
            if found is None:
                continue
            uuid, path = found
            if path is None or info.is_dir():
                # A folder: it exists even if empty.
                yield NodeEntry(uuid, path, None), None
                continue
            digest = hashlib.sha256()
            try:
                with self.zip.open(info) as handle:
                    while block := handle.read(CHUNK):
                        digest.update(block)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise CorruptArchive(f"{info.filename} is damaged: {exc}") from None
            yield NodeEntry(uuid, path, digest.hexdigest()), info.filename

    def object_size(self, member: str | None, key: str) -> int:
        if member is None:
            return (self.objects / key).stat().st_size
        return self.zip.getinfo(member).file_size

    def open_object(self, member: str | None, key: str) -> IO[bytes]:
        if member is None:
            return (self.objects / key).open("rb")
        return self.zip.open(member)


class CappedReader:
    """``data.json`` as read, refused once it grows past its limit (a zip
    may declare a smaller size than it holds)."""

    def __init__(self, handle: IO[bytes], source: LegacySource) -> None:
        self.handle, self.source, self.read_bytes = handle, source, 0

    def read(self, size: int = -1) -> bytes:
        block = self.handle.read(size)
        self.read_bytes += len(block)
        self.source.refuse_above(DATA_NAME, self.read_bytes, "database")
        return block


def parse_metadata(raw: bytes) -> dict[str, Any]:
    """``metadata.json`` as a dict.

    :raises CorruptArchive: it is empty, not JSON or not an object.
    """
    try:
        metadata = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise CorruptArchive(f"{METADATA_NAME} is not valid JSON: {exc}") from None
    if not isinstance(metadata, dict):
        raise CorruptArchive(f"{METADATA_NAME} is not a JSON object")
    return metadata
