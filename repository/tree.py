"""The virtual file tree of one node: names and folders mapped to backend keys.

The backend stores flat objects; :class:`Repository` keeps the hierarchy. Its
serialized form is AiiDA's, byte for byte, because ``repository_metadata``
columns and archives written by AiiDA hold it:

* a file is ``{"k": key}``;
* a directory with entries is ``{"o": {name: child, ...}}``;
* an empty directory (and the root of an empty tree) is ``{}``.

Paths are relative POSIX strings. :func:`validate_path` is the one place that
checks them, and every method that takes a path calls it first.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePath, PurePosixPath
from types import MappingProxyType
from typing import Any, BinaryIO

from repository.backends import AbstractRepositoryBackend, SandboxRepositoryBackend
from repository.exceptions import (
    InvalidEntryError,
    InvalidLocalPathError,
    InvalidPathError,
    NotADirectoryPathError,
    NotAFileError,
    ObjectNotFoundError,
)

# Files sent to the backend at once by put_object_from_tree: enough to make a
# pack write worth it, few enough to stay far below the open-files limit.
TREE_BATCH = 256

PathLike = str | PurePath


class FileType(enum.Enum):
    DIRECTORY = 0
    FILE = 1


class File:
    """One entry of the tree: a file with a key, or a directory with entries.

    Entries are immutable apart from a directory's ``objects`` mapping, and a
    contradictory one cannot be built (aiida-core's rules): a directory never
    has a key, a file never has ``objects`` (not even an empty dict), so
    :meth:`serialize` never has anything to drop.

    :raises TypeError: if ``name`` is not a string, ``file_type`` not a
        :class:`FileType`, ``key`` neither ``None`` nor a string, or
        ``objects`` holds something other than ``File`` entries.
    :raises InvalidEntryError: (a ``ValueError``) for a directory with a key
        or a file with ``objects``.
    """

    __slots__ = ("_file_type", "_key", "_name", "_objects")

    def __init__(
        self,
        name: str = "",
        file_type: FileType = FileType.DIRECTORY,
        key: str | None = None,
        objects: dict[str, File] | None = None,
    ) -> None:
        if not isinstance(name, str):
            raise TypeError(f"name should be a string, not {name!r}")
        if not isinstance(file_type, FileType):
            raise TypeError(f"file_type should be a FileType, not {file_type!r}")
        if key is not None and not isinstance(key, str):
            raise TypeError(f"key should be None or a string, not {key!r}")
        if objects is not None and not all(
            isinstance(entry, File) for entry in objects.values()
        ):
            raise TypeError("objects should be None or a dict of File entries")
        if file_type is FileType.DIRECTORY and key is not None:
            raise InvalidEntryError(
                "an object of type `FileType.DIRECTORY` cannot define a key."
            )
        if file_type is FileType.FILE and objects is not None:
            raise InvalidEntryError(
                "an object of type `FileType.FILE` cannot define any objects."
            )
        self._name = name
        self._file_type = file_type
        self._key = key
        # A file gets a read-only empty mapping: nothing can be added to it.
        self._objects: Mapping[str, File] = (
            MappingProxyType({})
            if file_type is FileType.FILE
            else (objects if objects is not None else {})
        )

    @property
    def name(self) -> str:
        return self._name

    @property
    def file_type(self) -> FileType:
        return self._file_type

    @property
    def key(self) -> str | None:
        """The backend key of a file; ``None`` for a directory."""
        return self._key

    @property
    def objects(self) -> dict[str, File]:
        """A directory's entries by name (mutable); always empty for a file."""
        return self._objects  # type: ignore[return-value]

    def __repr__(self) -> str:
        if self.is_file():
            return f"File<{self._name!r}, key={self._key!r}>"
        return f"File<{self._name!r}/, {len(self._objects)} entries>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, File):
            return NotImplemented
        return (self._name, self._file_type, self._key, dict(self._objects)) == (
            other._name,
            other._file_type,
            other._key,
            dict(other._objects),
        )

    __hash__ = None  # type: ignore[assignment]

    def is_file(self) -> bool:
        return self._file_type is FileType.FILE

    def is_dir(self) -> bool:
        return self._file_type is FileType.DIRECTORY

    def serialize(self) -> dict[str, Any]:
        """This entry in AiiDA's serialized form."""
        if self.is_file():
            return {"k": self._key}
        if not self._objects:
            return {}
        return {"o": {name: child.serialize() for name, child in self._objects.items()}}

    @classmethod
    def from_serialized(cls, data: Any, name: str = "") -> File:
        """Rebuild an entry from AiiDA's serialized form.

        :raises InvalidPathError: if the data is not a serialized tree or holds
            a name that is not a valid path segment.
        """
        key, children = _serialized_entry(data)
        if key is not None:
            return cls(name, FileType.FILE, key)
        objects = {}
        for child_name, child in children.items():
            validate_segment(child_name)
            objects[child_name] = cls.from_serialized(child, child_name)
        return cls(name, FileType.DIRECTORY, None, objects)


def _serialized_entry(data: Any) -> tuple[str | None, Mapping[str, Any]]:
    """One serialized entry as ``(key, {})`` for a file or ``(None,
    children)`` for a directory.

    :raises InvalidPathError: if it is neither.
    """
    if not isinstance(data, Mapping) or not data.keys() <= {"k", "o"}:
        raise InvalidPathError(f"not a serialized repository entry: {data!r}")
    if "k" in data:
        if not isinstance(data["k"], str) or "o" in data:
            raise InvalidPathError(f"not a serialized file entry: {data!r}")
        return data["k"], {}
    children = data.get("o", {})
    if not isinstance(children, Mapping):
        raise InvalidPathError(f"not a serialized directory entry: {data!r}")
    return None, children


def checked_keys(serialized: Any) -> list[str]:
    """Every file key of a serialized tree, the tree checked as
    :meth:`File.from_serialized` checks it but not built: what an importer
    needs of thousands of trees.

    :raises InvalidPathError: if it is not a serialized tree or holds a name
        that is not a valid path segment.
    """
    keys: list[str] = []
    stack = [serialized]
    while stack:
        key, children = _serialized_entry(stack.pop())
        if key is not None:
            keys.append(key)
            continue
        for name, child in children.items():
            validate_segment(name)
            stack.append(child)
    return keys


def validate_segment(name: Any) -> str:
    """Check one name inside a directory.

    :raises InvalidPathError: if ``name`` is empty, ``.``, ``..``, or holds
        ``/`` or NUL.
    """
    if not isinstance(name, str):
        raise InvalidPathError(f"a file name must be a string, not {name!r}")
    if name in ("", ".", ".."):
        raise InvalidPathError(f"invalid file name {name!r}")
    if "/" in name or "\x00" in name:
        raise InvalidPathError(f"file name {name!r} may not contain '/' or NUL")
    return name


def validate_path(path: PathLike | None) -> PurePosixPath:
    """Check a path inside a repository and return it as a ``PurePosixPath``.

    ``None``, ``""`` and ``"."`` mean the root. One trailing ``/`` is allowed
    (it is how directories are often written).

    Stricter than aiida-core's ``Repository._pre_process_path``, on purpose:
    it also refuses ``..``, ``.`` and empty segments inside a path (``a/../b``,
    ``./a``, ``a//b``), which aiida-core passes through, so that no name in a
    tree can climb out of a folder it is copied to.

    :raises InvalidPathError: (both ``ValueError`` and ``TypeError``) if the
        path is absolute, or has an empty, ``.`` or ``..`` segment, or contains
        NUL, or is neither ``str`` nor a path.
    """
    if path is None:
        return PurePosixPath()
    if isinstance(path, PurePath):
        # PurePath drops empty and "." segments itself; the checks below
        # still catch absolute paths and "..".
        text = path.as_posix()
    elif isinstance(path, str):
        text = path
    else:
        raise InvalidPathError(
            f"path is not of type `str` nor `pathlib.PurePath`: {path!r}"
        )
    if text in ("", "."):
        return PurePosixPath()
    if "\x00" in text:
        raise InvalidPathError(f"path {text!r} contains NUL")
    if text.startswith("/"):
        raise InvalidPathError(
            f"path `{text}` is not a relative path: repository paths are never absolute"
        )
    stripped = text[:-1] if text.endswith("/") else text
    for segment in stripped.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidPathError(
                f"path {text!r} has an empty, '.' or '..' segment; "
                "only plain relative paths are allowed"
            )
    return PurePosixPath(stripped)


def validate_local_path(
    path: Any, *, what: str, kind: type = PurePath, called: str | None = None
) -> Path:
    """Check a path on the local file system: a ``str`` or path, absolute.

    aiida-core refuses relative local paths, since what they name depends on
    the working directory of whichever process runs the call. The messages
    are aiida-core's.

    :param what: how the argument is named in a type error (``"filepath"``).
    :param kind: the path class it may be given as besides ``str``.
    :param called: how it is named when relative; ``what`` if not given.
    :raises InvalidLocalPathError: (``TypeError`` too) if ``path`` is neither
        a ``str`` nor a ``kind``, or is relative.
    """
    if not isinstance(path, str | kind):
        raise InvalidLocalPathError(
            f"{what} `{path}` is not of type `str` nor `pathlib.{kind.__name__}`."
        )
    local = Path(path)
    if not local.is_absolute():
        raise InvalidLocalPathError(
            f"{called or what} `{path}` is not an absolute path."
        )
    return local


def iter_keys(serialized: Mapping[str, Any] | None) -> Iterator[str]:
    """Every file key in a serialized tree, without building the tree."""
    if not serialized:
        return
    stack = [serialized]
    while stack:
        entry = stack.pop()
        key = entry.get("k")
        if key is not None:
            yield key
        else:
            stack.extend(entry.get("o", {}).values())


class Repository:
    """A file hierarchy whose file contents live in a backend.

    The API of aiida-core's ``aiida.repository.Repository`` (2.9), with these
    deliberate differences:

    * paths are checked by :func:`validate_path`, which also refuses ``..``,
      ``.`` and empty segments inside a path (aiida-core accepts them);
    * :meth:`erase` empties the tree only: backend objects stay, because
      content-addressed backends share them between trees (aiida-core's
      deletes them); there is no ``delete`` of the whole backend here;
    * :meth:`hash` is a SHA-256 of its own form, not aiida-core's
      ``make_hash``, so the values differ (equal trees still hash equal).

    Deleting a file removes it from this tree only, unless ``hard_delete`` is
    asked.

    :param backend: where contents go; a fresh sandbox when ``None``.
    """

    def __init__(self, backend: AbstractRepositoryBackend | None = None) -> None:
        self.backend = backend if backend is not None else SandboxRepositoryBackend()
        self._root = File()

    def __repr__(self) -> str:
        return f"Repository<{self.backend}>"

    @property
    def uuid(self) -> str | None:
        """The backend's identifier; ``None`` if it has none or is not initialised."""
        return self.backend.uuid

    @property
    def is_initialised(self) -> bool:
        """Whether the backend has been initialised."""
        return self.backend.is_initialised

    def initialise(self, **kwargs: Any) -> None:
        """Initialise the backend unless it is; ``kwargs`` go to its ``initialise``."""
        self.backend.initialise(**kwargs)

    @classmethod
    def from_serialized(
        cls, backend: AbstractRepositoryBackend, data: Mapping[str, Any] | None
    ) -> Repository:
        """A tree over ``backend`` rebuilt from :meth:`serialize` output.

        :raises InvalidPathError: if ``data`` is not a serialized tree.
        """
        repository = cls(backend)
        root = File.from_serialized(data or {})
        if root.is_file():
            raise InvalidPathError("the root of a serialized tree must be a directory")
        repository._root = root
        return repository

    def serialize(self) -> dict[str, Any]:
        """The tree in AiiDA's form (see the module docstring)."""
        return self._root.serialize()

    @classmethod
    def flatten(
        cls, serialized: Mapping[str, Any] | None, delimiter: str = "/"
    ) -> dict[str, str | None]:
        """Map every path of a serialized tree to its key, or ``None`` for a folder.

        Folder paths end with ``delimiter`` (``{"dir/": None, "dir/f": key}``),
        as in aiida-core; ``None`` gives ``{}``.
        """
        flat: dict[str, str | None] = {}
        stack = [("", serialized or {})]
        while stack:
            prefix, entry = stack.pop()
            for name, child in entry.get("o", {}).items():
                path = f"{prefix}{delimiter}{name}" if prefix else name
                if "k" in child:
                    flat[path] = child["k"]
                else:
                    flat[f"{path}{delimiter}"] = None
                    stack.append((path, child))
        return flat

    # aiida-core's name for the path check; its own tests call it.
    _pre_process_path = staticmethod(validate_path)

    def is_empty(self) -> bool:
        return not self._root.objects

    def reset(self) -> None:
        """Empty the tree (what aiida-core calls it; see :meth:`erase`)."""
        self._root = File()

    def get_file_keys(self) -> list[str]:
        """Every file key in the tree (a key twice if two files share it)."""
        return list(iter_keys(self.serialize()))

    def get_object(self, path: PathLike | None = None) -> File:
        """The entry at ``path``; the root for ``None``.

        :raises InvalidPathError: for an invalid path.
        :raises ObjectNotFoundError: (a ``FileNotFoundError``) if nothing is at
            ``path``.
        """
        parts = validate_path(path).parts
        entry = self._root
        for part in parts:
            child = entry.objects.get(part)
            if child is None:
                raise ObjectNotFoundError(
                    f"object with path `{'/'.join(parts)}` does not exist: "
                    "no file or directory there"
                )
            entry = child
        return entry

    def get_file(self, path: PathLike) -> File:
        """The file entry at ``path``.

        :raises InvalidPathError: for ``None`` or an invalid path.
        :raises NotAFileError: (an ``IsADirectoryError``) if ``path`` is a
            directory.
        """
        if path is None:
            raise InvalidPathError("path cannot be `None`.")
        entry = self.get_object(path)
        if not entry.is_file():
            raise NotAFileError(
                f"object with path `{validate_path(path)}` is not a file: "
                "it is a directory"
            )
        return entry

    def get_directory(self, path: PathLike | None = None) -> File:
        """The directory entry at ``path``.

        :raises NotADirectoryPathError: (a ``NotADirectoryError``) if ``path``
            is a file.
        """
        entry = self.get_object(path)
        if not entry.is_dir():
            raise NotADirectoryPathError(
                f"object with path `{validate_path(path)}` is not a directory: "
                "it is a file"
            )
        return entry

    def has_object(self, path: PathLike) -> bool:
        """Whether a file or directory exists at ``path``."""
        try:
            self.get_object(path)
        except ObjectNotFoundError:
            return False
        return True

    def list_objects(self, path: PathLike | None = None) -> list[File]:
        """Entries of the directory at ``path``, sorted by name."""
        directory = self.get_directory(path)
        return [directory.objects[name] for name in sorted(directory.objects)]

    def list_object_names(self, path: PathLike | None = None) -> list[str]:
        """Names in the directory at ``path``, sorted."""
        return sorted(self.get_directory(path).objects)

    def create_directory(self, path: PathLike) -> File:
        """Create the directory at ``path`` and its parents; return it.

        The root path (``""``) returns the root.

        :raises InvalidPathError: for ``None`` or an invalid path.
        :raises NotADirectoryPathError: if a file is in the way.
        """
        if path is None:
            raise InvalidPathError("path cannot be `None`.")
        return self._make_directories(validate_path(path).parts)

    def _make_directories(self, parts: tuple[str, ...]) -> File:
        directory = self._root
        for index, part in enumerate(parts):
            child = directory.objects.get(part)
            if child is None:
                child = directory.objects[part] = File(part)
            elif child.is_file():
                raise NotADirectoryPathError(
                    f"object with path `{'/'.join(parts[: index + 1])}` is not "
                    "a directory: it is a file"
                )
            directory = child
        return directory

    def _lookup(self, parts: tuple[str, ...]) -> File | None:
        entry: File | None = self._root
        for part in parts:
            if entry is None:
                return None
            entry = entry.objects.get(part)
        return entry

    def _insert_file(self, parts: tuple[str, ...], key: str) -> None:
        directory = self._make_directories(parts[:-1])
        directory.objects[parts[-1]] = File(parts[-1], FileType.FILE, key)

    def _check_target(self, path: PathLike) -> tuple[str, ...]:
        """Validate a file target before any byte is stored."""
        parts = validate_path(path).parts
        if not parts:
            raise InvalidPathError("a file needs a non-empty path")
        for index in range(1, len(parts)):
            entry = self._lookup(parts[:index])
            if entry is not None and entry.is_file():
                raise NotADirectoryPathError(
                    f"object with path `{'/'.join(parts[:index])}` is not a "
                    "directory: it is a file"
                )
        existing = self._lookup(parts)
        if existing is not None and existing.is_dir():
            raise NotAFileError(
                f"object with path `{'/'.join(parts)}` is not a file: it is a directory"
            )
        return parts

    def put_object_from_filelike(self, handle: BinaryIO, path: PathLike) -> None:
        """Store the rest of ``handle`` as the file at ``path``.

        A file already at ``path`` is replaced. Returns nothing, as in
        aiida-core: ``get_file(path).key`` is the key.

        :raises InvalidPathError: for an invalid or empty path.
        :raises NotAFileError: if ``path`` is a directory.
        :raises NotADirectoryPathError: if a parent of ``path`` is a file.
        :raises TypeError: if ``handle`` is not a readable byte stream.
        """
        parts = self._check_target(path)
        key = self.backend.put_object_from_filelike(handle)
        self._insert_file(parts, key)

    def put_object_from_file(self, filepath: str | Path, path: PathLike) -> None:
        """Store the local file ``filepath`` as the file at ``path``."""
        parts = self._check_target(path)
        key = self.backend.put_object_from_file(filepath)
        self._insert_file(parts, key)

    def put_object_from_tree(
        self, filepath: str | PurePath, path: PathLike | None = None
    ) -> None:
        """Copy the local folder ``filepath`` (files and empty folders) under ``path``.

        Files are sent to the backend in batches, so a content-addressed
        backend writes them straight into a pack. Every name is checked
        before any byte is stored.

        :raises InvalidLocalPathError: (``TypeError`` too) if ``filepath`` is
            not a ``str`` or path, or is relative (as aiida-core).
        :raises NotADirectoryPathError: if ``filepath`` is not a directory.
        :raises InvalidPathError: if ``path`` or a file name under
            ``filepath`` cannot be a repository path.
        """
        base = validate_path(path).parts
        folder = validate_local_path(filepath, what="filepath")
        if not folder.is_dir():
            raise NotADirectoryPathError(f"{folder} is not a directory")
        planned: list[tuple[tuple[str, ...], Path]] = []
        directories: list[tuple[str, ...]] = [base] if base else []
        for root, dirnames, filenames in os.walk(folder):
            relative = Path(root).relative_to(folder).parts
            for name in sorted(dirnames):
                directories.append((*base, *relative, validate_segment(name)))
            for name in sorted(filenames):
                parts = (*base, *relative, validate_segment(name))
                planned.append(
                    (self._check_target(PurePosixPath(*parts)), Path(root, name))
                )
        for parts in directories:
            self._make_directories(parts)
        for start in range(0, len(planned), TREE_BATCH):
            batch = planned[start : start + TREE_BATCH]
            with contextlib.ExitStack() as stack:
                handles = [
                    stack.enter_context(open(source, "rb")) for _, source in batch
                ]
                keys = self.backend.put_objects_from_filelikes(handles)
            for (parts, _), key in zip(batch, keys, strict=True):
                self._insert_file(parts, key)

    @contextlib.contextmanager
    def open(self, path: PathLike) -> Iterator[BinaryIO]:
        """A binary stream of the file at ``path``.

        :raises ObjectNotFoundError: if no file is at ``path``, or its content
            is missing from the backend.
        :raises NotAFileError: if ``path`` is a directory.
        """
        key = self.get_file(path).key
        assert key is not None
        with self.backend.open(key) as handle:
            yield handle

    def get_object_content(self, path: PathLike) -> bytes:
        """The whole content of the file at ``path``."""
        with self.open(path) as handle:
            return handle.read()

    def delete_object(self, path: PathLike, hard_delete: bool = False) -> None:
        """Remove the file at ``path`` from the tree.

        :param hard_delete: also delete its content from the backend.
        :raises NotAFileError: if ``path`` is a directory.
        """
        parts = validate_path(path).parts
        entry = self.get_file(path)
        if hard_delete:
            assert entry.key is not None
            self.backend.delete_object(entry.key)
        parent = self._lookup(parts[:-1])
        assert parent is not None
        del parent.objects[parts[-1]]

    def erase(self) -> None:
        """Empty the tree. Backend objects stay: other trees may share them."""
        self.reset()

    def clone(self, source: Repository) -> None:
        """Copy every file and folder of ``source`` into this tree.

        Contents are read from ``source``'s backend and written to this one,
        so the two may use different backends (and key formats).

        :raises TypeError: if ``source`` is not a :class:`Repository`.
        :raises NotADirectoryPathError, NotAFileError: if a path of
            ``source`` collides with one of this tree's.
        """
        if not isinstance(source, Repository):
            raise TypeError(f"source is not a Repository: {source!r}")
        for root, dirnames, filenames in source.walk():
            for name in dirnames:
                self.create_directory(root / name)
            for name in filenames:
                with source.open(root / name) as handle:
                    self.put_object_from_filelike(handle, root / name)

    def walk(
        self, path: PathLike | None = None
    ) -> Iterator[tuple[PurePosixPath, list[str], list[str]]]:
        """Like ``os.walk``: ``(directory, dirnames, filenames)``, top down, sorted."""
        start = validate_path(path)
        stack = [(start, self.get_directory(start))]
        while stack:
            root, directory = stack.pop()
            dirnames, filenames = [], []
            for name in sorted(directory.objects):
                (filenames if directory.objects[name].is_file() else dirnames).append(
                    name
                )
            yield root, dirnames, filenames
            stack.extend(
                (root / name, directory.objects[name]) for name in reversed(dirnames)
            )

    def copy_tree(self, target: str | Path, path: PathLike | None = None) -> None:
        """Write the files and folders under ``path`` into the local folder ``target``.

        Only what is under ``path`` is copied, not ``path`` itself (as in
        aiida-core). Names were validated on the way in, so nothing lands
        outside ``target``.

        :raises NotADirectoryPathError: if ``path`` is a file.
        :raises InvalidLocalPathError: (``TypeError`` too) if ``target`` is
            not a ``str`` or ``Path``, or is relative (as aiida-core).
        """
        start = validate_path(path)
        self.get_directory(start)
        target = validate_local_path(
            target, what="target path", kind=Path, called="provided target"
        )
        for root, dirnames, filenames in self.walk(start):
            local = target.joinpath(*root.relative_to(start).parts)
            local.mkdir(parents=True, exist_ok=True)
            for name in dirnames:
                (local / name).mkdir(exist_ok=True)
            for name in filenames:
                with self.open(root / name) as source, open(local / name, "wb") as out:
                    shutil.copyfileobj(source, out)

    def hash(self) -> str:
        """SHA-256 over every path (directories included) and each file's content.

        Equal for two trees with the same names and contents, whatever the
        backends or their keys.
        """
        entries = []
        for root, dirnames, filenames in self.walk():
            entries.extend([str(root / name), None] for name in dirnames)
            for name in filenames:
                key = self.get_file(root / name).key
                assert key is not None
                entries.append([str(root / name), self.backend.get_object_hash(key)])
        entries.sort(key=lambda entry: entry[0])
        return hashlib.sha256(json.dumps(entries).encode()).hexdigest()
