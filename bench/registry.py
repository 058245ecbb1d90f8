"""Where workloads register themselves.

A workload is a function ``fn(n, workdir) -> Timing``. It builds its own data
(untimed), times the project's code and, where one exists, the same work done
by the raw reference (disk-objectstore directly, SQL directly) in the same run,
so the ratio holds on a noisy machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

# xl: what a user may run to see ten million nodes; workloads without an xl
# size run their large one.
SCALES = ("small", "medium", "large", "xl")


@dataclass
class Timing:
    seconds: float
    reference_seconds: float | None = None
    reference: str = ""
    unit: str = "items"


@dataclass
class Workload:
    name: str
    fn: Callable[[int, Path], Timing]
    sizes: dict[str, int]
    description: str = ""
    needs_db: bool = True


@dataclass
class Stopwatch:
    seconds: float = 0.0
    laps: list[float] = field(default_factory=list)

    @contextmanager
    def __call__(self) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            lap = time.perf_counter() - start
            self.laps.append(lap)
            self.seconds += lap


def fresh_tables() -> None:
    """Empty graph tables: each workload starts as on a new database, as the
    aiida-core references do on their new profiles.

    PostgreSQL gets ``TRUNCATE ... RESTART IDENTITY CASCADE``: row-by-row
    deletes would leave every earlier workload's rows behind as dead tuples
    (hundreds of thousands at medium scale) for later workloads to wade
    through. Every table pointing at nodes is named (their keys are triggers,
    which CASCADE does not follow), and CASCADE empties what points at those.
    SQLite reuses the freed pages, so a plain DELETE leaves nothing behind.
    """
    from django.db import connection

    from nodes.models import DbGroup, DbLink, DbNode, DbNodeObject

    models = (DbNodeObject, DbLink, DbGroup, DbNode)
    if connection.vendor == "postgresql":
        names = {m._meta.db_table for m in models} | {
            relation.related_model._meta.db_table
            for relation in DbNode._meta.related_objects
        }
        tables = ", ".join(map(connection.ops.quote_name, sorted(names)))
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        return
    for model in models:
        model.objects.all().delete()


def settle() -> None:
    """Planner statistics for the rows a workload just built, as a database
    in service has them (PostgreSQL's autovacuum); SQLite keeps none unless
    asked, and is measured as it runs, without."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


WORKLOADS: dict[str, Workload] = {}


def workload(
    name: str,
    *,
    small: int,
    medium: int,
    large: int,
    xl: int | None = None,
    needs_db: bool = True,
) -> Callable[[Callable[[int, Path], Timing]], Callable[[int, Path], Timing]]:
    """Register ``fn`` under ``name`` with its item count per scale."""

    def register(fn: Callable[[int, Path], Timing]) -> Callable[[int, Path], Timing]:
        WORKLOADS[name] = Workload(
            name=name,
            fn=fn,
            sizes={
                "small": small,
                "medium": medium,
                "large": large,
                "xl": large if xl is None else xl,
            },
            description=(fn.__doc__ or "").strip().splitlines()[0]
            if fn.__doc__
            else "",
            needs_db=needs_db,
        )
        return fn

    return register
