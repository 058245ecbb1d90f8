"""Safe defaults: DEBUG off, a key of the site's own, `check --deploy` clean."""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def documented_environment() -> dict[str, str]:
    """The variables README's "Production" section exports (the database
    aside: its host exists only in the example)."""
    text = (ROOT / "README.md").read_text().split("## Production", 1)[1]
    command = text.split("```sh", 1)[1].split("```", 1)[0]
    export = command.split("export ", 1)[1].split("\n.venv", 1)[0]
    words = shlex.split(export.replace("\\\n", " "))
    env = dict(word.split("=", 1) for word in words)
    env.pop("DATABASE_URL")
    return env


PRODUCTION = documented_environment()
SWITCHES = ("DEBUG", "SECRET_KEY", "DATABASE_URL", *PRODUCTION)


def site(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """``manage.py ARGS`` in a fresh process with only ``env`` set."""
    clean = {k: v for k, v in os.environ.items() if k not in SWITCHES}
    clean["AIIDASITE_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
    )


def setting(tmp_path: Path, name: str, **env: str) -> str:
    result = site(
        tmp_path,
        "shell",
        "-c",
        f"from django.conf import settings; print(settings.{name})",
        **env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_debug_is_off_unless_asked(tmp_path):
    assert setting(tmp_path, "DEBUG") == "False"
    assert setting(tmp_path, "DEBUG", DEBUG="true") == "True"


def test_the_secret_key_is_made_once_per_site_and_kept_private(tmp_path):
    first = setting(tmp_path, "SECRET_KEY")
    second = setting(tmp_path, "SECRET_KEY")
    elsewhere = setting(tmp_path / "other", "SECRET_KEY")

    key_file = tmp_path / "data" / "secret_key"
    assert first == second == key_file.read_text().strip()
    assert len(first) >= 50 and first != elsewhere
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert setting(tmp_path, "SECRET_KEY", SECRET_KEY="x" * 60) == "x" * 60


def test_an_unreadable_key_file_is_one_line(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret_key").write_text("short")

    result = site(tmp_path, "check")

    assert result.returncode == 1
    assert "holds no usable key; delete it or set SECRET_KEY" in result.stderr


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site folder whose database is migrated, as README's command leaves it."""
    folder = tmp_path_factory.mktemp("site")
    result = site(folder, "migrate", "-v0")
    assert result.returncode == 0, result.stderr
    return folder


def test_check_deploy_is_clean_with_the_documented_environment(migrated):
    result = site(
        migrated, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("env", "warning"),
    [
        ({"DEBUG": "true"}, "security.W018"),
        ({"SECURE_HSTS_SECONDS": "0"}, "security.W004"),
        ({"SESSION_COOKIE_SECURE": "false"}, "security.W012"),
    ],
)
def test_check_deploy_flags_each_switch_left_off(migrated, env, warning):
    result = site(
        migrated,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **{**PRODUCTION, **env},
    )

    assert result.returncode == 1
    assert warning in result.stderr


def test_a_bad_throttle_rate_is_refused_in_one_line(tmp_path):
    result = site(tmp_path, "check", AIIDASITE_THROTTLE_LOGIN="ten per minute")

    assert result.returncode == 1
    assert "AIIDASITE_THROTTLE_LOGIN must be a rate like 10/minute" in result.stderr
