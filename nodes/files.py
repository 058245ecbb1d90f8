"""Node files: written to the repository as a batch, read back by path.

A node's ``repository_metadata`` is its serialized file tree (AiiDA's form:
a file is ``{"k": key}``, a directory ``{"o": {name: entry}}``); the
contents live in the repository backend, shared between nodes with equal
files since keys are content hashes.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

from aiidasite.exceptions import InputValidationError
from nodes import bulk
from nodes.models import DbNode
from repository import Repository, get_backend, validate_path
from repository.backends import AbstractRepositoryBackend
from repository.exceptions import (
    InvalidPathError,
    NotADirectoryPathError,
)

FileContent = bytes | IO[bytes]


def plan_tree(
    files: Mapping[str, FileContent], where: str
) -> tuple[dict[str, Any], list[tuple[dict[str, Any], IO[bytes]]]]:
    """The serialized tree for ``files`` with its keys still to fill in, and
    each leaf with the stream whose key goes there.

    :raises InvalidPathError: for a path such as ``../x``, ``/etc/passwd`` or
        the empty path.
    :raises NotADirectoryPathError: if a file is used as a directory.
    :raises InputValidationError: for content that is neither bytes nor a
        readable binary stream.
    """
    root: dict[str, Any] = {}
    leaves = []
    for path, content in files.items():
        parts = validate_path(path).parts
        if not parts:
            raise InvalidPathError(f"{where}: a file needs a non-empty path")
        entry = root
        for depth, part in enumerate(parts[:-1], start=1):
            entry = entry.setdefault("o", {}).setdefault(part, {})
            if "k" in entry:
                shown = "/".join(parts[:depth])
                raise NotADirectoryPathError(f"{where}: {shown!r} is a file")
        objects = entry.setdefault("o", {})
        if parts[-1] in objects:
            raise InvalidPathError(f"{where}: {path!r} is given twice")
        leaf: dict[str, Any] = {"k": None}
        objects[parts[-1]] = leaf
        if isinstance(content, bytes | bytearray):
            content = io.BytesIO(content)
        if not AbstractRepositoryBackend.is_readable_byte_stream(content):
            raise InputValidationError(
                f"{where}: file {path!r} is not bytes nor a binary stream"
            )
        leaves.append((leaf, content))
    return root, leaves


def put_files(batch: Sequence[Mapping[str, FileContent]]) -> list[dict[str, Any]]:
    """Write the files of many nodes to the repository in one batch; each
    node's serialized tree (empty without files). Every path is checked
    before any byte is written.

    :raises InvalidPathError: for a path such as ``../x`` or ``/etc/passwd``.
    :raises InputValidationError: for content that is not bytes or a binary
        stream.
    """
    plans = [plan_tree(files, f"node {i}") for i, files in enumerate(batch)]
    leaves = [leaf for _, node_leaves in plans for leaf in node_leaves]
    if leaves:
        handles = [handle for _, handle in leaves]
        keys = get_backend().put_objects_from_filelikes(handles)
        for (leaf, _), key in zip(leaves, keys, strict=True):
            leaf["k"] = key
    return [tree for tree, _ in plans]


def node_repository(*, node: DbNode) -> Repository:
    """The node's file tree (read it only: stored files are immutable)."""
    return Repository.from_serialized(get_backend(), node.repository_metadata or {})


def referenced_keys() -> set[str]:
    """Every object key that any node's file tree references."""
    return bulk.referenced_object_keys()


def node_file_entries(*, node: DbNode, path: str | None = None) -> list[dict[str, str]]:
    """Every file and directory under ``path`` in the node's tree, top down.

    :raises InvalidPathError: for a path such as ``../x``.
    :raises ObjectNotFoundError: if nothing is at ``path``.
    :raises NotADirectoryPathError: if ``path`` is a file.
    """
    entries = []
    for root, dirnames, filenames in node_repository(node=node).walk(path):
        for name in dirnames:
            entries.append({"path": str(root / name), "type": "directory"})
        for name in filenames:
            entries.append({"path": str(root / name), "type": "file"})
    return entries


@contextlib.contextmanager
def node_file_open(*, node: DbNode, path: str) -> Iterator[IO[bytes]]:
    """A binary stream of the node's file at ``path``.

    :raises InvalidPathError: for a path such as ``../x``.
    :raises ObjectNotFoundError: if no file is at ``path``.
    :raises NotAFileError: if ``path`` is a directory.
    """
    with node_repository(node=node).open(path) as handle:
        yield handle


def node_file_is_directory(*, node: DbNode, path: str) -> bool:
    """Whether ``path`` names a directory of the node's tree.

    :raises InvalidPathError: for a path such as ``../x``.
    :raises ObjectNotFoundError: if nothing is at ``path``.
    """
    return node_repository(node=node).get_object(path).is_dir()


def delete_objects(keys: set[str]) -> None:
    """Remove these objects; those already gone (maintenance) are ignored."""
    get_backend().discard_objects(sorted(keys))


def _object_size(backend: AbstractRepositoryBackend, key: str) -> int:
    """Bytes of one stored object, by seeking to its end (no read)."""
    with backend.open(key) as handle:
        if handle.seekable():
            # tell(), not seek()'s result: disk-objectstore's packed reader
            # returns the offset it was given when seeking from the end.
            handle.seek(0, io.SEEK_END)
            return handle.tell()
        return sum(len(chunk) for chunk in iter(lambda: handle.read(1 << 20), b""))


def node_file_tree(*, node: DbNode, path: str | None = None) -> list[dict[str, Any]]:
    """The node's files under ``path`` as a nested, sorted tree.

    Each entry is ``{"name", "path", "type": "directory", "children": [...]}``
    or ``{"name", "path", "type": "file", "size": bytes}``; directories come
    before files, each sorted by name (as ``ls --group-directories-first``).

    :raises InvalidPathError: for a path such as ``../x``.
    :raises ObjectNotFoundError: if nothing is at ``path``.
    :raises NotADirectoryPathError: if ``path`` is a file.
    """
    repository = node_repository(node=node)
    backend = get_backend()
    sizes: dict[str, int] = {}

    def entries(directory: Any, prefix: str) -> list[dict[str, Any]]:
        children = sorted(
            directory.objects.values(), key=lambda e: (e.is_file(), e.name)
        )
        found = []
        for child in children:
            where = f"{prefix}{child.name}"
            if child.is_dir():
                found.append(
                    {
                        "name": child.name,
                        "path": where,
                        "type": "directory",
                        "children": entries(child, f"{where}/"),
                    }
                )
                continue
            if child.key not in sizes:
                sizes[child.key] = _object_size(backend, child.key)
            found.append(
                {
                    "name": child.name,
                    "path": where,
                    "type": "file",
                    "size": sizes[child.key],
                }
            )
        return found

    directory = repository.get_directory(path)
    start = str(validate_path(path)) if path else ""
    return entries(directory, f"{start}/" if start not in ("", ".") else "")


def node_file_preview(*, node: DbNode, path: str, limit: int) -> str | None:
    """The start of a text file (at most ``limit`` bytes, decoded as UTF-8),
    or None for a binary one (NUL bytes or not UTF-8).

    :raises ObjectNotFoundError: if no file is at ``path``.
    """
    with node_file_open(node=node, path=path) as handle:
        head = handle.read(limit)
    if b"\0" in head:
        return None
    try:
        return head.decode()
    except UnicodeDecodeError as exc:
        # A character cut by the limit is not a sign of binary content.
        if exc.start >= len(head) - 3 and len(head) == limit:
            return head[: exc.start].decode()
        return None
