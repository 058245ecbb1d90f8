"""Archives of every older version import here as aiida-core 2.9.4 imports them.

The archives built by ``legacy_archives`` of the oldest versions, which
aiida-core 2.x no longer reads, are migrated here and imported by aiida-core.

Every archive in ``../shared/data/aiida-archives/legacy/`` is imported by
aiida-core (each into a fresh profile, in one run of aiida-core) and here;
the nodes, links, groups and memberships must be the same. aiida-core also
imports this site's ``archive migrate`` output of each to the same graph.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import transaction

from archives.services import archive_import, archive_migrate
from nodes.models import DbGroup, DbLink, DbNode

from .legacy_archives import FINAL, write_legacy_archive

pytestmark = pytest.mark.django_db

DUMP_SCRIPT = """
import json, sys
from pathlib import Path
from aiida import load_profile
from aiida.manage.configuration import create_profile, get_config
from aiida.orm import Group, Node, QueryBuilder
from aiida.tools.archive import import_archive
from aiida.tools.archive.abstract import get_format

config = get_config()
graphs = {}
for index, path in enumerate(sys.argv[1:]):
    name = f"fresh{index}"
    create_profile(
        config,
        storage_backend="core.sqlite_dos",
        storage_config={"filepath": str(Path(config.dirpath) / name)},
        name=name,
        email="oracle@localhost",
    )
    load_profile(name, allow_switch=True)
    # As ``verdi archive import`` does: migrate an older archive first.
    current = Path(config.dirpath) / f"{name}.aiida"
    get_format().migrate(path, current, get_format().latest_version, force=True)
    import_archive(current, create_group=False)
    nodes = {
        uuid: [node_type, attributes, label, ctime.isoformat()]
        for uuid, node_type, attributes, label, ctime in QueryBuilder()
        .append(Node, project=["uuid", "node_type", "attributes", "label", "ctime"])
        .iterall()
    }
    links = sorted(
        QueryBuilder()
        .append(Node, tag="in", project="uuid")
        .append(
            Node, with_incoming="in", project="uuid", edge_project=["label", "type"]
        )
        .all()
    )
    groups = {}
    for group in Group.collection.all():
        members = sorted(node.uuid for node in group.nodes)
        groups[group.uuid] = [group.label, group.type_string, members]
    graphs[path] = {"nodes": nodes, "links": links, "groups": groups}
print(json.dumps(graphs))
"""


def our_graph() -> dict:
    """The same views of this site's database as the script prints."""
    nodes = {
        str(node.uuid): [
            node.node_type,
            node.attributes,
            node.label,
            node.ctime.isoformat(),
        ]
        for node in DbNode.objects.all()
    }
    links = sorted(
        [str(link.input.uuid), str(link.output.uuid), link.label, link.type]
        for link in DbLink.objects.select_related("input", "output")
    )
    groups = {
        str(group.uuid): [
            group.label,
            group.type_string,
            sorted(str(uuid) for uuid in group.dbnodes.values_list("uuid", flat=True)),
        ]
        for group in DbGroup.objects.all()
    }
    return {"nodes": nodes, "links": links, "groups": groups}


def normalised(graph: dict) -> dict:
    """Times as UTC instants, so both sides' time zones compare equal."""
    import datetime as dt

    nodes = {}
    for uuid, (node_type, attributes, label, ctime) in graph["nodes"].items():
        instant = dt.datetime.fromisoformat(ctime).astimezone(dt.UTC)
        nodes[uuid] = [node_type, attributes, label, instant.isoformat()]
    return {**graph, "nodes": nodes, "links": [list(link) for link in graph["links"]]}


def test_every_legacy_archive_imports_as_aiida_core_imports_it(
    shared_data, aiida_core, tmp_path
):
    legacy = shared_data / "aiida-archives" / "legacy"
    archives = sorted(str(path) for path in legacy.glob("*") if path.is_file())
    if not archives:
        pytest.skip(f"{legacy} holds no archives")
    migrated = []
    for path in archives:
        target = tmp_path / f"{Path(path).name}.main_0001.aiida"
        archive_migrate(path, str(target))
        migrated.append(str(target))

    theirs = json.loads(aiida_core(DUMP_SCRIPT, *archives, *migrated).splitlines()[-1])

    for path, migrated_path in zip(archives, migrated, strict=True):
        with transaction.atomic():
            archive_import(path)
            ours = our_graph()
            transaction.set_rollback(True)
        expected = normalised(theirs[path])
        assert expected["nodes"], path
        assert normalised(ours) == expected, path
        assert normalised(theirs[migrated_path]) == expected, migrated_path


def test_aiida_core_imports_what_migrate_writes_from_the_oldest_versions(
    aiida_core, tmp_path
):
    """aiida-core 2.x refuses 0.1-0.3; migrated here, it imports them."""
    cases = [("0.1", False), ("0.3", True), ("0.13", False)]
    originals, migrated = [], []
    for version, tar in cases:
        source = tmp_path / f"{version}.{'tar.gz' if tar else 'aiida'}"
        write_legacy_archive(source, version, tar=tar)
        target = tmp_path / f"{version}.main_0001.aiida"
        archive_migrate(str(source), str(target))
        originals.append(str(source))
        migrated.append(str(target))

    theirs = json.loads(aiida_core(DUMP_SCRIPT, *migrated).splitlines()[-1])

    for source, target in zip(originals, migrated, strict=True):
        with transaction.atomic():
            archive_import(source)
            ours = our_graph()
            transaction.set_rollback(True)
        assert len(ours["nodes"]) == len(FINAL["nodes"]), source
        assert normalised(theirs[target]) == normalised(ours), source
