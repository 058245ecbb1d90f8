"""A database that cannot be used is one error line saying what to do.

Each case runs ``manage.py`` in a subprocess on a database of its own, so
the site's settings are read as a user's shell would give them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import dj_database_url
import psycopg2
import pytest
from django.db import connection

from settingsapp.checks import check_schema_version

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, **env}
    if "DATABASE_URL" not in env:
        environment.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    """The check's error lines; no traceback around them."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    return [line for line in result.stderr.splitlines() if "settingsapp.E" in line]


def postgres_server() -> str:
    """A reachable PostgreSQL server's URL base, or skip the test."""
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x")
    params = dj_database_url.parse(url)
    if params["ENGINE"] != "django.db.backends.postgresql":
        params = dj_database_url.parse("postgres://postgres@127.0.0.1:5432/x")
    try:
        psycopg2.connect(
            dbname="postgres",
            user=params["USER"],
            password=params["PASSWORD"],
            host=params["HOST"],
            port=params["PORT"],
            connect_timeout=3,
        ).close()
    except psycopg2.Error:
        pytest.skip("no PostgreSQL server to ask for a missing database")
    auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    return f"postgres://{auth}@{params['HOST']}:{params['PORT']}"


def test_unmigrated_sqlite_database_says_migrate_and_creates_no_file(tmp_path):
    result = manage("setting", "list", AIIDASITE_DATA_DIR=str(tmp_path))
    (line,) = error_lines(result)
    assert "settingsapp.E003" in line and "python manage.py migrate" in line
    assert not (tmp_path / "db.sqlite3").exists()
    # migrate itself is not refused, and creates the database.
    assert manage("migrate", "-v0", AIIDASITE_DATA_DIR=str(tmp_path)).returncode == 0
    assert manage("setting", "list", AIIDASITE_DATA_DIR=str(tmp_path)).returncode == 0


def test_empty_sqlite_database_is_reported_as_not_migrated(tmp_path):
    (tmp_path / "db.sqlite3").touch()
    result = manage("statistics", AIIDASITE_DATA_DIR=str(tmp_path))
    (line,) = error_lines(result)
    assert "settingsapp.E004" in line
    assert "has not been migrated: run `python manage.py migrate`" in line


def test_missing_postgresql_database_says_createdb():
    name = f"aiidasite_missing_{uuid.uuid4().hex[:8]}"
    result = manage("node", "show", "1", DATABASE_URL=f"{postgres_server()}/{name}")
    (line,) = error_lines(result)
    assert f"`createdb {name}`" in line


def test_unreachable_postgresql_says_start_the_server():
    result = manage("statistics", DATABASE_URL="postgres://postgres@127.0.0.1:1/x")
    (line,) = error_lines(result)
    assert "cannot connect to PostgreSQL at 127.0.0.1:1" in line
    assert "start the server or correct DATABASE_URL" in line


@pytest.mark.django_db
def test_check_reports_an_unmigrated_database_except_to_migrate():
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations")
    assert [m.id for m in check_schema_version()] == ["settingsapp.E004"]
    assert check_schema_version(databases=["default"]) == []


@pytest.mark.django_db
def test_api_answers_503_json_while_the_database_is_not_migrated(api_client, settings):
    settings.MIDDLEWARE = [
        "settingsapp.middleware.SchemaVersionMiddleware",
        *settings.MIDDLEWARE,
    ]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations")
    response = api_client.get("/api/v1/")
    assert response.status_code == 503
    assert "migrate" in response.json()["detail"]


def test_empty_database_url_means_the_default_sqlite_file(tmp_path):
    result = manage("statistics", DATABASE_URL="", AIIDASITE_DATA_DIR=str(tmp_path))
    (line,) = error_lines(result)
    assert "settingsapp.E003" in line and str(tmp_path / "db.sqlite3") in line


@pytest.mark.parametrize("url", ["bogus://x", "nonsense"])
def test_a_url_of_no_database_is_one_line_naming_database_url(url):
    result = manage("statistics", DATABASE_URL=url)
    assert result.returncode == 1
    assert result.stderr.startswith("ImproperlyConfigured: DATABASE_URL is not a")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_sqlite_file_in_a_missing_folder_says_so_and_migrate_refuses(tmp_path):
    url = f"sqlite:///{tmp_path}/missing/db.sqlite3"
    (line,) = error_lines(manage("statistics", DATABASE_URL=url))
    assert f"the folder {tmp_path}/missing of the database file does not exist" in line
    result = manage("migrate", "-v0", DATABASE_URL=url)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"CommandError: Database 'default': the folder {tmp_path}/missing of the "
        "database file does not exist: create it or correct DATABASE_URL, then run "
        "`python manage.py migrate`."
    ]
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["statistics", "--user", "\udcff"],
        ["computer", "show", "\udcff"],
        ["comment", "add", "12", "hi", "--user", "\udcff"],
        ["group", "show", "a\udcffb"],
        ["process", "list", "--group", "\udcff"],
        ["archive", "export", "F", "--groups", "\udcff"],
    ],
    ids=lambda argv: argv[0],
)
def test_arguments_not_valid_utf8_are_one_line_for_every_command(argv):
    # "\udcff" is how Python holds the byte 0xff of an argument; the
    # subprocess passes it on as that byte.
    result = manage(*argv)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"CommandError: argument {argv[-1]!a} is not valid UTF-8"
    ]
