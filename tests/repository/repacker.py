"""A separate process that runs a full maintenance and kills itself mid-repack.

Usage: ``python tests/repository/repacker.py FOLDER POINT``

disk-objectstore repacks a pack by copying it into the temporary pack ``-1``,
pointing the index at the copy, removing the old pack, hard-linking the copy
into its place, pointing the index back and unlinking the copy. POINT names
where this process sends itself SIGKILL, as a crash or an impatient operator
would:

* ``copying``: while objects are copied into ``-1`` (index untouched);
* ``index-moved``: the index points at ``-1``, the old pack is still there;
* ``old-pack-removed``: the index points at ``-1``, the old pack is gone;
* ``linked``: the copy is linked into place, the index still points at ``-1``;
* ``index-restored``: the index points back, ``-1`` is still there.

The library's file operations are wrapped in this process only, to stop at
the exact step; what is left on disk is what a real kill leaves.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from disk_objectstore import Container

from repository.backends import DiskObjectStoreRepositoryBackend

POINTS = ("copying", "index-moved", "old-pack-removed", "linked", "index-restored")


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def in_packs(path: Any) -> bool:
    return Path(path).parent.name == "packs" and not str(path).endswith(".lock")


def arm(point: str) -> None:
    """Wrap the file operation that starts the window ``point`` names."""
    remove, link, unlink = os.remove, os.link, os.unlink

    def killing_remove(path: Any, *args: Any, **kwargs: Any) -> None:
        if point == "index-moved" and in_packs(path):
            die()
        remove(path, *args, **kwargs)

    def killing_link(source: Any, target: Any, *args: Any, **kwargs: Any) -> None:
        if point == "old-pack-removed" and in_packs(target):
            die()
        link(source, target, *args, **kwargs)
        if point == "linked" and in_packs(target):
            die()

    def killing_unlink(path: Any, *args: Any, **kwargs: Any) -> None:
        if point == "index-restored" and Path(path).name == "-1":
            die()
        unlink(path, *args, **kwargs)

    os.remove, os.link, os.unlink = killing_remove, killing_link, killing_unlink


def progress(point: str):
    repacking = False

    def callback(action: str, value: Any) -> None:
        nonlocal repacking
        if action == "init":
            repacking = str(value.get("description", "")).startswith("Repack")
        elif action == "update" and repacking and point == "copying":
            die()

    return callback


def main() -> None:
    folder, point = sys.argv[1], sys.argv[2]
    if point not in POINTS:
        raise SystemExit(f"unknown point {point!r}; one of {', '.join(POINTS)}")
    backend = DiskObjectStoreRepositoryBackend(Container(folder))
    arm(point)
    backend.maintain(live=False, callback=progress(point))
    print("finished without reaching", point)


if __name__ == "__main__":
    main()
