"""Owned temporary folders survive other processes' clean-up of stale ones."""

from __future__ import annotations

import threading

from aiidasite import tempdirs


def test_a_folder_being_made_is_never_taken_for_stale(settings, tmp_path):
    settings.AIIDASITE_TMP_DIR = str(tmp_path)
    stop = threading.Event()
    removed: list[str] = []

    def sweep() -> None:
        while not stop.is_set():
            removed.extend(tempdirs.remove_stale())

    sweeper = threading.Thread(target=sweep)
    sweeper.start()
    try:
        for _ in range(500):
            with tempdirs.owned_tempdir("race") as folder:
                assert folder.is_dir()
                (folder / "work").write_bytes(b"x")
    finally:
        stop.set()
        sweeper.join()
    assert removed == []
