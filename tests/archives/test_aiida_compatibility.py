"""Archives written here are imported by aiida-core itself.

Needs aiida-core in a separate virtual environment (the ``aiida_core``
fixture); ``.ci/run`` installs one.
"""

from __future__ import annotations

import json

import pytest

from archives.reader import ArchiveReader
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


RICH_SCRIPT = """
import json, sys
from click.testing import CliRunner
from aiida import load_profile, orm
from aiida.cmdline.commands.cmd_code import show
from aiida.cmdline.commands.cmd_process import process_report
from aiida.tools.archive import import_archive
load_profile()
expected = json.loads(sys.argv[2])
import_archive(sys.argv[1], include_authinfos=True, create_group=False)
def count(entity, **filters):
    return orm.QueryBuilder().append(entity, filters=filters).count()
computers = {"uuid": {"in": expected["computer_uuids"]}}
counts = {
    "nodes": count(orm.Node),
    "links": orm.QueryBuilder().append(orm.Node, tag="a")
    .append(orm.Node, with_incoming="a").count(),
    "groups": count(orm.Group),
    "memberships": sum(len(group.nodes) for group in orm.Group.collection.all()),
    "users": count(orm.User, email={"in": expected["emails"]}),
    "computers": count(orm.Computer, **computers),
    "authinfos": orm.QueryBuilder().append(orm.Computer, filters=computers, tag="c")
    .append(orm.AuthInfo, with_computer="c").count(),
    "comments": count(orm.Comment),
    "logs": count(orm.Log),
}
codes = {}
code_type = {"node_type": {"like": "data.core.code.%"}}
for code in orm.QueryBuilder().append(orm.Node, filters=code_type).all(flat=True):
    result = CliRunner().invoke(show, [str(code.pk)])
    codes[code.label] = [result.exit_code, code.computer.label]
calcs = orm.QueryBuilder().append(orm.ProcessNode, project="id").all(flat=True)
result = CliRunner().invoke(process_report, [str(pk) for pk in calcs])
print(json.dumps({"counts": counts, "codes": codes, "report": result.output}))
"""


def test_aiida_core_imports_every_entity_of_an_exported_rich_archive(
    shared_data, tmp_path, aiida_core
):
    original = shared_data / "aiida-archives" / "study-rich.aiida"
    archive_import(str(original))
    target = tmp_path / "export.aiida"
    archive_export(str(target), everything=True, include_authinfos=True)
    with ArchiveReader(original) as archive:
        counts = archive.inspect()["counts"]
        expected = {
            "emails": [
                row[0] for row in archive.db.execute("SELECT email FROM db_dbuser")
            ],
            "computer_uuids": [
                row[0] for row in archive.db.execute("SELECT uuid FROM db_dbcomputer")
            ],
        }
        messages = [
            row[0] for row in archive.db.execute("SELECT message FROM db_dblog")
        ]
        code_computers = dict(
            archive.db.execute(
                "SELECT n.label, c.label FROM db_dbnode n JOIN db_dbcomputer c "
                "ON n.dbcomputer_id = c.id WHERE n.node_type LIKE 'data.core.code.%'"
            ).fetchall()
        )

    output = json.loads(aiida_core(RICH_SCRIPT, str(target), json.dumps(expected)))

    assert output["counts"] == {
        "nodes": counts["nodes"],
        "links": counts["links"],
        "groups": counts["groups"],
        "memberships": counts["group_memberships"],
        "users": counts["users"],
        "computers": counts["computers"],
        "authinfos": counts["authinfos"],
        "comments": counts["comments"],
        "logs": counts["logs"],
    }
    assert code_computers
    assert output["codes"] == {
        label: [0, computer] for label, computer in code_computers.items()
    }
    assert messages
    for message in messages:
        assert message in output["report"]
