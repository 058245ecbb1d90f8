"""Repository backend against raw disk-objectstore, each on its own container.

Each workload alternates between ours and the reference in rounds, so drift in
the machine's disk cache or load falls on both sides alike.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from bench.registry import Stopwatch, Timing, workload

KIB = 1024
MIB = 1024 * KIB
ROUNDS = 5


def containers(workdir: Path):
    """Our backend and a raw container, each in a fresh folder."""
    from disk_objectstore import Container

    from repository.backends import DiskObjectStoreRepositoryBackend

    ours = DiskObjectStoreRepositoryBackend.from_options(folder=workdir / "ours")
    raw = Container(workdir / "raw")
    raw.init_container()
    return ours, raw


def small_objects(n: int, salt: bytes) -> list[bytes]:
    """n distinct objects of 1 KiB."""
    filler = os.urandom(KIB)
    return [(b"%s-%d-" % (salt, i) + filler)[:KIB] for i in range(n)]


def both(index: int, ours, reference) -> None:
    """Run the two callables, the reference first on odd rounds."""
    first, second = (ours, reference) if index % 2 == 0 else (reference, ours)
    first()
    second()


def rounds(items: list, count: int = ROUNDS) -> list[list]:
    size = max(1, -(-len(items) // count))
    return [items[start : start + size] for start in range(0, len(items), size)]


@workload(
    "repository.put_single_1kib",
    small=1_000,
    medium=10_000,
    large=10_000,
    needs_db=False,
)
def put_single(n: int, workdir: Path) -> Timing:
    """n x 1 KiB objects, one put each (loose objects)."""
    backend, raw = containers(workdir)
    ours, reference = Stopwatch(), Stopwatch()
    # Short rounds: fsync time swings with other disk traffic, and many
    # alternations spread those swings over both sides alike.
    count = max(1, n // 10)
    parts = zip(
        rounds(small_objects(n, b"ours"), count),
        rounds(small_objects(n, b"raw"), count),
        strict=True,
    )
    for index, (part_ours, part_raw) in enumerate(parts):

        def run_ours(part=part_ours) -> None:
            with ours():
                for data in part:
                    backend.put_object_from_filelike(io.BytesIO(data))

        def run_raw(part=part_raw) -> None:
            with reference():
                for data in part:
                    raw.add_streamed_object(io.BytesIO(data))

        both(index, run_ours, run_raw)
    return Timing(ours.seconds, reference.seconds, "raw disk-objectstore", "objects")


@workload(
    "repository.put_bulk_1kib", small=1_000, medium=10_000, large=10_000, needs_db=False
)
def put_bulk(n: int, workdir: Path) -> Timing:
    """n x 1 KiB objects in one bulk put (straight into a pack)."""
    backend, raw = containers(workdir)
    ours, reference = Stopwatch(), Stopwatch()
    repeats = 6
    for index in range(repeats):
        salt = b"%d" % index
        mine, theirs = small_objects(n, b"ours" + salt), small_objects(n, b"raw" + salt)

        def run_ours(mine=mine) -> None:
            with ours():
                backend.put_objects_from_bytes(mine)

        def run_raw(theirs=theirs) -> None:
            with reference():
                raw.add_objects_to_pack(theirs)

        both(index, run_ours, run_raw)
    return Timing(
        ours.seconds / 3, reference.seconds / 3, "raw disk-objectstore", "objects"
    )


@workload(
    "repository.read_bulk_1kib",
    small=1_000,
    medium=10_000,
    large=10_000,
    needs_db=False,
)
def read_bulk(n: int, workdir: Path) -> Timing:
    """Read back n packed 1 KiB objects in one batch."""
    backend, raw = containers(workdir)
    data = small_objects(n, b"read")
    our_keys = backend.put_objects_from_bytes(data)
    raw_keys = raw.add_objects_to_pack(data)
    ours, reference = Stopwatch(), Stopwatch()
    for _ in range(3):
        with ours():
            with backend.iter_object_streams(our_keys) as pairs:
                got = sum(len(stream.read()) for _, stream in pairs)
        with reference():
            with raw.get_objects_stream_and_meta(raw_keys) as triplets:
                expected = sum(len(stream.read()) for _, stream, _ in triplets)
        assert got == expected == n * KIB
    return Timing(
        ours.seconds / 3, reference.seconds / 3, "raw disk-objectstore", "objects"
    )


@workload(
    "repository.put_streamed_10mib", small=10, medium=100, large=100, needs_db=False
)
def put_streamed(n: int, workdir: Path) -> Timing:
    """n x 10 MiB objects streamed from a file, one put each."""
    backend, raw = containers(workdir)
    block = os.urandom(10 * MIB)
    source = workdir / "source.bin"
    ours, reference = Stopwatch(), Stopwatch()
    for i in range(n):
        # A new first byte per object so nothing is deduplicated.
        source.write_bytes(i.to_bytes(4, "big") + block[4:])

        def run_ours() -> None:
            with ours(), open(source, "rb") as handle:
                backend.put_object_from_filelike(handle)

        def run_raw() -> None:
            with reference(), open(source, "rb") as handle:
                raw.add_streamed_object(handle)

        both(i, run_ours, run_raw)
    return Timing(ours.seconds, reference.seconds, "raw disk-objectstore", "objects")
