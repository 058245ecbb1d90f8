"""``manage.py archive``: real command runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from nodes.models import DbNode
from tests.archives.legacy_archives import write_legacy_archive

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> str:
    out = StringIO()
    call_command("archive", *args, stdout=out)
    return out.getvalue()


def test_import_prints_a_summary_then_reports_nothing_new(bands_archive):
    first = run("import", str(bands_archive))
    second = run("import", str(bands_archive))

    assert "nodes       54 new, 0 existing" in first
    assert "files       14 new" in first
    assert "nothing new" in second
    assert DbNode.objects.count() == 54


def test_inspect_as_json_does_not_import(bands_archive):
    info = json.loads(run("inspect", str(bands_archive), "--format", "json"))

    assert info["counts"]["nodes"] == 54
    assert DbNode.objects.count() == 0


def test_inspect_as_text_lists_node_types(bands_archive):
    text = run("inspect", str(bands_archive))

    assert "main_0001" in text
    assert "data.core.array.bands.BandsData." in text


def test_export_writes_a_file_the_importer_reads(bands_archive, tmp_path):
    run("import", str(bands_archive))
    target = tmp_path / "group.aiida"

    text = run("export", str(target), "--groups", "bands-set-1")

    assert "Wrote" in text and target.exists()
    info = json.loads(run("inspect", str(target), "--format", "json"))
    assert info["counts"]["groups"] == 1


def test_errors_are_command_errors(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run("import", str(tmp_path / "missing.aiida"))
    with pytest.raises(CommandError, match="no group with label"):
        run("export", str(tmp_path / "x.aiida"), "--groups", "nope")


def test_a_bad_archive_exits_1_with_one_line(tmp_path):
    bad = tmp_path / "bad.aiida"
    bad.write_text("not a zip")
    env = {**os.environ, "AIIDASITE_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True
    )

    result = subprocess.run(
        [sys.executable, "manage.py", "archive", "import", str(bad)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "neither a zip nor a tar archive" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_error_among_several_files_names_the_file(bands_archive, tmp_path):
    broken = tmp_path / "broken.aiida"
    write_legacy_archive(
        broken, "0.4", members={"data.json": b'{"export_data": {"Node": {"1": '}
    )

    with pytest.raises(CommandError) as error:
        run("import", str(bands_archive), str(broken))

    message = str(error.value)
    assert message.startswith(f"{broken}: ")
    assert "data.json is not valid JSON" in message
    # The file before it was imported, as its summary said.
    assert DbNode.objects.count() == 54


def test_export_refuses_all_with_nodes_or_groups(bands_archive, tmp_path):
    run("import", str(bands_archive))
    node = DbNode.objects.order_by("pk").first()
    for extra in (("--nodes", str(node.pk)), ("--groups", "anything")):
        target = tmp_path / "out.aiida"
        with pytest.raises(CommandError, match="without nodes or groups"):
            run("export", str(target), "--all", *extra)
        assert not target.exists()
