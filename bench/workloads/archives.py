"""Archive import: a generated AiiDA archive of chains of calculations.

The reference is aiida-core's own ``import_archive`` on the same file, on a
fresh profile (see ``bench.aiida_reference``). If aiida-core cannot be
installed, the line has no ratio.
"""

from __future__ import annotations

import json
import random
import sqlite3
import uuid
import zipfile
from pathlib import Path

from bench.aiida_reference import run_aiida
from bench.registry import Stopwatch, Timing, workload


def write_archive(path: Path, nodes: int, files: int) -> None:
    """An archive of ``nodes`` nodes: structure -> calculation -> result chains."""
    from archives import format as fmt

    rng = random.Random(0)
    blobs = [rng.randbytes(1024) for _ in range(files)]
    import hashlib

    keys = [hashlib.sha256(blob).hexdigest() for blob in blobs]
    db_path = path.with_suffix(".sqlite3")
    db = sqlite3.connect(db_path)
    db.executescript(fmt.SCHEMA)
    db.execute("INSERT INTO db_dbuser VALUES (1, 'bench@example.org', '', '', '')")
    now = "2026-11-01 10:00:00.000000"
    node_rows, link_rows = [], []
    for pk in range(1, nodes + 1):
        role = pk % 3
        node_type = (
            "data.core.structure.StructureData.",
            "process.calculation.calcjob.CalcJobNode.",
            "data.core.dict.Dict.",
        )[(pk - 1) % 3]
        repo = {}
        if role == 0 and keys:
            repo = {"o": {"aiida.out": {"k": keys[(pk // 3) % len(keys)]}}}
        attributes = {"index": pk, "energy": -pk * 0.5, "tags": ["a", "b"]}
        node_rows.append(
            (
                pk,
                str(uuid.UUID(int=rng.getrandbits(128))),
                node_type,
                None,
                f"n{pk}",
                "",
                now,
                now,
                json.dumps(attributes),
                "{}",
                json.dumps(repo),
                None,
                1,
            )
        )
        if role == 2:
            link_rows.append(
                (len(link_rows) + 1, pk - 1, pk, "structure", "input_calc")
            )
        elif role == 0:
            link_rows.append((len(link_rows) + 1, pk - 1, pk, "result", "create"))
    db.executemany(f"INSERT INTO db_dbnode VALUES ({','.join('?' * 13)})", node_rows)
    db.executemany("INSERT INTO db_dblink VALUES (?,?,?,?,?)", link_rows)
    db.commit()
    db.close()
    metadata = {"export_version": fmt.EXPORT_VERSION, "key_format": "sha256"}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        zf.writestr("metadata.json", json.dumps(metadata))
        zf.write(db_path, "db.sqlite3")
        for key, blob in zip(keys, blobs, strict=True):
            zf.writestr(f"repo/{key}", blob)
    db_path.unlink()


@workload("archives.import", small=3_000, medium=30_000, large=100_000)
def archive_import_nodes(n: int, workdir: Path) -> Timing:
    """Import a generated archive of n nodes with links and n/10 files."""
    from archives.services import archive_import

    archive = workdir / "generated.aiida"
    write_archive(archive, n, n // 10)
    ours = Stopwatch()
    with ours():
        summary = archive_import(str(archive))
    assert summary.nodes_new == n, summary
    measured = run_aiida("import_archive", workdir, archive)
    return Timing(
        ours.seconds,
        measured and measured["seconds"],
        reference="aiida-core import" if measured else "",
        unit="nodes",
    )
