"""``archive migrate``: any archive version rewritten as ``main_0001``.

A reader already holds the archive as ``main_0001`` tables and SHA-256 keyed
files; the new zip takes that database as it is and copies each file once.
No aiida-core is needed, and nothing touches this site's database.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import tempfile
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from aiidasite.exceptions import InputValidationError
from archives import format as fmt
from archives.exporter import check_target
from archives.reader import ArchiveReader, open_archive

COMPRESSION_LEVEL = 6


@dataclass
class MigrateSummary:
    path: str
    from_version: str
    nodes: int = 0
    links: int = 0
    groups: int = 0
    files: int = 0
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def archive_migrate(
    source: str,
    target: str,
    *,
    overwrite: bool = False,
    parents: bool = False,
    skip_dangling_links: bool = False,
    progress: bool = False,
) -> MigrateSummary:
    """Write the archive at ``source`` (any version) to ``target`` as ``main_0001``.

    ``target``'s folder must exist unless ``parents`` asks to create it.

    :raises InputValidationError: ``target`` exists and ``overwrite`` is off,
        is ``source`` itself or a folder, or its folder is missing and
        ``parents`` is off.
    :raises CorruptArchive: ``source`` is unreadable, of an unknown version or
        inconsistent; ``target`` is left as it was.
    """
    destination = Path(target)
    check_target(destination, overwrite=overwrite, parents=parents)
    if destination.exists() and destination.resolve() == Path(source).resolve():
        raise InputValidationError("the migrated archive must go to another file")
    with open_archive(
        source, skip_dangling_links=skip_dangling_links, progress=progress
    ) as reader:
        summary = MigrateSummary(
            path=str(destination),
            from_version=str(reader.metadata.get("export_version")),
            nodes=reader.count("db_dbnode"),
            links=reader.count("db_dblink"),
            groups=reader.count("db_dbgroup"),
            skipped=list(getattr(reader, "notes", [])),
        )
        keys = sorted(reader.object_keys())
        summary.files = len(keys)
        if parents:
            destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(f".{destination.name}.partial")
        try:
            write_archive(reader, partial, keys, progress=progress)
            os.replace(partial, destination)
        finally:
            partial.unlink(missing_ok=True)
    return summary


def write_archive(
    reader: ArchiveReader, target: Path, keys: list[str], *, progress: bool
) -> None:
    """The reader's tables and files as a ``main_0001`` zip at ``target``."""
    metadata = {
        "export_version": fmt.EXPORT_VERSION,
        "aiida_version": reader.metadata.get("aiida_version"),
        "key_format": fmt.KEY_FORMAT,
        "compression": COMPRESSION_LEVEL,
        "ctime": dt.datetime.now().isoformat(),
        "creation_parameters": reader.metadata.get("creation_parameters")
        or reader.metadata.get("export_parameters")
        or {},
        "conversion_info": [
            *reader.metadata.get("conversion_info", []),
            f"Converted from version {reader.metadata.get('export_version')} "
            f"to {fmt.EXPORT_VERSION} by aiidasite",
        ],
    }
    with tempfile.TemporaryDirectory(prefix="aiidasite-migrate-") as tmp:
        database = Path(tmp) / fmt.DATABASE_NAME
        copy = sqlite3.connect(database)
        try:
            reader.db.backup(copy, name="main")
        finally:
            copy.close()
        bar = tqdm(total=len(keys), desc="Files", disable=not progress)
        with zipfile.ZipFile(
            target, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESSION_LEVEL
        ) as archive:
            archive.writestr(fmt.METADATA_NAME, json.dumps(metadata))
            archive.write(database, fmt.DATABASE_NAME)
            for key in keys:
                with (
                    reader.open_object(key) as src,
                    archive.open(fmt.REPO_PREFIX + key, "w", force_zip64=True) as dst,
                ):
                    while block := src.read(1024 * 1024):
                        dst.write(block)
                bar.update(1)
        bar.close()
