"""Archives written here are imported by aiida-core itself.

Needs aiida-core in a separate virtual environment (the ``aiida_core``
fixture); ``.ci/run`` installs one.
"""

from __future__ import annotations

import pytest

from archives.services import archive_export, archive_import
from nodes.models import DbLink, DbNode

pytestmark = pytest.mark.django_db

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


def test_aiida_core_imports_an_exported_archive(bands_archive, tmp_path, aiida_core):
    archive_import(str(bands_archive))
    target = tmp_path / "export.aiida"
    archive_export(str(target), everything=True)

    output = aiida_core(COUNT_SCRIPT, str(target), "bands-set-1")

    nodes, links, members = map(int, output.split()[-3:])
    assert nodes == DbNode.objects.count() == 54
    assert links == DbLink.objects.count() == 42
    assert members == 6
