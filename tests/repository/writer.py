"""A separate process that writes to a container, for the concurrency tests.

Usage: ``python tests/repository/writer.py FOLDER MODE INDEX COUNT``

* ``mixed``: COUNT objects, half as single (loose) puts and half in bulk (pack)
  batches; writer 0 also packs loose objects now and then. Prints the keys as
  JSON.
* ``loop-loose`` / ``loop-pack``: write big objects until killed.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from disk_objectstore import Container

from repository.backends import DiskObjectStoreRepositoryBackend


def content(index: int, number: int) -> bytes:
    """Deterministic content of a varying size, unique per writer and number."""
    return (b"writer %d object %d|" % (index, number)) * (1 + number % 97)


def mixed(backend: DiskObjectStoreRepositoryBackend, index: int, count: int) -> None:
    keys = []
    batch: list[bytes] = []
    for number in range(count):
        data = content(index, number)
        if number % 2:
            batch.append(data)
            if len(batch) == 25:
                keys += backend.put_objects_from_bytes(batch)
                batch = []
        else:
            keys.append(backend.put_object_from_filelike(io.BytesIO(data)))
        if index == 0 and number % 100 == 99:
            backend.maintain()
    keys += backend.put_objects_from_bytes(batch)
    print(json.dumps(keys))


def loop(backend: DiskObjectStoreRepositoryBackend, index: int, pack: bool) -> None:
    number = 0
    print("started", flush=True)
    while True:
        number += 1
        if pack:
            backend.put_objects_from_bytes(
                [bytes([number % 256, i]) * (128 * 1024) for i in range(50)]
            )
        else:
            backend.put_object_from_filelike(
                io.BytesIO(bytes([index, number % 256]) * (8 * 1024 * 1024))
            )


def main() -> None:
    folder, mode, index, count = (
        sys.argv[1],
        sys.argv[2],
        int(sys.argv[3]),
        int(sys.argv[4]),
    )
    backend = DiskObjectStoreRepositoryBackend(Container(folder))
    if mode == "mixed":
        mixed(backend, index, count)
    else:
        loop(backend, index, pack=mode == "loop-pack")


if __name__ == "__main__":
    main()
