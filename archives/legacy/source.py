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
import shutil
import tarfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, NamedTuple

from aiidasite.exceptions import CorruptArchive

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

    :raises CorruptArchive: the file is missing, empty, neither a zip nor a
        tar, or has no ``metadata.json``.
    """

    def __init__(
        self, path: Path, scratch: Path, zip_file: zipfile.ZipFile | None = None
    ) -> None:
        self.path = path
        self.scratch = scratch
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
            raw = self.zip.read(METADATA_NAME)
        except KeyError:
            raise CorruptArchive(
                f"{self.path}: no {METADATA_NAME}; not an AiiDA archive"
            ) from None
        except (zipfile.BadZipFile, OSError) as exc:
            raise CorruptArchive(f"{self.path}: unreadable ({exc})") from None
        return parse_metadata(raw)

    # --- tar ---------------------------------------------------------------

    def _walk_tar(self) -> dict[str, Any]:
        """Copy what the reader needs out of the tar, in one pass."""
        self.objects.mkdir(parents=True, exist_ok=True)
        self._tar_entries: list[NodeEntry] = []
        metadata = None
        try:
            with tarfile.open(self.path, "r:*") as tar:
                for member in tar:
                    name = member.name.removeprefix("./")
                    if name == METADATA_NAME and member.isfile():
                        metadata = parse_metadata(tar.extractfile(member).read())
                    elif name == DATA_NAME and member.isfile():
                        with (
                            tar.extractfile(member) as src,
                            (self.scratch / DATA_NAME).open("wb") as dst,
                        ):
                            shutil.copyfileobj(src, dst, CHUNK)
                    elif (found := node_entry(name)) is not None:
                        self._tar_entries.append(self._tar_entry(tar, member, found))
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise CorruptArchive(f"{self.path}: unreadable tar ({exc})") from None
        if metadata is None:
            raise CorruptArchive(
                f"{self.path}: no {METADATA_NAME}; not an AiiDA archive"
            )
        return metadata

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
                digest.update(block)
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
        with handle:
            yield handle

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
            with self.zip.open(info) as handle:
                while block := handle.read(CHUNK):
                    digest.update(block)
            yield NodeEntry(uuid, path, digest.hexdigest()), info.filename

    def object_size(self, member: str | None, key: str) -> int:
        if member is None:
            return (self.objects / key).stat().st_size
        return self.zip.getinfo(member).file_size

    def open_object(self, member: str | None, key: str) -> IO[bytes]:
        if member is None:
            return (self.objects / key).open("rb")
        return self.zip.open(member)


def parse_metadata(raw: bytes) -> dict[str, Any]:
    """``metadata.json`` as a dict.

    :raises CorruptArchive: it is empty, not JSON or not an object.
    """
    try:
        metadata = json.loads(raw)
    except ValueError as exc:
        raise CorruptArchive(f"{METADATA_NAME} is not valid JSON: {exc}") from None
    if not isinstance(metadata, dict):
        raise CorruptArchive(f"{METADATA_NAME} is not a JSON object")
    return metadata
