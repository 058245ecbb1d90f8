"""Legacy archive import: a generated ``0.10`` archive (``data.json`` and
node folders), as AiiDA 1.x wrote them.

The reference is what ``verdi archive import`` does with such a file in
aiida-core 2.9.4: migrate it to ``main_0001``, then import it, on a fresh
profile (``bench.aiida_reference``). Ours runs in a child process of its
own, so its peak resident memory is its own; both peaks are reported.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

from bench.aiida_reference import AIIDA_VERSION, ROOT, run_aiida
from bench.registry import Timing, workload

NODE_TYPES = (
    "data.structure.StructureData.",
    "process.calculation.calcjob.CalcJobNode.",
    "data.dict.Dict.",
)
TIME = "2020-11-01T10:00:00.000000"


def write_legacy_archive(path: Path, nodes: int, files: int) -> None:
    """A ``0.10`` zip of ``nodes`` nodes in structure -> calculation -> result
    chains, every tenth node in one group, ``files`` distinct files (one in
    each of the first results). ``data.json`` is written as a stream."""
    rng = random.Random(0)
    uuids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(nodes)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        metadata = {"export_version": "0.10", "aiida_version": "1.6.0"}
        archive.writestr("metadata.json", json.dumps(metadata))
        with archive.open("data.json", "w", force_zip64=True) as handle:
            write_data(handle, uuids)
        with_files = 0
        for pk, node in enumerate(uuids, 1):
            folder = f"nodes/{node[:2]}/{node[2:4]}/{node[4:]}/"
            archive.writestr(folder + "path/", b"")
            if pk % 3 == 0 and with_files < files:
                content = rng.randbytes(1024)
                archive.writestr(folder + "path/aiida.out", content)
                with_files += 1


def write_data(handle, uuids: list[str]) -> None:
    def put(text: str) -> None:
        handle.write(text.encode())

    user = {"email": "bench@example.org", "first_name": "", "last_name": ""}
    group = {
        "uuid": "8f2f0a4e-3c38-4a2f-9f5e-0c7f7c1d2b61",
        "label": "every-tenth",
        "type_string": "core",
        "description": "",
        "time": TIME,
        "user": 1,
    }
    put('{"export_data": {"User": {"1": ' + json.dumps(user) + "}, ")
    put('"Group": {"1": ' + json.dumps(group) + '}, "Node": {')
    for pk, node in enumerate(uuids, 1):
        fields = {
            "uuid": node,
            "node_type": NODE_TYPES[(pk - 1) % 3],
            "process_type": "",
            "label": f"n{pk}",
            "description": "",
            "ctime": TIME,
            "mtime": TIME,
            "user": 1,
            "dbcomputer": None,
        }
        put(("," if pk > 1 else "") + f'"{pk}": ' + json.dumps(fields))
    put('}}, "node_attributes": {')
    for pk in range(1, len(uuids) + 1):
        attributes = {"index": pk, "energy": -pk * 0.5, "tags": ["a", "b"]}
        put(("," if pk > 1 else "") + f'"{pk}": ' + json.dumps(attributes))
    put('}, "node_extras": {')
    put(",".join(f'"{pk}": {{}}' for pk in range(1, len(uuids) + 1)))
    put('}, "links_uuid": [')
    links = []
    for pk in range(2, len(uuids) + 1):
        role = pk % 3
        if role == 2:
            label, kind = "structure", "input_calc"
        elif role == 0:
            label, kind = "result", "create"
        else:
            continue
        link = {"input": uuids[pk - 2], "output": uuids[pk - 1], "label": label}
        links.append(json.dumps({**link, "type": kind}))
    put(",".join(links))
    members = [json.dumps(node) for node in uuids[::10]]
    put('], "groups_uuid": {"' + group["uuid"] + '": [' + ",".join(members) + "]}}")


CHILD = """
import json, sys, time
import django
django.setup()
from archives.services import archive_import
from bench.aiida_scripts.memory import peak_rss_mib
start = time.perf_counter()
summary = archive_import(sys.argv[1])
seconds = time.perf_counter() - start
print(json.dumps(
    {"seconds": seconds, "nodes": summary.nodes_new, "peak_mib": peak_rss_mib()}
))
"""


def import_in_child(archive: Path) -> dict:
    """Our import of ``archive`` in a process of its own, on the bench's
    database (the environment names it): its seconds and peak RSS (MiB)."""
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(archive)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"legacy import failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.splitlines()[-1])


@workload("archives.import_legacy", small=3_000, medium=30_000, large=100_000)
def legacy_archive_import(n: int, workdir: Path) -> Timing:
    """Import a generated 0.10 archive of n nodes with links and n/10 files."""
    archive = workdir / "generated-0.10.aiida"
    write_legacy_archive(archive, n, n // 10)
    ours = import_in_child(archive)
    assert ours["nodes"] == n, ours
    measured = run_aiida("import_legacy_archive", workdir, archive)
    reference = f"ours peak RSS {ours['peak_mib']:.0f} MiB"
    if measured is None:
        return Timing(ours["seconds"], reference=reference, unit="nodes")
    return Timing(
        ours["seconds"],
        measured["seconds"],
        reference=(
            f"aiida-core {AIIDA_VERSION} migrate+import (peak RSS "
            f"{measured['peak_mib']:.0f} MiB); {reference}"
        ),
        unit="nodes",
    )
