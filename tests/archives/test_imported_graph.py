"""What the query side finds in an imported AiiDA archive."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from archives.services import archive_import
from nodes.models import DbLink, DbNode
from queries.manager import QueryManager

pytestmark = pytest.mark.django_db

# Hill formulas of the archive's structures, worked out by hand from their sites.
FORMULA_BY_STRUCTURE = {
    "structure-0": "AsGa",
    "structure-1": "Si",
    "structure-2": "MgO",
    "structure-3": "Si",
    "structure-4": "BaOTi",
    "structure-5": "BaOTi",
}


def structure_label_behind(bands: DbNode) -> str:
    calc = DbLink.objects.get(output=bands, type="create").input
    structure = DbLink.objects.get(
        output=calc, type="input_calc", input__node_type__contains="Structure"
    ).input
    return structure.label


def test_statistics_count_the_imported_nodes(bands_archive):
    archive_import(str(bands_archive))

    stats = QueryManager().get_creation_statistics()

    assert stats["total"] == 54
    assert stats["types"]["data.core.array.bands.BandsData."] == 6
    assert len(stats["types"]) == 9
    assert stats["ctime_by_day"] == {"2026-11-23": 54}


def test_each_bands_finds_its_structure_formula(bands_archive):
    archive_import(str(bands_archive))

    rows = QueryManager().get_bands_and_parents_structure()

    assert len(rows) == 6
    for row in rows:
        bands = DbNode.objects.get(pk=row["id"])
        assert row["formula"] == FORMULA_BY_STRUCTURE[structure_label_behind(bands)]


def test_bands_command_lists_the_imported_bands(bands_archive):
    archive_import(str(bands_archive))
    out = StringIO()

    call_command("bands", "list", "--all-users", "--format", "json", stdout=out)

    rows = json.loads(out.getvalue())
    assert sorted(row["formula"] for row in rows) == sorted(
        FORMULA_BY_STRUCTURE.values()
    )
