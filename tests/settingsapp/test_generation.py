"""A real squash: migrate a throwaway app's old generation, then reset it.

The app ``genapp`` and two migration packages are written to a temporary
folder: ``genapp_gen1`` (0001_initial, 0002_sample_size) is the old
generation; ``genapp_gen2`` squashes both into 0001_squashed and adds
0002_sample_label. ``MIGRATION_MODULES`` picks which generation the code has.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import override_settings

from aiidasite.exceptions import IncompatibleDatabaseSchema, NotExistent
from settingsapp.schema import BackendManager, GenerationReset, SchemaState

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

MIGRATIONS = {
    "genapp_gen1/0001_initial.py": """
        operations = [
            migrations.CreateModel(
                name="Sample",
                fields=[
                    ("id", models.AutoField(primary_key=True)),
                    ("name", models.CharField(max_length=50)),
                ],
                options={"db_table": "genapp_sample"},
            ),
        ]
    """,
    "genapp_gen1/0002_sample_size.py": """
        dependencies = [("genapp", "0001_initial")]
        operations = [
            migrations.AddField("sample", "size", models.IntegerField(default=0)),
        ]
    """,
    "genapp_gen2/0001_squashed.py": """
        initial = True
        operations = [
            migrations.CreateModel(
                name="Sample",
                fields=[
                    ("id", models.AutoField(primary_key=True)),
                    ("name", models.CharField(max_length=50)),
                    ("size", models.IntegerField(default=0)),
                ],
                options={"db_table": "genapp_sample"},
            ),
        ]
    """,
    "genapp_gen2/0002_sample_label.py": """
        dependencies = [("genapp", "0001_squashed")]
        operations = [
            migrations.AddField(
                "sample", "label", models.CharField(max_length=20, default="")
            ),
        ]
    """,
}

RESET = GenerationReset(
    generation=2,
    old_migrations={"genapp": ("0001_initial", "0002_sample_size")},
    new_migrations={"genapp": ("0001_squashed",)},
)


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("generations")
    for package in ("genapp", "genapp_gen1", "genapp_gen2"):
        (root / package).mkdir()
        (root / package / "__init__.py").write_text("")
    for path, body in MIGRATIONS.items():
        (root / path).write_text(
            "from django.db import migrations, models\n\n\n"
            "class Migration(migrations.Migration):\n"
            + textwrap.indent(textwrap.dedent(body), "    ")
        )
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    for name in list(sys.modules):
        if name.split(".")[0] in {"genapp", "genapp_gen1", "genapp_gen2"}:
            del sys.modules[name]


def generation(number: int):
    """The code as it was at ``number``: genapp installed with that generation."""
    from django.conf import settings

    return override_settings(
        INSTALLED_APPS=[*settings.INSTALLED_APPS, "genapp"],
        MIGRATION_MODULES={"genapp": f"genapp_gen{number}"},
    )


def genapp_rows() -> set[str]:
    recorder = MigrationRecorder(connection)
    return set(
        recorder.migration_qs.filter(app="genapp").values_list("name", flat=True)
    )


def columns() -> set[str]:
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(
            cursor, "genapp_sample"
        )
    return {column.name for column in description}


def manager(code_generation: int) -> BackendManager:
    return BackendManager(
        app_labels=["genapp"], generation=code_generation, resets=[RESET]
    )


@pytest.fixture
def cleanup(packages: Path) -> Iterator[None]:
    """Leave neither the table nor its migration rows to the next test."""
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS genapp_sample")
    MigrationRecorder(connection).migration_qs.filter(app="genapp").delete()


def build_old_generation(target: str = "0002_sample_size") -> None:
    with generation(1):
        call_command("migrate", "genapp", target, verbosity=0)
        manager(1).set_schema_generation_database(1)
        manager(1).record_schema_version()


def test_reset_version_is_the_last_migration_of_the_old_generation():
    assert manager(2).get_schema_version_reset(2) == {"genapp": "0002_sample_size"}
    with pytest.raises(NotExistent):
        manager(2).get_schema_version_reset(3)


def test_squashed_generation_takes_over_a_database_at_the_reset_version(cleanup):
    build_old_generation()
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO genapp_sample (name, size) VALUES ('kept', 7)")
    assert genapp_rows() == {"0001_initial", "0002_sample_size"}
    assert manager(1).get_schema_version_database() == {"genapp": "0002_sample_size"}

    with generation(2):
        backend = manager(2)
        status = backend.status()
        assert status.state is SchemaState.NEEDS_RESET
        assert "schema migrate" in status.describe()

        result = backend.migrate()

        assert result.generations_reset == [2]
        assert ("genapp", "0002_sample_label") in result.applied
        assert genapp_rows() == {"0001_squashed", "0002_sample_label"}
        assert backend.get_schema_generation_database() == 2
        assert backend.status().state is SchemaState.CURRENT
        assert backend.get_schema_version_database() == {"genapp": "0002_sample_label"}
    assert columns() == {"id", "name", "size", "label"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, size, label FROM genapp_sample")
        assert cursor.fetchall() == [("kept", 7, "")]


def test_reset_refuses_a_database_not_exactly_at_the_reset_version(cleanup):
    build_old_generation(target="0001_initial")
    with generation(2):
        backend = manager(2)
        with pytest.raises(IncompatibleDatabaseSchema) as raised:
            backend.migrate()
        assert "must be exactly at 0002_sample_size" in str(raised.value)
        assert "has applied 0001_initial" in str(raised.value)
        assert genapp_rows() == {"0001_initial"}
        assert backend.get_schema_generation_database() == 1
    assert columns() == {"id", "name"}


def test_reset_refuses_when_no_reset_is_defined(cleanup):
    build_old_generation()
    with generation(2):
        backend = BackendManager(app_labels=["genapp"], generation=2, resets=[])
        with pytest.raises(IncompatibleDatabaseSchema, match="defines no reset"):
            backend.migrate()
        assert genapp_rows() == {"0001_initial", "0002_sample_size"}


def test_old_code_refuses_a_database_of_the_new_generation(cleanup):
    build_old_generation()
    with generation(2):
        manager(2).migrate()
    with generation(1):
        backend = manager(1)
        assert backend.status().state is SchemaState.AHEAD
        with pytest.raises(IncompatibleDatabaseSchema, match="generation 2"):
            backend.migrate()
