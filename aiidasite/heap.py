"""The garbage collector during bulk work.

An import or export makes many short-lived objects. Each time enough of them
pile up, CPython's collector walks every container object the process holds
(Django's models, URL patterns, every imported module) to find cycles among
objects that were there before the work began and will outlive it. In a fresh
``manage.py`` process that walk cost about a third of a 3,000-node import,
and the walks over the work's own rows a tenth of a 100,000-node one.

So the heap as it stands is frozen (kept out of every walk) and the collector
pauses while the work runs. What the work allocates is rows, tuples and maps
that reference counting frees as soon as they are dropped; the few cycles it
makes (query objects, cursors) wait for the first collection after the block.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def long_lived_heap() -> Iterator[None]:
    """Within the block, no collection runs and the objects that existed
    before it are frozen (``gc.freeze``); afterwards both are as they were,
    so a cycle that became garbage meanwhile is still freed. Nests: only the
    outermost block restores."""
    outermost = gc.get_freeze_count() == 0
    enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if outermost:
            gc.unfreeze()
            if enabled:
                gc.enable()
