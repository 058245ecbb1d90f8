"""``manage.py repository`` through call_command and a real subprocess."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from repository import get_backend
from repository.management.commands.repository import progress_callback
from repository.services import (
    register_reference_provider,
    unregister_reference_provider,
)

pytestmark = pytest.mark.usefixtures("no_reference_providers")

MANAGE = Path(settings.BASE_DIR) / "manage.py"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("repository", *args, stdout=out)
    return out.getvalue()


def manage(*args: str, repository: Path) -> subprocess.CompletedProcess:
    """Run ``manage.py`` with its own SQLite file and repository folder."""
    env = {
        **os.environ,
        "AIIDASITE_REPOSITORY_PATH": str(repository),
        "AIIDASITE_DATA_DIR": str(repository.parent),
    }
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, str(MANAGE), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_info_as_json(configured_repository):
    get_backend().put_objects_from_bytes([b"a", b"b"])
    data = json.loads(run("info", "--format", "json"))
    assert data["objects"] == {"loose": 0, "packed": 2, "pack_files": 1}
    assert "size" not in data


def test_info_detailed_as_text(configured_repository):
    get_backend().put_object_from_filelike(io.BytesIO(b"abc"))
    text = run("info", "--detailed")
    assert "loose: 1" in text
    assert "size:" in text
    assert f"folder: {configured_repository.resolve()}" in text


def test_maintain_packs_loose_objects(configured_repository):
    keys = [
        get_backend().put_object_from_filelike(io.BytesIO(b"%d" % i)) for i in range(4)
    ]
    report = json.loads(run("maintain", "--format", "json", "--verbosity", "0"))
    assert report["objects_after"]["packed"] == 4
    assert get_backend().get_object_content(keys[2]) == b"2"


def test_maintain_full_dry_run_changes_nothing(configured_repository):
    get_backend().put_object_from_filelike(io.BytesIO(b"x"))
    text = run("maintain", "--full", "--dry-run")
    assert "dry run: True" in text
    assert get_backend().get_info()["objects"]["loose"] == 1


def test_maintain_deletes_unreferenced_objects_once_a_provider_exists(
    configured_repository,
):
    backend = get_backend()
    kept = backend.put_object_from_filelike(io.BytesIO(b"kept"))
    orphan = backend.put_object_from_filelike(io.BytesIO(b"orphan"))

    def provider() -> list[str]:
        return [kept]

    register_reference_provider(provider)
    try:
        dry = json.loads(run("maintain", "--dry-run", "--format", "json"))
        assert (dry["unreferenced"], dry["deleted"]) == (1, 0)
        assert backend.has_object(orphan)
        done = json.loads(run("maintain", "--format", "json"))
    finally:
        unregister_reference_provider(provider)
    assert done["deleted"] == 1
    assert backend.has_objects([kept, orphan]) == [True, False]


def test_verify_passes_on_a_healthy_repository(configured_repository):
    get_backend().put_objects_from_bytes([b"ok"])
    assert "ok: True" in run("verify")


def test_verify_fails_with_one_line_on_a_corrupt_object(configured_repository):
    key = get_backend().put_object_from_filelike(io.BytesIO(b"original"))
    (configured_repository / "loose" / key[:2] / key[2:]).write_bytes(b"changed")
    with pytest.raises(CommandError, match="1 corrupt, 0 missing"):
        run("verify")


def test_verify_exits_1_with_one_stderr_line_in_a_real_process(tmp_path):
    repository = tmp_path / "repo"
    assert manage("migrate", "-v0", repository=repository).returncode == 0
    assert manage("repository", "info", repository=repository).returncode == 0
    loose = repository / "loose" / "ab"
    loose.mkdir(parents=True)
    (loose / ("c" * 62)).write_bytes(b"not the content of that hash")
    result = manage("repository", "verify", "--verbosity", "0", repository=repository)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "CommandError: repository verification failed: 1 corrupt, 0 missing object(s)"
    ]
    assert "corrupt: 1" in result.stdout


def test_an_unknown_action_is_refused(configured_repository):
    with pytest.raises(CommandError):
        run("explode")


def test_a_provider_failing_on_a_missing_table_is_one_line_not_a_traceback(tmp_path):
    repository = tmp_path / "repo"
    # No migrate (and no system check, which would say so): a reference
    # provider that reads nodes finds no table.
    result = manage(
        "repository", "--skip-checks", "maintain", "--dry-run", repository=repository
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("CommandError: reference provider ")


def test_a_failing_reference_provider_stops_maintain_with_one_line(
    configured_repository,
):
    key = get_backend().put_object_from_filelike(io.BytesIO(b"kept"))

    def broken() -> list[str]:
        raise RuntimeError("database unavailable")

    register_reference_provider(broken)
    try:
        with pytest.raises(CommandError, match="broken failed: database unavailable"):
            run("maintain")
    finally:
        unregister_reference_provider(broken)
    assert get_backend().has_object(key)


def test_the_progress_callback_draws_one_bar_per_phase(capsys):
    assert progress_callback(False) is None
    callback = progress_callback(True)
    callback("init", {"total": 4, "description": "Packing"})
    callback("update", 4)
    callback("close", None)
    callback("update", 1)  # after close: ignored, not an error
    assert "Packing" in capsys.readouterr().err
