"""Exporting archives, and the round trip export -> import."""

from __future__ import annotations

import json
import tomllib
import zipfile
from pathlib import Path

import pytest

import aiidasite
from aiidasite.exceptions import InputValidationError, NotExistent
from archives.services import archive_export, archive_import, archive_inspect
from nodes.models import DbGroup, DbLink, DbNode
from repository import get_backend

pytestmark = pytest.mark.django_db


def graph_by_uuid() -> dict[str, object]:
    uuid_of = dict(DbNode.objects.values_list("pk", "uuid"))
    nodes = {
        str(row["uuid"]): (
            row["node_type"],
            row["process_type"],
            row["label"],
            row["attributes"],
            row["extras"],
            row["repository_metadata"],
            row["ctime"],
        )
        for row in DbNode.objects.values()
    }
    links = {
        (str(uuid_of[i]), str(uuid_of[o]), label, kind)
        for i, o, label, kind in DbLink.objects.values_list(
            "input_id", "output_id", "label", "type"
        )
    }
    groups = {
        (str(g.uuid), g.label): {str(n.uuid) for n in g.dbnodes.all()}
        for g in DbGroup.objects.all()
    }
    return {"nodes": nodes, "links": links, "groups": groups}


def empty_database() -> None:
    DbGroup.objects.all().delete()
    DbLink.objects.all().delete()
    DbNode.objects.all().delete()


def test_round_trip_through_an_empty_database_keeps_the_graph(bands_archive, tmp_path):
    archive_import(str(bands_archive))
    before = graph_by_uuid()
    target = tmp_path / "everything.aiida"

    summary = archive_export(str(target), everything=True)
    empty_database()
    archive_import(str(target))

    assert summary.nodes == 54 and summary.links == 42 and summary.files == 14
    assert graph_by_uuid() == before


def test_exported_files_are_readable_back(bands_archive, tmp_path):
    archive_import(str(bands_archive))
    target = tmp_path / "out.aiida"
    archive_export(str(target), everything=True)

    info = archive_inspect(str(target))

    assert info["export_version"] == "main_0001"
    assert info["counts"]["nodes"] == 54
    assert info["counts"]["files"] == 14
    assert info["counts"]["users"] == 1


def test_exporting_one_output_brings_its_provenance(bands_archive, tmp_path):
    archive_import(str(bands_archive))
    bands = DbNode.objects.filter(node_type__startswith="data.core.array.bands").first()
    creator = DbLink.objects.get(output=bands, type="create").input
    inputs = set(
        DbLink.objects.filter(output=creator, type="input_calc").values_list(
            "input_id", flat=True
        )
    )
    target = tmp_path / "bands.aiida"

    summary = archive_export(str(target), node_pks=[bands.pk])

    empty_database()
    archive_import(str(target))
    present = set(DbNode.objects.values_list("uuid", flat=True))
    assert bands.uuid in present
    assert creator.uuid in present
    assert len(inputs) >= 2
    assert summary.nodes >= 2 + len(inputs)


def test_export_of_a_group_carries_the_group(bands_archive, tmp_path):
    archive_import(str(bands_archive))
    target = tmp_path / "group.aiida"

    summary = archive_export(str(target), group_labels=["bands-set-1"])

    assert summary.groups == 1
    info = archive_inspect(str(target))
    assert info["counts"]["groups"] == 1
    assert info["counts"]["group_memberships"] == 6


def test_export_refuses_an_unknown_group(tmp_path):
    with pytest.raises(NotExistent, match="no group with label 'nope'"):
        archive_export(str(tmp_path / "x.aiida"), group_labels=["nope"])
    assert not (tmp_path / "x.aiida").exists()


def test_export_refuses_an_unknown_node(tmp_path):
    with pytest.raises(NotExistent, match="no node with pk 999999"):
        archive_export(str(tmp_path / "x.aiida"), node_pks=[999999])


def test_export_refuses_to_overwrite_without_asking(tmp_path, bands_archive):
    archive_import(str(bands_archive))
    target = tmp_path / "x.aiida"
    target.write_text("keep me")

    with pytest.raises(InputValidationError, match="exists"):
        archive_export(str(target), everything=True)
    assert target.read_text() == "keep me"


def test_export_with_nothing_chosen_is_refused(tmp_path):
    with pytest.raises(InputValidationError, match="nothing to export"):
        archive_export(str(tmp_path / "x.aiida"))


def test_export_of_a_missing_object_leaves_no_half_file(bands_archive, tmp_path):
    archive_import(str(bands_archive))
    node = DbNode.objects.exclude(repository_metadata={}).first()
    DbNode.objects.filter(pk=node.pk).update(
        repository_metadata={"o": {"gone.txt": {"k": "0" * 64}}}
    )
    target = tmp_path / "out" / "x.aiida"

    with pytest.raises(NotExistent, match="missing from the repository"):
        archive_export(str(target), everything=True, parents=True)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []
    assert get_backend().has_object("0" * 64) is False


def test_export_records_the_writers_version(bands_archive, tmp_path):
    archive_import(str(bands_archive))
    target = tmp_path / "out.aiida"
    archive_export(str(target), everything=True)
    with zipfile.ZipFile(target) as archive:
        metadata = json.loads(archive.read("metadata.json"))
    project = tomllib.loads(
        (Path(aiidasite.__file__).parents[1] / "pyproject.toml").read_text()
    )
    assert metadata["aiidasite_version"] == project["project"]["version"]
    assert aiidasite.__version__ == project["project"]["version"]
