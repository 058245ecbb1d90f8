"""Computers, auth infos, comments, logs and users' fields through archives.

Each test runs on the small archive of ``tests/data`` and on
``../shared/data/aiida-archives/study-rich.aiida`` (skipped when absent);
what is expected is read from the archive itself.
"""

from __future__ import annotations

import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from aiidasite.exceptions import CorruptArchive
from archives.reader import ArchiveReader
from archives.services import archive_export, archive_import
from comments.models import DbComment
from computers.models import DbAuthInfo, DbComputer
from logs.models import DbLog
from nodes.models import DbGroup, DbLink, DbNode
from users.models import UserProfile

pytestmark = pytest.mark.django_db

SMALL = Path(__file__).resolve().parents[1] / "data" / "computers-comments-logs.aiida"


@pytest.fixture(params=["small", "study-rich"])
def archive(request) -> Path:
    if request.param == "small":
        return SMALL
    return (
        request.getfixturevalue("shared_data") / "aiida-archives" / "study-rich.aiida"
    )


def archive_rows(path: Path, sql: str) -> list[sqlite3.Row]:
    with ArchiveReader(path) as reader:
        return reader.db.execute(sql).fetchall()


def entity_counts() -> dict[str, int]:
    return {
        "nodes": DbNode.objects.count(),
        "links": DbLink.objects.count(),
        "groups": DbGroup.objects.count(),
        "group_memberships": DbGroup.dbnodes.through.objects.count(),
        "users": get_user_model().objects.count(),
        "computers": DbComputer.objects.count(),
        "authinfos": DbAuthInfo.objects.count(),
        "comments": DbComment.objects.count(),
        "logs": DbLog.objects.count(),
    }


def archive_counts(path: Path) -> dict[str, int]:
    with ArchiveReader(path) as reader:
        counts = reader.inspect()["counts"]
    counts.pop("files")
    return counts


def uuids() -> dict[str, set[str]]:
    return {
        model.__name__: {str(u) for u in model.objects.values_list("uuid", flat=True)}
        for model in (DbNode, DbComputer, DbComment, DbLog, DbGroup)
    }


def test_import_brings_every_entity_with_new_counts(archive):
    summary = archive_import(str(archive))

    expected = archive_counts(archive)
    assert entity_counts() == expected
    assert summary.computers_new == expected["computers"]
    assert summary.authinfos_new == expected["authinfos"]
    assert summary.comments_new == expected["comments"]
    assert summary.logs_new == expected["logs"]
    assert summary.users_new == expected["users"]
    assert summary.skipped == []


def test_import_keeps_users_computers_comments_and_logs_fields(archive):
    archive_import(str(archive))

    for row in archive_rows(archive, "SELECT * FROM db_dbuser"):
        user = get_user_model().objects.get(email=row["email"])
        assert (user.first_name, user.last_name) == (
            row["first_name"],
            row["last_name"],
        )
        assert user.aiida_profile.institution == row["institution"]
    calcs = archive_rows(
        archive,
        "SELECT n.uuid, c.label, c.metadata FROM db_dbnode n JOIN db_dbcomputer c "
        "ON n.dbcomputer_id = c.id",
    )
    assert calcs
    for uuid, label, _ in calcs:
        assert DbNode.objects.get(uuid=uuid).dbcomputer.label == label
    for row in archive_rows(
        archive,
        "SELECT c.uuid, c.content, u.email, n.uuid AS node FROM db_dbcomment c "
        "JOIN db_dbuser u ON c.user_id = u.id JOIN db_dbnode n ON c.dbnode_id = n.id",
    ):
        comment = DbComment.objects.get(uuid=row["uuid"])
        assert comment.user.email == row["email"]
        assert comment.content == row["content"]
        assert str(comment.dbnode.uuid) == row["node"]
    for row in archive_rows(archive, "SELECT * FROM db_dblog"):
        log = DbLog.objects.get(uuid=row["uuid"])
        assert (log.levelname, log.message) == (row["levelname"], row["message"])
        assert log.metadata["levelname"] == row["levelname"]


def test_reimport_finds_everything_present(archive):
    archive_import(str(archive))
    summary = archive_import(str(archive))

    expected = archive_counts(archive)
    assert not summary.changed
    assert summary.computers_existing == expected["computers"]
    assert summary.authinfos_existing == expected["authinfos"]
    assert summary.comments_existing == expected["comments"]
    assert summary.logs_existing == expected["logs"]
    assert summary.users_existing == expected["users"]
    assert entity_counts() == expected


def test_export_then_import_into_an_empty_database_keeps_every_uuid(
    archive, tmp_path, configured_repository
):
    archive_import(str(archive))
    before, counts = uuids(), entity_counts()
    institutions = dict(UserProfile.objects.values_list("user__email", "institution"))
    target = tmp_path / "again.aiida"
    archive_export(str(target), everything=True, include_authinfos=True)
    empty_the_database()

    archive_import(str(target))

    assert uuids() == before
    assert entity_counts() == counts
    assert dict(UserProfile.objects.values_list("user__email", "institution")) == (
        institutions
    )


def empty_the_database() -> None:
    for model in (DbComment, DbLog, DbAuthInfo):
        model.objects.all().delete()
    DbGroup.objects.all().delete()
    DbLink.objects.all().delete()
    DbNode.objects.all().delete()
    DbComputer.objects.all().delete()
    get_user_model().objects.all().delete()
    assert sum(entity_counts().values()) == 0


def test_export_leaves_comments_logs_or_auth_infos_out_when_asked(tmp_path):
    archive_import(str(SMALL))
    default = tmp_path / "default.aiida"
    summary = archive_export(str(default), everything=True)
    bare = tmp_path / "bare.aiida"
    call_command("archive", "export", str(bare), "--all", "--no-comments", "--no-logs")

    assert archive_counts(default)["comments"] == summary.comments > 0
    assert archive_counts(default)["logs"] == summary.logs > 0
    assert archive_counts(default)["authinfos"] == 0
    assert archive_counts(bare)["comments"] == archive_counts(bare)["logs"] == 0
    with_infos = tmp_path / "infos.aiida"
    call_command("archive", "export", str(with_infos), "--all", "--include-authinfos")
    assert archive_counts(with_infos)["authinfos"] == DbAuthInfo.objects.count() > 0


def test_a_computer_label_taken_here_gets_a_suffix_and_is_reported():
    label = archive_rows(SMALL, "SELECT label FROM db_dbcomputer ORDER BY id")[0][0]
    DbComputer.objects.create(label=label)

    summary = archive_import(str(SMALL))

    assert summary.renamed_computers == [f"{label} -> {label}_1"]
    assert DbComputer.objects.filter(label=f"{label}_1").exists()


def test_an_existing_user_and_auth_info_are_never_overwritten(django_user_model):
    email = archive_rows(SMALL, "SELECT email FROM db_dbuser ORDER BY id")[0][0]
    user = django_user_model.objects.create(username="me", email=email, first_name="Me")
    archive_import(str(SMALL))
    user.refresh_from_db()
    assert user.first_name == "Me"
    assert not UserProfile.objects.filter(user=user).exists()
    info = DbAuthInfo.objects.filter(aiidauser=user).first()
    info.auth_params = {"username": "local"}
    info.save()

    summary = archive_import(str(SMALL))

    info.refresh_from_db()
    assert info.auth_params == {"username": "local"}
    assert summary.authinfos_new == 0


def changed_archive(tmp_path: Path, *statements: str) -> Path:
    """A copy of the small archive with SQL run on its database."""
    work = tmp_path / "db.sqlite3"
    with zipfile.ZipFile(SMALL) as source:
        work.write_bytes(source.read("db.sqlite3"))
        db = sqlite3.connect(work)
        for sql in statements:
            db.execute(sql)
        db.commit()
        db.close()
        target = tmp_path / "changed.aiida"
        with zipfile.ZipFile(target, "w") as new:
            for info in source.infolist():
                if info.filename == "db.sqlite3":
                    new.write(work, "db.sqlite3")
                else:
                    new.writestr(info, source.read(info.filename))
    return target


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("UPDATE db_dblog SET dbnode_id = 999 WHERE id = 1", "refers to node 999,"),
        ("UPDATE db_dbcomment SET user_id = 77 WHERE id = 1", "refers to user 77"),
        ("UPDATE db_dbcomputer SET metadata = '[1]' WHERE id = 1", "JSON object"),
        ("UPDATE db_dblog SET metadata = 'nope' WHERE id = 1", "not valid JSON"),
        ("UPDATE db_dbcomment SET ctime = 'soon' WHERE id = 1", "not a time"),
        (
            "UPDATE db_dbnode SET dbcomputer_id = 55 WHERE dbcomputer_id IS NOT NULL",
            "refers to computer 55",
        ),
    ],
)
def test_a_bad_row_stops_the_import_and_changes_nothing(tmp_path, statement, message):
    bad = changed_archive(tmp_path, "PRAGMA foreign_keys = OFF", statement)

    with pytest.raises(CorruptArchive, match=message):
        archive_import(str(bad))

    assert sum(entity_counts().values()) == 0


def test_rows_no_importer_reads_are_named_in_the_summary(tmp_path):
    extra = changed_archive(
        tmp_path,
        "INSERT INTO db_dbsetting (key, val, description, time) "
        "VALUES ('x', '1', '', '2024-01-01 00:00:00')",
    )

    summary = archive_import(str(extra))

    assert summary.skipped == ["db_dbsetting: 1 row(s)"]


def test_the_command_prints_every_kind(tmp_path, capsys):
    shutil.copy(SMALL, tmp_path / "a.aiida")
    call_command("archive", "import", str(tmp_path / "a.aiida"))
    out = capsys.readouterr().out
    counts = archive_counts(SMALL)
    for kind in ("computers", "authinfos", "comments", "logs"):
        assert f"{kind:<11} {counts[kind]} new, 0 existing" in out
