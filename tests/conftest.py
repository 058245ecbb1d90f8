"""Fixtures shared by every test module."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db.backends.signals import connection_created
from django.test import override_settings
from rest_framework.test import APIClient

from repository.handler import reset_backend

# Larger data beside the repository (``../shared/data``); a fresh clone has
# none, so tests that read it skip.
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--sqlite-max-variables",
        type=int,
        default=int(os.environ.get("AIIDASITE_TEST_SQLITE_MAX_VARIABLES") or 0),
        help="Lower SQLite's limit on bound parameters per statement on every "
        "connection (999 is the limit of SQLite builds before 3.32); also "
        "AIIDASITE_TEST_SQLITE_MAX_VARIABLES.",
    )


def pytest_configure(config: pytest.Config) -> None:
    limit = config.getoption("--sqlite-max-variables")
    if not limit:
        return

    def lower_limit(sender, connection, **kwargs) -> None:
        if connection.vendor == "sqlite":
            connection.connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, limit)

    # Connected before any database connection opens, so every one is lowered.
    connection_created.connect(lower_limit, weak=False)


@pytest.fixture(autouse=True, scope="session")
def isolated_repository(tmp_path_factory: pytest.TempPathFactory):
    """Keep every test's files out of the developer's ./data folder."""
    folder = tmp_path_factory.mktemp("repository")
    with override_settings(
        AIIDASITE_REPOSITORY_PATH=folder,
        AIIDASITE_REPOSITORY={
            "BACKEND": "repository.backends.DiskObjectStoreRepositoryBackend",
            "OPTIONS": {"folder": str(folder)},
        },
    ):
        yield folder


@pytest.fixture
def configured_repository(settings, tmp_path: Path) -> Path:
    """Point the site's repository setting at an empty folder for one test."""
    folder = tmp_path / "site-repository"
    settings.AIIDASITE_REPOSITORY_PATH = folder
    settings.AIIDASITE_REPOSITORY = {
        "BACKEND": "repository.backends.DiskObjectStoreRepositoryBackend",
        "OPTIONS": {"folder": str(folder)},
    }
    yield folder
    reset_backend()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """Users made by fixtures need no real key stretching."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_request_counts() -> None:
    """Each test starts with no requests counted by the API's throttles."""
    cache.clear()


@pytest.fixture
def shared_data() -> Path:
    """The ``../shared/data`` folder; the test is skipped when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent (a clone without ../shared)")
    return SHARED_DATA


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="pw")


@pytest.fixture
def staff_client(django_user_model) -> APIClient:
    staff = django_user_model.objects.create_user(
        username="staff", password="pw", is_staff=True
    )
    client = APIClient()
    client.force_authenticate(staff)
    return client


@pytest.fixture
def aiida_core(tmp_path: Path) -> Callable[..., str]:
    """Run a script with aiida-core on a fresh profile of its own; its stdout.

    aiida-core lives in a separate virtual environment whose python
    ``AIIDASITE_AIIDA_PYTHON`` names (``.ci/run`` installs one); without it the
    test is skipped.
    """
    python = Path(os.environ.get("AIIDASITE_AIIDA_PYTHON", "/nonexistent"))
    if not python.is_file():
        pytest.skip("set AIIDASITE_AIIDA_PYTHON to a python with aiida-core installed")
    env = {**os.environ, "AIIDA_PATH": str(tmp_path / "aiida")}
    subprocess.run(
        [str(python.with_name("verdi")), "presto", "--profile-name", "tests"],
        env=env,
        check=True,
        capture_output=True,
    )

    def run(script: str, *args: str) -> str:
        result = subprocess.run(
            [str(python), "-c", script, *args], env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    return run
