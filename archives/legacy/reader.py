"""A legacy archive read as if it were a ``main_0001`` one."""

from __future__ import annotations

import sqlite3
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

from aiidasite.exceptions import CorruptArchive
from aiidasite.tempdirs import owned_tempdir
from archives import format as fmt
from archives.legacy import convert
from archives.legacy.source import LegacySource
from archives.legacy.tables import LegacyTables
from archives.reader import ArchiveReader, archive_limits


class LegacyArchiveReader(ArchiveReader):
    """A ``0.1`` ... ``0.13`` archive (zip or tar): its tables converted into a
    ``main_0001`` database in a temporary folder, its files served by SHA-256
    key from the archive, so the importer and the migration read it like a
    current one. ``notes`` names what the conversion could not keep. The
    size limits of ``ArchiveReader`` apply, ``data.json`` taking the place of
    ``db.sqlite3``.

    :raises CorruptArchive: the archive is unreadable, larger than the limits,
        of an unknown version, or inconsistent (see ``LegacyTables``); the
        temporary folder is gone.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        skip_dangling_links: bool = False,
        zip_file: zipfile.ZipFile | None = None,
        progress: bool = False,
    ) -> None:
        self.path = Path(path)
        self.db: sqlite3.Connection | None = None
        self.source: LegacySource | None = None
        self._cleanup = ExitStack()
        try:
            self.limits = archive_limits()
            if zip_file is not None:
                self.zip = self._cleanup.enter_context(zip_file)
                # Declared sizes and ratios, before any member is read.
                self._check_sizes()
            self._tmp = self._cleanup.enter_context(owned_tempdir("archive"))
            self.source = LegacySource(self.path, self._tmp, self.limits, zip_file)
            self.metadata = self.source.metadata
            self.version = legacy_version(self.path, self.metadata)
            self.db = sqlite3.connect(self._tmp / fmt.DATABASE_NAME)
            tables = LegacyTables(
                self.source,
                self.version,
                self.db,
                self._tmp / "stage.sqlite3",
                skip_dangling_links=skip_dangling_links,
                progress=progress,
            )
            tables.build()
            self.notes = tables.notes
            self.db.row_factory = sqlite3.Row
        except BaseException:
            if zip_file is not None and self.source is None:
                zip_file.close()
            self.close()
            raise

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None
        if self.source is not None:
            self.source.close()
        self._cleanup.close()

    def object_keys(self) -> set[str]:
        sql = "SELECT DISTINCT key FROM stage.file WHERE key IS NOT NULL"
        return {row[0] for row in self.db.execute(sql)}

    def _member(self, key: str) -> str | None:
        sql = "SELECT member FROM stage.file WHERE key = ? LIMIT 1"
        row = self.db.execute(sql, (key,)).fetchone()
        if row is None:
            raise CorruptArchive(f"file object {key} is missing")
        return row[0]

    def object_size(self, key: str) -> int:
        return self.source.object_size(self._member(key), key)

    @contextmanager
    def open_object(self, key: str) -> Iterator[IO[bytes]]:
        with self.source.open_object(self._member(key), key) as handle:
            yield handle


def legacy_version(path: Path, metadata: dict) -> convert.Version:
    """The archive's ``0.x`` version.

    :raises CorruptArchive: it has none, or one AiiDA never wrote.
    """
    version = convert.parse_version(metadata.get("export_version"))
    if version is None or not convert.FIRST <= version <= convert.LAST:
        raise CorruptArchive(
            f"{path}: unknown archive version {metadata.get('export_version')!r} "
            "(known: 0.1 ... 0.13, main_0000, main_0001)"
        )
    return version
