"""Archives written here are imported by aiida-core itself.

Needs aiida-core in a separate virtual environment, named by the environment
variable ``AIIDASITE_AIIDA_PYTHON`` (its python); ``.ci/run`` installs one.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from archives.services import archive_export, archive_import
from nodes.models import DbLink, DbNode

AIIDA_PYTHON = os.environ.get("AIIDASITE_AIIDA_PYTHON", "")

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not Path(AIIDA_PYTHON).is_file(),
        reason="set AIIDASITE_AIIDA_PYTHON to a python with aiida-core installed",
    ),
]

COUNT_SCRIPT = """
import sys
from aiida import load_profile
from aiida.orm import Group, Node, QueryBuilder
from aiida.tools.archive import import_archive
load_profile()
import_archive(sys.argv[1])
nodes = QueryBuilder().append(Node).count()
links = QueryBuilder().append(Node, tag="a").append(Node, with_incoming="a").count()
group = Group.collection.get(label=sys.argv[2])
print(nodes, links, len(group.nodes))
"""


def test_aiida_core_imports_an_exported_archive(bands_archive, tmp_path):
    archive_import(str(bands_archive))
    target = tmp_path / "export.aiida"
    archive_export(str(target), everything=True)
    env = {**os.environ, "AIIDA_PATH": str(tmp_path / "aiida")}
    verdi = str(Path(AIIDA_PYTHON).with_name("verdi"))
    subprocess.run(
        [verdi, "presto", "--profile-name", "check"],
        env=env,
        check=True,
        capture_output=True,
    )

    result = subprocess.run(
        [AIIDA_PYTHON, "-c", COUNT_SCRIPT, str(target), "bands-set-1"],
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    nodes, links, members = map(int, result.stdout.split()[-3:])
    assert nodes == DbNode.objects.count() == 54
    assert links == DbLink.objects.count() == 42
    assert members == 6
