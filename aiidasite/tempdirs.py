"""Temporary folders that are cleaned even when their process is killed.

Each folder is named ``aiidasite-<purpose>-...`` and holds an ``owner.pid``
file with the id (and, where ``/proc`` tells it, the start time) of the
process that made it. The folder is removed when its block exits; after a
SIGKILL nothing does, so :func:`remove_stale` (run when the next such folder
is made, e.g. by an archive import, and by ``repository maintain``) deletes
every such folder whose owner is no longer alive. A folder without an owner
file is left alone: it is not one of these.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

PREFIX = "aiidasite-"
OWNER_FILE = "owner.pid"


def temp_root() -> Path:
    """The folder temporary folders go in (``AIIDASITE_TMP_DIR``)."""
    root = getattr(settings, "AIIDASITE_TMP_DIR", None) or tempfile.gettempdir()
    return Path(root)


@contextmanager
def owned_tempdir(purpose: str) -> Iterator[Path]:
    """A new folder ``aiidasite-<purpose>-*`` under :func:`temp_root`,
    marked with this process's id and removed on exit."""
    root = temp_root()
    root.mkdir(parents=True, exist_ok=True)
    remove_stale()
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{purpose}-", dir=root))
    try:
        # Written aside and renamed: another process's remove_stale never
        # reads a half-written owner file (which it would take for garbage).
        pending = folder / f".{OWNER_FILE}"
        pending.write_text(_owner(os.getpid()))
        os.replace(pending, folder / OWNER_FILE)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _start_time(pid: int) -> str:
    """When ``pid`` started (clock ticks since boot), or "" if unknown; it
    tells a reused pid from the original owner."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # Field 22; the command name (field 2) may hold spaces, so split after it.
    return stat.rsplit(")", 1)[-1].split()[19]


def _owner(pid: int) -> str:
    return f"{pid} {_start_time(pid)}".strip()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    except (OverflowError, ValueError):
        return False
    return True


def _is_stale(folder: Path) -> bool:
    try:
        recorded = (folder / OWNER_FILE).read_text().split()
        pid = int(recorded[0])
    except FileNotFoundError:
        return False
    except (OSError, ValueError, IndexError):
        return True
    if pid <= 0 or not _alive(pid):
        return True
    return len(recorded) > 1 and recorded[1] != _start_time(pid)


def remove_stale() -> list[str]:
    """Delete the ``aiidasite-*`` folders whose owner process is gone;
    answer their names."""
    removed = []
    try:
        candidates = list(temp_root().glob(f"{PREFIX}*"))
    except OSError:
        return removed
    for folder in candidates:
        if folder.is_dir() and not folder.is_symlink() and _is_stale(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    return removed
