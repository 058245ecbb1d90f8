"""aiida-core's import of a legacy archive, as ``verdi archive import`` does
it: migrate the file to the current format, then import that."""

import sys
import tempfile
from pathlib import Path

from aiida.tools.archive import import_archive
from aiida.tools.archive.abstract import get_format
from common import once, report
from memory import peak_rss_mib


def migrate_and_import(path: str) -> None:
    archive_format = get_format()
    with tempfile.TemporaryDirectory() as tmp:
        current = Path(tmp) / "migrated.aiida"
        archive_format.migrate(path, current, archive_format.latest_version)
        import_archive(current)


seconds, _ = once(lambda: migrate_and_import(sys.argv[1]))
report(seconds, peak_mib=peak_rss_mib())
