"""Archive import: a generated AiiDA archive of chains of calculations, on
two computers, each calculation with one comment and two log records.

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
    """An archive of ``nodes`` nodes: structure -> calculation -> result
    chains; calculations alternate between two computers and carry one
    comment and two log records each."""
    from archives import format as fmt

    rng = random.Random(0)
    blobs = [rng.randbytes(1024) for _ in range(files)]
    import hashlib

    keys = [hashlib.sha256(blob).hexdigest() for blob in blobs]
    db_path = path.with_suffix(".sqlite3")
    db = sqlite3.connect(db_path)
    db.executescript(fmt.SCHEMA)
    db.execute("INSERT INTO db_dbuser VALUES (1, 'bench@example.org', '', '', '')")
    for pk, label in ((1, "bench-hpc"), (2, "bench-box")):
        db.execute(
            "INSERT INTO db_dbcomputer VALUES (?, ?, ?, ?, '', 'core.slurm', "
            "'core.ssh', '{}')",
            (pk, str(uuid.UUID(int=rng.getrandbits(128))), label, f"{label}.org"),
        )
    now = "2026-11-01 10:00:00.000000"
    node_rows, link_rows, comment_rows, log_rows = [], [], [], []
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
        computer = None
        if role == 2:
            computer = 1 + (pk // 3) % 2
            comment_rows.append(
                (len(comment_rows) + 1, _uuid(rng), pk, now, now, 1, f"run {pk} ok")
            )
            for level, message in (("REPORT", "submitted"), ("WARNING", "slow")):
                log_rows.append(
                    (
                        len(log_rows) + 1,
                        _uuid(rng),
                        now,
                        "aiida.orm.nodes.process.calculation.calcjob.CalcJobNode",
                        level,
                        pk,
                        f"{message} {pk}",
                        json.dumps({"levelname": level}),
                    )
                )
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
                computer,
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
    db.executemany("INSERT INTO db_dbcomment VALUES (?,?,?,?,?,?,?)", comment_rows)
    db.executemany("INSERT INTO db_dblog VALUES (?,?,?,?,?,?,?,?)", log_rows)
    db.commit()
    db.close()
    metadata = {"export_version": fmt.EXPORT_VERSION, "key_format": "sha256"}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        zf.writestr("metadata.json", json.dumps(metadata))
        zf.write(db_path, "db.sqlite3")
        for key, blob in zip(keys, blobs, strict=True):
            zf.writestr(f"repo/{key}", blob)
    db_path.unlink()


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128)))


@workload("archives.import", small=3_000, medium=30_000, large=100_000)
def archive_import_nodes(n: int, workdir: Path) -> Timing:
    """Import a generated archive of n nodes with links, n/10 files, two
    computers, and a comment and two logs per calculation."""
    from archives.services import archive_import

    archive = workdir / "generated.aiida"
    write_archive(archive, n, n // 10)
    ours = Stopwatch()
    with ours():
        summary = archive_import(str(archive))
    assert summary.nodes_new == n, summary
    calculations = (n + 1) // 3
    assert summary.computers_new == 2, summary
    assert summary.comments_new == calculations, summary
    assert summary.logs_new == 2 * calculations, summary
    measured = run_aiida("import_archive", workdir, archive)
    return Timing(
        ours.seconds,
        measured and measured["seconds"],
        reference="aiida-core import" if measured else "",
        unit="nodes",
    )
