"""What the archive commands and API call."""

from __future__ import annotations

from typing import Any

from archives.exporter import ExportSummary, archive_export
from archives.importer import ImportSummary, archive_import
from archives.reader import ArchiveReader

__all__ = [
    "ExportSummary",
    "ImportSummary",
    "archive_export",
    "archive_import",
    "archive_inspect",
]


def archive_inspect(path: str) -> dict[str, Any]:
    """Version, counts by entity and node types of an archive, without importing.

    :raises CorruptArchive: the file is not a readable archive.
    """
    with ArchiveReader(path) as archive:
        return archive.inspect()
