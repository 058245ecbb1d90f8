"""The collector's pause during bulk work (aiidasite.heap)."""

from __future__ import annotations

import gc
import weakref

import pytest

from aiidasite.exceptions import CorruptArchive
from aiidasite.heap import long_lived_heap
from archives.services import archive_import


class Node:
    pass


def a_cycle() -> weakref.ref:
    first, second = Node(), Node()
    first.other, second.other = second, first
    return weakref.ref(first)


def test_the_collector_pauses_within_and_is_back_after():
    assert gc.isenabled()
    with long_lived_heap():
        assert not gc.isenabled()
        assert gc.get_freeze_count() > 0
        with long_lived_heap():
            assert not gc.isenabled()
        # Only the outermost block restores.
        assert not gc.isenabled()
        assert gc.get_freeze_count() > 0
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_cycle_dropped_within_is_freed_after():
    before = a_cycle()
    assert before() is not None  # kept alive only by its own cycle
    with long_lived_heap():
        inside = a_cycle()
        gc.collect()  # frozen and paused: neither cycle goes
        assert before() is not None
    gc.collect()
    assert before() is None
    assert inside() is None


def test_a_collector_switched_off_before_stays_off():
    gc.disable()
    try:
        with long_lived_heap():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.django_db
def test_a_failed_import_leaves_the_collector_running(tmp_path):
    broken = tmp_path / "broken.aiida"
    broken.write_bytes(b"not an archive")
    with pytest.raises(CorruptArchive):
        archive_import(str(broken))
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
