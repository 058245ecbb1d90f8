"""Malformed archives are refused with one line naming what is wrong, and
leave nothing behind; the same cases on SQLite and PostgreSQL, through the
service, the API and the command."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from aiidasite.exceptions import CorruptArchive, InputValidationError
from archives.services import archive_import
from nodes import services, types
from nodes.models import DbGroup, DbLink, DbNode
from repository import get_backend
from tests.archives.hostile import CASES, CYCLE_LINK, Case, build, node_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def hostile(bands_archive, tmp_path):
    def make(case: Case):
        return build(bands_archive, tmp_path / f"{case.name}.aiida", case)

    return make


def nothing_stored() -> bool:
    return (
        DbNode.objects.count(),
        DbLink.objects.count(),
        DbGroup.objects.count(),
        list(get_backend().list_objects()),
    ) == (0, 0, 0, [])


def test_the_unchanged_copy_imports(hostile):
    archive = hostile(Case("unchanged", ""))

    assert archive_import(str(archive)).nodes_new == 54


@pytest.mark.parametrize("case", CASES, ids=str)
def test_import_refuses_hostile_archive(hostile, case):
    archive = hostile(case)

    with pytest.raises(CorruptArchive) as refused:
        archive_import(str(archive))

    message = str(refused.value)
    assert case.expected in message
    assert "\n" not in message
    assert nothing_stored()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_api_answers_400_to_hostile_archive(
    hostile, staff_client, settings, tmp_path, case
):
    settings.AIIDASITE_TMP_DIR = str(tmp_path / "tmp")
    with open(hostile(case), "rb") as handle:
        response = staff_client.post(
            "/api/v1/archives/", {"file": handle}, format="multipart"
        )

    assert response.status_code == 400
    assert case.expected in response.json()["detail"]
    assert nothing_stored()
    # Neither the uploaded copy nor the extracted database stays.
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize("case", CASES, ids=str)
def test_command_exits_with_one_line_on_hostile_archive(hostile, case):
    with pytest.raises(CommandError) as refused:
        call_command("archive", "import", str(hostile(case)), stdout=io.StringIO())

    assert case.expected in str(refused.value)
    assert "\n" not in str(refused.value)
    assert nothing_stored()


SAME_RULES = [
    ("label = 'a' || char(0) || 'b'", {"label": "a\x00b"}),
    ("label = printf('%.300c', 'x')", {"label": "x" * 300}),
    ("node_type = '../../evil.'", {"node_type": "../../evil."}),
    ("attributes = '[1, 2]'", {"attributes": [1, 2]}),
    ("""attributes = '{"x": NaN}'""", {"attributes": {"x": float("nan")}}),
    ("""extras = '{"x": Infinity}'""", {"extras": {"x": float("inf")}}),
]


@pytest.mark.parametrize(("assignment", "fields"), SAME_RULES, ids=str)
def test_importer_and_api_writers_refuse_a_node_in_the_same_words(
    hostile, user, assignment, fields
):
    with pytest.raises(InputValidationError) as by_api:
        services.node_store(user=user, **{"node_type": types.DICT, **fields})
    archive = hostile(Case("same", "", sql=(node_update(assignment),)))
    with pytest.raises(CorruptArchive) as by_import:
        archive_import(str(archive))

    assert str(by_import.value).endswith(f": {by_api.value}")
    assert nothing_stored()


def test_a_cycle_through_links_stored_before_is_refused(hostile, bands_archive):
    archive_import(str(bands_archive))
    before = (DbNode.objects.count(), DbLink.objects.count())
    archive = hostile(Case("cycle", "", sql=(CYCLE_LINK,)))

    with pytest.raises(CorruptArchive, match="provenance cycle"):
        archive_import(str(archive))
    assert (DbNode.objects.count(), DbLink.objects.count()) == before


def test_a_renamed_group_label_still_fits_its_column(hostile, bands_archive):
    long_label = "g" * 255
    rename = f"UPDATE db_dbgroup SET label = '{long_label}'"
    archive_import(str(hostile(Case("first", "", sql=(rename,)))))
    other_uuid = "UPDATE db_dbgroup SET uuid = '00000000-0000-4000-8000-000000000001'"

    summary = archive_import(str(hostile(Case("second", "", sql=(rename, other_uuid)))))

    assert summary.renamed_groups == [f"{long_label} -> {'g' * 253}_1"]
    assert DbGroup.objects.filter(label=f"{'g' * 253}_1").exists()


def test_a_link_label_longer_than_its_column_is_refused_naming_the_row(hostile):
    long_label = "UPDATE db_dblink SET label = printf('%.300c', 'x') WHERE id = 1"
    archive = hostile(Case("long-label", "", sql=(long_label,)))

    with pytest.raises(CorruptArchive) as refused:
        archive_import(str(archive))

    assert str(refused.value).startswith("db_dblink row 1: invalid link label 'xxx")
    assert str(refused.value).endswith("(300 characters): at most 255 characters")
    assert nothing_stored()


def test_sealed_processes_keep_the_links_their_archive_holds(hostile):
    archive_import(str(hostile(Case("unchanged", ""))))

    sealed = DbNode.objects.filter(
        node_type__startswith="process.", attributes__sealed=True
    )
    assert sealed.exists()
    assert DbLink.objects.filter(input__in=sealed).exists()
    assert DbLink.objects.filter(output__in=sealed).exists()
