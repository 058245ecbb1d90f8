"""What the archive commands and API call."""

from __future__ import annotations

from typing import Any

from archives.exporter import ExportSummary, archive_export
from archives.importer import ImportSummary, archive_import
from archives.migrate import MigrateSummary, archive_migrate
from archives.reader import open_archive

__all__ = [
    "ExportSummary",
    "ImportSummary",
    "MigrateSummary",
    "archive_export",
    "archive_import",
    "archive_inspect",
    "archive_migrate",
]


def archive_inspect(path: str) -> dict[str, Any]:
    """Version, counts by entity and node types of an archive of any version,
    without importing.

    :raises CorruptArchive: the file is not a readable archive.
    """
    with open_archive(path) as archive:
        return archive.inspect()
