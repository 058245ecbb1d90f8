"""Archives of every legacy version (0.1 ... 0.13, zip and tar.gz) import as
the same graph, converted as aiida-core's migrations convert them."""

from __future__ import annotations

import datetime as dt
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command

from aiidasite.exceptions import CorruptArchive
from archives.reader import open_archive
from archives.services import archive_import, archive_inspect, archive_migrate
from nodes.models import DbGroup, DbLink, DbNode
from repository import get_backend

from .legacy_archives import (
    CALCULATION,
    FILES,
    FINAL,
    RETRIEVED,
    STRUCTURE,
    TRAJECTORY,
    USER,
    VERSIONS,
    minor,
    node_folder,
    write_legacy_archive,
)

pytestmark = pytest.mark.django_db


def imported_graph() -> dict:
    nodes = {
        str(node.uuid): (node.node_type, node.process_type, node.attributes)
        for node in DbNode.objects.all()
    }
    links = {
        (str(link.input.uuid), str(link.output.uuid), link.label, link.type)
        for link in DbLink.objects.select_related("input", "output")
    }
    groups = {
        str(group.uuid): (
            group.label,
            group.type_string,
            {str(uuid) for uuid in group.dbnodes.values_list("uuid", flat=True)},
        )
        for group in DbGroup.objects.all()
    }
    return {"nodes": nodes, "links": links, "groups": groups}


def expected_graph() -> dict:
    nodes = {
        uuid: (node_type, process_type, attributes)
        for uuid, (_, node_type, process_type, attributes) in FINAL["nodes"].items()
    }
    return {"nodes": nodes, "links": FINAL["links"], "groups": FINAL["groups"]}


@pytest.mark.parametrize("tar", [False, True], ids=["zip", "tar"])
@pytest.mark.parametrize("version", VERSIONS)
def test_every_legacy_version_imports_as_the_same_graph(version, tar, tmp_path):
    suffix = "tar.gz" if tar else "aiida"
    archive = write_legacy_archive(tmp_path / f"a.{suffix}", version, tar=tar)

    summary = archive_import(str(archive))

    assert summary.nodes_new == len(FINAL["nodes"])
    assert summary.skipped == []
    assert imported_graph() == expected_graph()
    calculation = DbNode.objects.get(uuid=CALCULATION)
    assert calculation.label == "node 4"
    assert calculation.ctime == dt.datetime(2019, 1, 4, 10, tzinfo=dt.UTC)
    assert calculation.user.email == USER["email"]
    structure = DbNode.objects.get(uuid=STRUCTURE)
    assert structure.extras == ({"tag": "kept"} if minor(version) >= 4 else {})


@pytest.mark.parametrize("version", ["0.1", "0.3", "0.4", "0.13"])
def test_node_folders_become_file_trees_in_the_repository(version, tmp_path):
    archive = write_legacy_archive(tmp_path / "a.aiida", version)

    archive_import(str(archive))

    retrieved = DbNode.objects.get(uuid=RETRIEVED).repository_metadata
    assert set(retrieved["o"]) == {"aiida.out", "out", "empty"}
    assert retrieved["o"]["empty"] == {}
    backend = get_backend()
    binary = retrieved["o"]["out"]["o"]["data.bin"]["k"]
    assert backend.get_object_content(binary) == bytes(range(256))
    # raw_input/ and path/ merge into one tree, as aiida-core merges them.
    calculation = DbNode.objects.get(uuid=CALCULATION).repository_metadata
    assert set(calculation["o"]) == {"aiida.in", ".aiida"}
    key = calculation["o"]["aiida.in"]["k"]
    assert backend.get_object_content(key) == FILES[CALCULATION]["raw_input/aiida.in"]


def test_a_trajectory_keeps_its_symbols_as_an_attribute(tmp_path):
    archive = write_legacy_archive(tmp_path / "a.aiida", "0.3")

    archive_import(str(archive))

    trajectory = DbNode.objects.get(uuid=TRAJECTORY)
    assert trajectory.attributes["symbols"] == ["Si", "O"]
    assert "array|symbols" not in trajectory.attributes
    assert set(trajectory.repository_metadata["o"]) == {"positions.npy"}


@pytest.mark.parametrize("version", ["0.2", "0.10", "0.11", "0.13"])
def test_computers_logs_and_comments_are_read_in_current_form(version, tmp_path):
    archive = write_legacy_archive(tmp_path / "a.aiida", version)

    with open_archive(archive) as reader:
        computers = [
            dict(row)
            for batch in reader.rows("SELECT * FROM db_dbcomputer")
            for row in batch
        ]
        logs = [
            dict(row)
            for batch in reader.rows("SELECT * FROM db_dblog")
            for row in batch
        ]
        comments = [
            dict(row)
            for batch in reader.rows("SELECT * FROM db_dbcomment")
            for row in batch
        ]
        users = [
            dict(row)
            for batch in reader.rows("SELECT * FROM db_dbuser")
            for row in batch
        ]

    label, scheduler, transport = FINAL["computer"]
    assert [
        (c["label"], c["scheduler_type"], c["transport_type"]) for c in computers
    ] == [(label, scheduler, transport)]
    assert json.loads(computers[0]["metadata"]) == {"workdir": "/scratch/{username}/"}
    assert users[0]["institution"] == USER["institution"]
    if minor(version) >= 4:
        assert [(log["levelname"], log["dbnode_id"]) for log in logs] == [
            ("WARNING", 4)
        ]
        assert [comment["content"] for comment in comments] == ["used for the paper"]
    else:
        assert logs == comments == []


def test_importing_twice_adds_nothing(tmp_path):
    archive = write_legacy_archive(tmp_path / "a.aiida", "0.7")
    archive_import(str(archive))

    again = archive_import(str(archive))

    assert again.nodes_new == again.links_new == again.memberships_new == 0
    assert again.nodes_existing == len(FINAL["nodes"])
    assert DbNode.objects.count() == len(FINAL["nodes"])
    assert DbLink.objects.count() == len(FINAL["links"])


def test_inspect_reports_every_version(tmp_path):
    for version in VERSIONS:
        archive = write_legacy_archive(tmp_path / f"{version}.aiida", version)
        info = archive_inspect(str(archive))
        assert info["export_version"] == version
        assert info["counts"]["nodes"] == len(FINAL["nodes"])
        assert info["counts"]["links"] == len(FINAL["links"])


def test_migrate_writes_a_main_0001_archive_that_imports_the_same(tmp_path):
    archive = write_legacy_archive(tmp_path / "old.tar.gz", "0.3", tar=True)
    target = tmp_path / "new.aiida"

    summary = archive_migrate(str(archive), str(target))

    assert summary.from_version == "0.3"
    assert summary.nodes == len(FINAL["nodes"])
    with zipfile.ZipFile(target) as migrated:
        assert (
            json.loads(migrated.read("metadata.json"))["export_version"] == "main_0001"
        )
    assert archive_inspect(str(target))["export_version"] == "main_0001"
    archive_import(str(target))
    assert imported_graph() == expected_graph()


def test_migrate_refuses_to_overwrite(tmp_path):
    archive = write_legacy_archive(tmp_path / "old.aiida", "0.9")
    target = tmp_path / "new.aiida"
    target.write_bytes(b"keep")

    with pytest.raises(CommandError, match="exists"):
        call_command("archive", "migrate", str(archive), str(target))

    assert target.read_bytes() == b"keep"


def test_migrate_command_names_versions(tmp_path, capsys):
    archive = write_legacy_archive(tmp_path / "old.aiida", "0.5")
    target = tmp_path / "new.aiida"

    call_command("archive", "migrate", str(archive), str(target))

    assert "main_0001, from 0.5" in capsys.readouterr().out


def drop_link_target(metadata: dict, data: dict) -> None:
    data["links_uuid"].append(
        {
            "input": STRUCTURE,
            "output": "00000000-0000-4000-8000-000000000000",
            "label": "lost",
            "type": "input_calc",
        }
    )


def test_a_dangling_link_is_refused_naming_it(tmp_path):
    archive = write_legacy_archive(
        tmp_path / "a.aiida", "0.12", change=drop_link_target
    )

    with pytest.raises(
        CorruptArchive, match=r"'lost'.*00000000-0000-4000-8000-000000000000"
    ):
        archive_import(str(archive))

    assert DbNode.objects.count() == 0


def test_skip_dangling_links_imports_the_rest_and_reports_each(tmp_path, capsys):
    archive = write_legacy_archive(
        tmp_path / "a.aiida", "0.12", change=drop_link_target
    )

    call_command("archive", "import", "--skip-dangling-links", str(archive))

    out = capsys.readouterr().out
    assert "not imported: skipped link 'lost'" in out
    assert DbNode.objects.count() == len(FINAL["nodes"])
    assert DbLink.objects.count() == len(FINAL["links"])


def test_memberships_of_nodes_not_in_the_archive_are_reported(tmp_path):
    def add_member(metadata, data):
        data["groups_uuid"][next(iter(data["groups_uuid"]))].append(
            "00000000-0000-4000-8000-000000000001"
        )

    archive = write_legacy_archive(tmp_path / "a.aiida", "0.10", change=add_member)

    summary = archive_import(str(archive))

    assert any(
        "00000000-0000-4000-8000-000000000001" in line for line in summary.skipped
    )
    assert summary.memberships_new == 2


def set_version(value):
    def change(metadata, data):
        metadata["export_version"] = value

    return change


def break_json(name):
    return {name: b'{"export_data": {"Node": {"1": '}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda p: write_legacy_archive(p, "0.4", change=set_version("0.14")),
            "unknown archive version '0.14'",
        ),
        (
            lambda p: write_legacy_archive(p, "0.4", change=set_version("main_0009")),
            "main_0009",
        ),
        (
            lambda p: write_legacy_archive(p, "0.4", change=set_version(None)),
            "version None",
        ),
        (
            lambda p: write_legacy_archive(p, "0.4", members={"metadata.json": None}),
            "no metadata.json",
        ),
        (
            lambda p: write_legacy_archive(p, "0.4", members={"data.json": None}),
            "no data.json",
        ),
        (
            lambda p: write_legacy_archive(p, "0.4", members=break_json("data.json")),
            "data.json is not valid JSON",
        ),
        (
            lambda p: write_legacy_archive(p, "0.4", members={"data.json": b""}),
            "data.json is not valid JSON",
        ),
        (
            lambda p: write_legacy_archive(p, "0.4", members={"metadata.json": b"{"}),
            "metadata.json is not",
        ),
        (
            lambda p: write_legacy_archive(
                p, "0.4", tar=True, members={"data.json": None}
            ),
            "no data.json",
        ),
        (
            lambda p: write_legacy_archive(
                p, "0.8", members={node_folder(RETRIEVED): None}
            ),
            f"node {RETRIEVED}: its folder",
        ),
        (lambda p: p.write_bytes(b"") and p, "empty (0 bytes)"),
        (lambda p: p.write_bytes(b"not an archive") and p, "neither a zip nor a tar"),
        (lambda p: zipfile.ZipFile(p, "w").close() or p, "no metadata.json"),
    ],
    ids=[
        "unknown-version",
        "unknown-main-version",
        "no-version",
        "no-metadata",
        "no-data",
        "broken-json",
        "empty-data",
        "broken-metadata",
        "tar-no-data",
        "node-folder-missing",
        "zero-bytes",
        "not-an-archive",
        "empty-zip",
    ],
)
def test_bad_archives_get_one_line_and_change_nothing(make, message, tmp_path):
    archive = tmp_path / "bad.aiida"
    archive = make(archive) or archive

    with pytest.raises(CommandError) as error:
        call_command("archive", "import", str(archive))

    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert DbNode.objects.count() == 0
    assert DbGroup.objects.count() == 0


@pytest.mark.parametrize("tar", [False, True], ids=["zip", "tar"])
def test_legacy_archives_are_held_to_the_size_limits(settings, tmp_path, tar):
    archive = write_legacy_archive(tmp_path / "a.aiida", "0.9", tar=tar)
    settings.AIIDASITE_ARCHIVE_MAX_DATABASE_MIB = 0

    with pytest.raises(CorruptArchive, match=r"data\.json holds more than 0 MiB"):
        archive_import(str(archive))

    settings.AIIDASITE_ARCHIVE_MAX_DATABASE_MIB = 16
    settings.AIIDASITE_ARCHIVE_MAX_METADATA_MIB = 0
    with pytest.raises(CorruptArchive, match=r"metadata\.json holds more than 0 MiB"):
        archive_import(str(archive))
    assert DbNode.objects.count() == 0


def test_a_legacy_tar_that_expands_too_far_is_refused(tmp_path):
    bomb = {node_folder(RETRIEVED) + "path/zeros": bytes(17 * 1024 * 1024)}
    archive = write_legacy_archive(tmp_path / "a.tar.gz", "0.9", tar=True, members=bomb)

    with pytest.raises(CorruptArchive, match="AIIDASITE_ARCHIVE_MAX_RATIO"):
        archive_import(str(archive))
    assert DbNode.objects.count() == 0


def test_a_missing_time_is_filled_and_said(tmp_path):
    """aiida-core's migration gives a node without ctime the time of the
    import; ours does too, and the summary says how many."""

    def drop_times(metadata, data):
        nodes = data["export_data"]["Node"]
        for fields in list(nodes.values())[:2]:
            fields["ctime"] = None

    archive = write_legacy_archive(
        tmp_path / "untimed.aiida", "0.10", change=drop_times
    )
    before = dt.datetime.now(dt.UTC)
    summary = archive_import(str(archive))

    assert "2 node ctime(s) missing: given the time of this import" in " ".join(
        summary.skipped
    )
    assert (
        DbNode.objects.filter(ctime__gte=before - dt.timedelta(seconds=1)).count() == 2
    )
