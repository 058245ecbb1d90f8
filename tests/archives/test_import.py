"""Importing archives written by aiida-core."""

from __future__ import annotations

import hashlib
import zipfile

import pytest
from django.contrib.auth import get_user_model

from aiidasite.exceptions import CorruptArchive, UniquenessError
from archives.services import archive_import, archive_inspect
from nodes.deletion import delete_nodes
from nodes.models import DbGroup, DbLink, DbNode, DbNodeObject
from repository import get_backend, iter_keys
from tests.archives.hostile import Case, build

pytestmark = pytest.mark.django_db


def graph_snapshot() -> tuple[int, int, int, int]:
    return (
        DbNode.objects.count(),
        DbLink.objects.count(),
        DbGroup.objects.count(),
        DbGroup.dbnodes.through.objects.count(),
    )


def test_import_brings_every_node_link_group_and_user(bands_archive):
    summary = archive_import(str(bands_archive))

    assert summary.nodes_new == 54
    assert graph_snapshot() == (54, 42, 1, 6)
    group = DbGroup.objects.get()
    assert group.label == "bands-set-1"
    assert set(group.dbnodes.values_list("node_type", flat=True)) == {
        "data.core.array.bands.BandsData."
    }
    user = get_user_model().objects.get(email="scientist@example.org")
    assert DbNode.objects.exclude(user=user).count() == 0


def test_import_keeps_node_fields_as_aiida_wrote_them(bands_archive):
    archive_import(str(bands_archive))

    structure = DbNode.objects.get(uuid="29ec7cb5-f22c-41d1-9bec-b4814394f786")
    assert structure.node_type == "data.core.structure.StructureData."
    assert structure.label == "structure-0"
    assert structure.attributes["kinds"][0]["symbols"] == ["Ga"]
    assert structure.ctime.isoformat() == "2026-11-23T08:25:51.741616+00:00"
    # As aiida-core's import: the source database's hash is not kept.
    assert "_aiida_hash" not in structure.extras
    calc = DbNode.objects.get(
        pk=structure.output_links.get(type="input_calc").output_id
    )
    assert calc.node_type == "process.calculation.calcjob.CalcJobNode."
    assert "aiida.in" in calc.repository_metadata["o"]


def test_import_stores_every_file_under_its_hash(bands_archive):
    archive_import(str(bands_archive))
    backend = get_backend()

    keys = set()
    for metadata in DbNode.objects.values_list("repository_metadata", flat=True):
        keys.update(entry["k"] for entry in metadata.get("o", {}).values())
    assert len(keys) == 14
    for key in keys:
        assert hashlib.sha256(backend.get_object_content(key)).hexdigest() == key


def test_second_import_adds_nothing_and_says_so(bands_archive):
    archive_import(str(bands_archive))
    before = graph_snapshot()

    summary = archive_import(str(bands_archive))

    assert not summary.changed
    assert summary.nodes_existing == 54
    assert summary.links_existing == 42
    assert summary.groups_existing == 1
    assert summary.files_existing == 14
    assert graph_snapshot() == before


def test_inspect_reports_version_counts_and_types(bands_archive):
    info = archive_inspect(str(bands_archive))

    assert info["export_version"] == "main_0001"
    assert info["counts"]["nodes"] == 54
    assert info["counts"]["links"] == 42
    assert info["counts"]["files"] == 14
    assert info["node_types"]["data.core.structure.StructureData."] == 6
    assert DbNode.objects.count() == 0


def test_wrong_version_is_refused_and_changes_nothing(damaged):
    archive = damaged("future.aiida", metadata={"export_version": "main_0009"})

    with pytest.raises(CorruptArchive, match="version 'main_0009' is not supported"):
        archive_import(str(archive))
    assert graph_snapshot() == (0, 0, 0, 0)


def test_missing_file_object_is_refused_and_changes_nothing(damaged, bands_archive):
    with zipfile.ZipFile(bands_archive) as source:
        victim = next(n for n in source.namelist() if n.startswith("repo/"))
    archive = damaged("missing.aiida", drop=(victim,))
    objects_before = set(get_backend().list_objects())

    with pytest.raises(CorruptArchive, match="missing from the archive"):
        archive_import(str(archive))
    assert graph_snapshot() == (0, 0, 0, 0)
    assert set(get_backend().list_objects()) == objects_before


def test_file_with_wrong_content_is_refused_and_leaves_no_object(
    damaged, bands_archive
):
    with zipfile.ZipFile(bands_archive) as source:
        victim = sorted(n for n in source.namelist() if n.startswith("repo/"))[-1]
    archive = damaged("tampered.aiida", replace={victim: b"not what was hashed"})
    objects_before = set(get_backend().list_objects())

    with pytest.raises(CorruptArchive, match="is corrupt"):
        archive_import(str(archive))
    assert graph_snapshot() == (0, 0, 0, 0)
    assert set(get_backend().list_objects()) == objects_before


def test_corrupt_zip_is_refused(tmp_path, bands_archive):
    broken = tmp_path / "broken.aiida"
    broken.write_bytes(bands_archive.read_bytes()[:5000])

    with pytest.raises(CorruptArchive):
        archive_import(str(broken))
    assert graph_snapshot() == (0, 0, 0, 0)


def test_file_that_is_no_archive_is_refused(tmp_path):
    text = tmp_path / "notes.aiida"
    text.write_text("hello")

    with pytest.raises(CorruptArchive, match="neither a zip nor a tar archive"):
        archive_import(str(text))


def test_missing_archive_path_is_refused(tmp_path):
    with pytest.raises(CorruptArchive, match="no such file"):
        archive_import(str(tmp_path / "nowhere.aiida"))


def test_uuid_present_with_other_content_is_a_conflict(bands_archive, damaged):
    archive_import(str(bands_archive))
    node = DbNode.objects.get(uuid="29ec7cb5-f22c-41d1-9bec-b4814394f786")
    DbNode.objects.filter(pk=node.pk).update(attributes={"changed": True})
    DbNode.objects.exclude(pk=node.pk).delete()
    DbGroup.objects.all().delete()

    with pytest.raises(UniquenessError, match="29ec7cb5"):
        archive_import(str(bands_archive))
    assert graph_snapshot() == (1, 0, 0, 0)


def test_import_indexes_every_object_a_node_references(bands_archive):
    archive_import(str(bands_archive))

    expected = {
        (pk, key)
        for pk, tree in DbNode.objects.values_list("pk", "repository_metadata")
        for key in iter_keys(tree)
    }
    indexed = set(DbNodeObject.objects.values_list("node_id", "key"))
    assert indexed == expected
    assert len(expected) > 14  # some objects are shared between nodes


def test_deleting_imported_nodes_keeps_objects_other_nodes_share(
    bands_archive, django_capture_on_commit_callbacks
):
    archive_import(str(bands_archive))
    backend = get_backend()
    bands = DbNode.objects.filter(node_type__contains="BandsData").first()
    going = delete_nodes([bands.pk], dry_run=True)
    users_of = {}
    for pk, key in DbNodeObject.objects.values_list("node_id", "key"):
        users_of.setdefault(key, set()).add(pk)
    own = {key for key, pks in users_of.items() if pks <= going}
    shared = {key for key, pks in users_of.items() if pks & going and pks - going}
    assert own and shared

    with django_capture_on_commit_callbacks(execute=True):
        delete_nodes([bands.pk], dry_run=False)

    assert not DbNode.objects.filter(pk__in=going).exists()
    assert all(backend.has_object(key) for key in shared)
    assert not any(backend.has_object(key) for key in own)


def test_import_drops_what_aiida_core_drops(bands_archive, tmp_path):
    """As aiida-core's import (aiida/tools/archive/imports.py): a process's
    checkpoint and every node's ``_aiida_*`` extras stay behind; other
    extras come along."""
    calc = "process.calculation.calcjob.CalcJobNode."
    changed = build(
        bands_archive,
        tmp_path / "checkpointed.aiida",
        Case(
            "checkpointed",
            "",
            sql=(
                "UPDATE db_dbnode SET attributes = json_set(attributes, "
                f"'$.checkpoints', 'state'), extras = json_set(extras, "
                f"'$._aiida_cached_from', 'x', '$.kept', 1) "
                f"WHERE node_type = '{calc}'",
            ),
        ),
    )
    archive_import(str(changed))

    calcs = DbNode.objects.filter(node_type=calc)
    assert calcs.exists()
    for node in calcs:
        assert "checkpoints" not in node.attributes
        assert node.extras.get("kept") == 1
        assert not any(key.startswith("_aiida_") for key in node.extras)


def test_a_process_whose_attributes_are_text_is_refused_in_one_line(
    bands_archive, tmp_path
):
    """Text holding the checkpoint key is no object to drop it from."""
    calc = "process.calculation.calcjob.CalcJobNode."
    changed = build(
        bands_archive,
        tmp_path / "text-attributes.aiida",
        Case(
            "text-attributes",
            "",
            sql=(
                "UPDATE db_dbnode SET attributes = json_quote('checkpoints') "
                f"WHERE node_type = '{calc}'",
            ),
        ),
    )
    with pytest.raises(CorruptArchive, match="attributes must be a JSON object"):
        archive_import(str(changed))
    assert not DbNode.objects.exists()
