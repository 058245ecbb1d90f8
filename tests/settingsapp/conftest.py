"""A scratch database of the same kind as the test database, for other processes.

pytest's test database lives inside a transaction (or in memory), so tests
that run real commands in separate processes get a database of their own: a
SQLite file, or a separate PostgreSQL database, migrated by ``manage.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)


@dataclass
class Scratch:
    url: str
    data_dir: Path

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.url,
            "AIIDASITE_DATA_DIR": str(self.data_dir),
            "DJANGO_SETTINGS_MODULE": "aiidasite.settings",
        }

    def manage(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def sql(self, statement: str) -> None:
        """Run one statement on the scratch database, outside any check."""
        code = (
            "from django.db import connection\n"
            "with connection.cursor() as cursor:\n"
            f"    cursor.execute({statement!r})\n"
        )
        result = self.manage("shell", "-c", code)
        assert result.returncode == 0, result.stderr


def _postgres_admin():
    import psycopg2

    params = connection.settings_dict
    admin = psycopg2.connect(
        dbname="postgres",
        user=params["USER"],
        password=params["PASSWORD"] or None,
        host=params["HOST"] or None,
        port=params["PORT"] or None,
    )
    admin.autocommit = True
    return admin


def _postgres_url(name: str) -> str:
    params = connection.settings_dict
    auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    return f"postgres://{auth}@{params['HOST']}:{params['PORT'] or 5432}/{name}"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scratch]:
    """A migrated database of the test database's kind, for subprocesses."""
    data_dir = tmp_path_factory.mktemp("scratch")
    if connection.vendor == "sqlite":
        yield from _migrated(Scratch(f"sqlite:///{data_dir / 'db.sqlite3'}", data_dir))
        return
    name = f"aiidasite_settingsapp_scratch_{os.getpid()}"
    admin = _postgres_admin()
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield from _migrated(Scratch(_postgres_url(name), data_dir))
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _migrated(scratch: Scratch) -> Iterator[Scratch]:
    result = scratch.manage("migrate", "-v0")
    assert result.returncode == 0, result.stderr
    yield scratch
