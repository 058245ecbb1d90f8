"""Reading an AiiDA archive without importing it."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

from django.conf import settings

from aiidasite.exceptions import CorruptArchive
from aiidasite.tempdirs import owned_tempdir
from archives import format as fmt

BATCH_SIZE = 5_000
MIB = 1024 * 1024
# Members smaller than this are never refused for their compression ratio:
# small files of repeated bytes compress far beyond any bomb threshold.
RATIO_FLOOR = 16 * MIB
COPY_CHUNK = MIB


def archive_limits() -> dict[str, int]:
    """The size limits of an archive's members, in bytes (ratio: a factor)."""
    return {
        "metadata": settings.AIIDASITE_ARCHIVE_MAX_METADATA_MIB * MIB,
        "database": settings.AIIDASITE_ARCHIVE_MAX_DATABASE_MIB * MIB,
        "ratio": settings.AIIDASITE_ARCHIVE_MAX_RATIO,
    }


class ArchiveReader:
    """An open archive: its metadata, its tables and its file objects.

    Sizes are checked before anything is read: every member's declared size
    and compression ratio, ``metadata.json`` and ``db.sqlite3`` against their
    limits (``AIIDASITE_ARCHIVE_MAX_*``), and the bytes actually read against
    the same limits while they stream, since a zip may lie about sizes.
    ``db.sqlite3`` is extracted to an owned temporary folder (SQLite cannot
    read from inside a zip) that a later import removes if this process is
    killed; file objects are streamed from the zip on demand.

    :raises CorruptArchive: if the file is not a readable archive of a supported
        version, or is larger than the limits allow.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.db: sqlite3.Connection | None = None
        self._cleanup = ExitStack()
        try:
            self.zip = self._cleanup.enter_context(self._open_zip())
            self.limits = archive_limits()
            self._check_sizes()
            self.metadata = self._read_metadata()
            self._tmp = self._cleanup.enter_context(owned_tempdir("archive"))
            self.db = self._open_database()
        except BaseException:
            self.close()
            raise

    def _open_zip(self) -> zipfile.ZipFile:
        try:
            return zipfile.ZipFile(self.path)
        except FileNotFoundError:
            raise CorruptArchive(f"{self.path.name}: no such file") from None
        except (zipfile.BadZipFile, OSError) as exc:
            raise CorruptArchive(
                f"{self.path.name}: not a zip archive ({exc})"
            ) from None

    def _check_sizes(self) -> None:
        """Refuse, before reading any member, one that declares more than its
        limit or expands more than ``AIIDASITE_ARCHIVE_MAX_RATIO`` times."""
        caps = {
            fmt.METADATA_NAME: ("metadata", "AIIDASITE_ARCHIVE_MAX_METADATA_MIB"),
            fmt.DATABASE_NAME: ("database", "AIIDASITE_ARCHIVE_MAX_DATABASE_MIB"),
        }
        total = 0
        for info in self.zip.infolist():
            if info.filename in caps:
                limit, setting = caps[info.filename]
                self._refuse_above(info.filename, info.file_size, limit, setting)
            self._refuse_bomb(info.filename, info.compress_size, info.file_size)
            total += info.file_size
        # Many small members may expand together what one may not.
        self._refuse_bomb("the archive", self.path.stat().st_size, total)

    def _refuse_bomb(self, name: str, packed: int, size: int) -> None:
        ratio = self.limits["ratio"]
        if size > RATIO_FLOOR and size > ratio * max(packed, 1):
            raise CorruptArchive(
                f"{name} would expand from {packed} to {size} bytes, more than "
                f"{ratio} times (AIIDASITE_ARCHIVE_MAX_RATIO); refused as a zip bomb"
            )

    def _refuse_above(self, name: str, size: int, limit: str, setting: str) -> None:
        if size > self.limits[limit]:
            raise CorruptArchive(
                f"{name} holds more than {self.limits[limit] // MIB} MiB, "
                f"the limit ({setting})"
            )

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None
        self._cleanup.close()

    def _read_metadata(self) -> dict[str, Any]:
        limit = self.limits["metadata"]
        try:
            with self.zip.open(fmt.METADATA_NAME) as handle:
                # One byte more than allowed tells a member that lied.
                raw = handle.read(limit + 1)
        except KeyError:
            raise CorruptArchive(
                f"{self.path.name}: no {fmt.METADATA_NAME}; not an AiiDA archive"
            ) from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise CorruptArchive(f"{self.path.name}: unreadable ({exc})") from None
        self._refuse_above(
            fmt.METADATA_NAME,
            len(raw),
            "metadata",
            "AIIDASITE_ARCHIVE_MAX_METADATA_MIB",
        )
        try:
            metadata = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise CorruptArchive(f"{fmt.METADATA_NAME} is not JSON: {exc}") from None
        if not isinstance(metadata, dict):
            raise CorruptArchive(f"{fmt.METADATA_NAME} is not a JSON object")
        version = metadata.get("export_version")
        if version not in fmt.SUPPORTED_VERSIONS:
            supported = ", ".join(sorted(fmt.SUPPORTED_VERSIONS))
            raise CorruptArchive(
                f"{self.path.name}: archive version {version!r} is not supported "
                f"(supported: {supported}); migrate it with a recent "
                "'verdi archive migrate' first"
            )
        key_format = metadata.get("key_format", fmt.KEY_FORMAT)
        if key_format != fmt.KEY_FORMAT:
            raise CorruptArchive(
                f"{self.path.name}: key format {key_format!r} unsupported"
            )
        return metadata

    def _open_database(self) -> sqlite3.Connection:
        target = self._tmp / fmt.DATABASE_NAME
        try:
            size = self.zip.getinfo(fmt.DATABASE_NAME).file_size
        except KeyError:
            raise CorruptArchive(f"{self.path.name}: no {fmt.DATABASE_NAME}") from None
        free = shutil.disk_usage(self._tmp).free
        if size > free:
            raise CorruptArchive(
                f"{fmt.DATABASE_NAME} needs {size // MIB} MiB of temporary space, "
                f"only {free // MIB} MiB are free (AIIDASITE_TMP_DIR)"
            )
        try:
            with self.zip.open(fmt.DATABASE_NAME) as src, target.open("wb") as dst:
                self._copy_capped(src, dst)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise CorruptArchive(
                f"{self.path.name}: {fmt.DATABASE_NAME}: {exc}"
            ) from None
        if self.metadata.get("export_version") == "main_0000":
            fill_nulls(target)
        db = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        db.row_factory = sqlite3.Row
        try:
            self._check_schema(db)
        except sqlite3.DatabaseError as exc:
            db.close()
            raise CorruptArchive(
                f"{self.path.name}: {fmt.DATABASE_NAME}: {exc}"
            ) from None
        except CorruptArchive:
            db.close()
            raise
        return db

    def _copy_capped(self, src: IO[bytes], dst: IO[bytes]) -> None:
        """Stream ``db.sqlite3`` out, stopping as soon as more bytes arrive
        than its limit allows."""
        written = 0
        while chunk := src.read(COPY_CHUNK):
            written += len(chunk)
            self._refuse_above(
                fmt.DATABASE_NAME,
                written,
                "database",
                "AIIDASITE_ARCHIVE_MAX_DATABASE_MIB",
            )
            dst.write(chunk)

    def _check_schema(self, db: sqlite3.Connection) -> None:
        """Refuse a database whose tables are missing, lack a column, or are
        views or virtual tables (a recursive view would never finish)."""
        found = {
            row[0]: row[1]
            for row in db.execute(
                "SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'view')"
            )
        }
        for table, columns in fmt.table_columns().items():
            sql = found.get(table)
            if sql is None:
                raise CorruptArchive(f"{fmt.DATABASE_NAME} has no table {table}")
            if not sql.lstrip().upper().startswith("CREATE TABLE"):
                raise CorruptArchive(
                    f"{fmt.DATABASE_NAME}: {table} is not a plain table"
                )
            present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
            if columns - present:
                raise CorruptArchive(
                    f"{fmt.DATABASE_NAME}: table {table} lacks column(s) "
                    f"{', '.join(sorted(columns - present))}"
                )

    def table_names(self) -> list[str]:
        """The tables of the archive's database."""
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        return [row[0] for row in self.db.execute(sql)]

    def count(self, table: str) -> int:
        try:
            return self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise CorruptArchive(f"{fmt.DATABASE_NAME}: {table}: {exc}") from None

    def rows(self, sql: str, params: tuple = ()) -> Iterator[list[sqlite3.Row]]:
        """Yield the result of ``sql`` in batches.

        :raises CorruptArchive: if the database cannot answer (damaged pages,
            values SQLite cannot read).
        """
        try:
            cursor = self.db.execute(sql, params)
            while batch := cursor.fetchmany(BATCH_SIZE):
                yield batch
        except sqlite3.DatabaseError as exc:
            raise CorruptArchive(f"{fmt.DATABASE_NAME}: {exc}") from None

    def node_types(self) -> dict[str, int]:
        sql = "SELECT node_type, COUNT(*) FROM db_dbnode GROUP BY node_type"
        return {row[0]: row[1] for batch in self.rows(sql) for row in batch}

    def object_keys(self) -> set[str]:
        """Keys of the file objects the zip holds."""
        return {
            name[len(fmt.REPO_PREFIX) :]
            for name in self.zip.namelist()
            if name.startswith(fmt.REPO_PREFIX) and len(name) > len(fmt.REPO_PREFIX)
        }

    def object_size(self, key: str) -> int:
        try:
            return self.zip.getinfo(fmt.REPO_PREFIX + key).file_size
        except KeyError:
            raise CorruptArchive(f"file object {key} is missing") from None

    def read_object(self, key: str) -> bytes:
        with self.open_object(key) as handle:
            return handle.read()

    def object_batches(
        self,
        keys: list[str],
        *,
        alone_above: int,
        max_bytes: int = 64 * 1024 * 1024,
        max_count: int = 5000,
    ) -> Iterator[list[str]]:
        """``keys`` in batches of bounded total size; each large object alone."""
        batch: list[str] = []
        size = 0
        for key in keys:
            object_size = self.object_size(key)
            if object_size > alone_above:
                yield [key]
                continue
            if batch and (size + object_size > max_bytes or len(batch) >= max_count):
                yield batch
                batch, size = [], 0
            batch.append(key)
            size += object_size
        if batch:
            yield batch

    @contextmanager
    def open_object(self, key: str) -> Iterator[IO[bytes]]:
        """A stream of one file object; a damaged member (bad CRC, bad
        compressed data) raises :class:`CorruptArchive` while it is read."""
        try:
            with self.zip.open(fmt.REPO_PREFIX + key) as handle:
                yield handle
        except KeyError:
            raise CorruptArchive(f"file object {key} is missing") from None
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise CorruptArchive(f"file object {key} is damaged: {exc}") from None

    def inspect(self) -> dict[str, Any]:
        """Version, entity counts and node types."""
        return {
            "path": str(self.path),
            "export_version": self.metadata.get("export_version"),
            "aiida_version": self.metadata.get("aiida_version"),
            "created": self.metadata.get("ctime"),
            "counts": {
                "nodes": self.count("db_dbnode"),
                "links": self.count("db_dblink"),
                "groups": self.count("db_dbgroup"),
                "group_memberships": self.count("db_dbgroup_dbnodes"),
                "users": self.count("db_dbuser"),
                "computers": self.count("db_dbcomputer"),
                "authinfos": self.count("db_dbauthinfo"),
                "comments": self.count("db_dbcomment"),
                "logs": self.count("db_dblog"),
                "files": len(self.object_keys()),
            },
            "node_types": self.node_types(),
        }


# aiida-core's main_0000 -> main_0001 (``main_0000a_replace_nulls``): rows
# without their node, user or computer go; other nulls take their defaults.
# main_0000 had no settings table; main_0001's is empty in an archive.
MAIN_0000_NULLS = """
CREATE TABLE IF NOT EXISTS db_dbsetting (
    id INTEGER NOT NULL PRIMARY KEY,
    "key" VARCHAR(1024) NOT NULL UNIQUE,
    val JSON,
    description TEXT NOT NULL,
    time DATETIME NOT NULL
);
DELETE FROM db_dbauthinfo WHERE aiidauser_id IS NULL OR dbcomputer_id IS NULL;
UPDATE db_dbauthinfo SET enabled = 1 WHERE enabled IS NULL;
UPDATE db_dbauthinfo SET auth_params = '{}' WHERE auth_params IS NULL;
UPDATE db_dbauthinfo SET metadata = '{}' WHERE metadata IS NULL;
DELETE FROM db_dbcomment WHERE dbnode_id IS NULL OR user_id IS NULL;
UPDATE db_dbcomment SET content = '' WHERE content IS NULL;
UPDATE db_dbcomment SET ctime = :now WHERE ctime IS NULL;
UPDATE db_dbcomment SET mtime = :now WHERE mtime IS NULL;
UPDATE db_dbcomputer SET description = '' WHERE description IS NULL;
UPDATE db_dbcomputer SET hostname = '' WHERE hostname IS NULL;
UPDATE db_dbcomputer SET metadata = '{}' WHERE metadata IS NULL;
UPDATE db_dbcomputer SET scheduler_type = '' WHERE scheduler_type IS NULL;
UPDATE db_dbcomputer SET transport_type = '' WHERE transport_type IS NULL;
UPDATE db_dbgroup SET description = '' WHERE description IS NULL;
UPDATE db_dbgroup SET time = :now WHERE time IS NULL;
UPDATE db_dbgroup SET type_string = 'core' WHERE type_string IS NULL;
UPDATE db_dblog SET levelname = '' WHERE levelname IS NULL;
UPDATE db_dblog SET loggername = '' WHERE loggername IS NULL;
UPDATE db_dblog SET message = '' WHERE message IS NULL;
UPDATE db_dblog SET metadata = '{}' WHERE metadata IS NULL;
UPDATE db_dblog SET time = :now WHERE time IS NULL;
UPDATE db_dbnode SET ctime = :now WHERE ctime IS NULL;
UPDATE db_dbnode SET description = '' WHERE description IS NULL;
UPDATE db_dbnode SET label = '' WHERE label IS NULL;
UPDATE db_dbnode SET mtime = :now WHERE mtime IS NULL;
UPDATE db_dbuser SET first_name = '' WHERE first_name IS NULL;
UPDATE db_dbuser SET last_name = '' WHERE last_name IS NULL;
UPDATE db_dbuser SET institution = '' WHERE institution IS NULL;
"""


def fill_nulls(database: Path) -> None:
    """Bring an extracted main_0000 ``db.sqlite3`` to main_0001's content.

    :raises CorruptArchive: the database is not a main_0000 one.
    """
    now = fmt.format_time(dt.datetime.now(dt.UTC))
    db = sqlite3.connect(database)
    try:
        with db:
            for statement in filter(str.strip, MAIN_0000_NULLS.split(";")):
                db.execute(statement, {"now": now})
    except sqlite3.DatabaseError as exc:
        raise CorruptArchive(f"{fmt.DATABASE_NAME}: {exc}") from None
    finally:
        db.close()


def open_archive(
    path: str | Path, *, skip_dangling_links: bool = False, progress: bool = False
) -> ArchiveReader:
    """A reader for the archive at ``path``, whatever its version: the legacy
    one for a ``0.x`` zip and for anything that is not a zip (a legacy tar, or
    no archive: it says which), ``ArchiveReader`` for every other zip (it reads
    ``main_*`` and refuses the rest).

    :raises CorruptArchive: the file is not a readable archive of a known
        version; see ``ArchiveReader`` and ``LegacyArchiveReader``.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile):
        archive = None
    version = archive and zip_version(archive)
    if isinstance(version, str) and version.startswith("main_"):
        # A current archive: the legacy converter is not even imported.
        archive.close()
        return ArchiveReader(path)

    from archives.legacy.convert import parse_version
    from archives.legacy.reader import LegacyArchiveReader

    if archive is None:
        return LegacyArchiveReader(
            path, skip_dangling_links=skip_dangling_links, progress=progress
        )
    if parse_version(version) is None:
        archive.close()
        return ArchiveReader(path)
    # The zip's directory is read once: a legacy one may list many entries.
    return LegacyArchiveReader(
        path,
        skip_dangling_links=skip_dangling_links,
        zip_file=archive,
        progress=progress,
    )


def zip_version(archive: zipfile.ZipFile) -> Any:
    """The ``export_version`` in a zip's metadata, if it can be read within
    the metadata's size limit."""
    limit = archive_limits()["metadata"]
    try:
        with archive.open(fmt.METADATA_NAME) as handle:
            metadata = json.loads(handle.read(limit + 1))
        return metadata.get("export_version")
    except (
        OSError,
        KeyError,
        ValueError,
        AttributeError,
        RecursionError,
        EOFError,
        zlib.error,
        zipfile.BadZipFile,
    ):
        return None
