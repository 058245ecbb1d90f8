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
    assert data["Objects"] == {"loose": 0, "packed": 2, "pack_files": 1}
    assert "Size (MB)" not in data


def test_info_detailed_as_text(configured_repository):
    get_backend().put_object_from_filelike(io.BytesIO(b"abc"))
    text = run("info", "--detailed")
    assert "loose: 1" in text
    assert "Size (MB):" in text
    assert "SHA-hash algorithm: sha256" in text
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
    assert get_backend().get_info()["Objects"]["loose"] == 1


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


def loose_files(folder: Path) -> list[Path]:
    return [path for path in (folder / "loose").rglob("*") if path.is_file()]


def test_maintain_leaves_no_loose_copy_of_what_it_packed(configured_repository):
    keys = [
        get_backend().put_object_from_filelike(io.BytesIO(b"object %d" % i))
        for i in range(30)
    ]
    assert len(loose_files(configured_repository)) == 30
    report = json.loads(run("maintain", "--format", "json", "--verbosity", "0"))
    assert report["live"] is True
    assert report["objects_after"] == {"loose": 0, "packed": 30, "pack_files": 1}
    assert loose_files(configured_repository) == []
    assert get_backend().get_object_content(keys[29]) == b"object 29"


def pack_size(folder: Path) -> int:
    return (folder / "packs" / "0").stat().st_size


def test_full_maintain_without_repack_keeps_deleted_bytes_in_the_pack(
    configured_repository,
):
    keys = get_backend().put_objects_from_bytes([b"a" * 1000, b"b" * 1000])
    get_backend().delete_objects([keys[0]])
    report = json.loads(run("maintain", "--full", "--no-repack", "--format", "json"))
    assert report["actions"] == ["pack_loose", "clean_storage", "do_vacuum"]
    assert pack_size(configured_repository) == 2000
    run("maintain", "--full")
    assert pack_size(configured_repository) == 1000
    assert get_backend().get_object_content(keys[1]) == b"b" * 1000


def test_maintain_compress_packs_compressible_content_smaller(configured_repository):
    content = b"a line that repeats\n" * 10_000
    key = get_backend().put_object_from_filelike(io.BytesIO(content))
    run("maintain", "--compress")
    assert pack_size(configured_repository) < len(content) // 10
    assert get_backend().get_object_content(key) == content


def test_no_repack_without_full_is_accepted_as_nothing_to_skip(configured_repository):
    key = get_backend().put_object_from_filelike(io.BytesIO(b"x"))
    report = json.loads(run("maintain", "--no-repack", "--format", "json"))
    assert report["actions"] == ["pack_loose", "clean_storage"]
    assert get_backend().get_object_content(key) == b"x"
