"""Real processes on a real database file or server: concurrent writers and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.settingsapp.conftest import BASE_DIR, Scratch

pytestmark = pytest.mark.slow

KEYS = 150

# Both writers start at the same wall-clock moment and create the same new
# keys in the same order, so nearly every key is raced for.
WRITER = """
import sys, time
import django
django.setup()
from settingsapp.manager import SettingsManager
start, worker, count = float(sys.argv[1]), sys.argv[2], int(sys.argv[3])
manager = SettingsManager()
while time.time() < start:
    time.sleep(0.001)
for index in range(count):
    manager.set(f"race.{index}", {"worker": worker, "index": index})
print("done")
"""


def test_two_processes_setting_the_same_new_keys_both_succeed(scratch: Scratch):
    start = time.time() + 4
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(start), name, str(KEYS)],
            cwd=BASE_DIR,
            env=scratch.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("first", "second")
    ]
    outcomes = [writer.communicate(timeout=180) for writer in writers]
    for writer, (out, err) in zip(writers, outcomes, strict=True):
        assert writer.returncode == 0, err
        assert out.strip() == "done"

    listing = scratch.manage("setting", "list", "--format", "json")
    assert listing.returncode == 0, listing.stderr
    race = [
        item for item in json.loads(listing.stdout) if item["key"].startswith("race.")
    ]
    assert len(race) == KEYS
    assert len({item["key"] for item in race}) == KEYS
    for item in race:
        index = int(item["key"].split(".")[1])
        assert item["value"]["index"] == index
        assert item["value"]["worker"] in {"first", "second"}


def test_plain_migrate_records_the_schema_version(scratch: Scratch):
    status = scratch.manage("schema", "status", "--format", "json")
    data = json.loads(status.stdout)
    assert data["state"] == "current"
    assert data["recorded_version"] == data["code_version"]
    assert data["recorded_version"]["settingsapp"] == "0001_initial"


def test_cli_round_trip_and_missing_key_exit_code(scratch: Scratch):
    written = scratch.manage(
        "setting", "set", "cli|a/b.c", '{"n": 1180591620717411303424}'
    )
    assert written.returncode == 0, written.stderr
    read = scratch.manage("setting", "get", "cli|a/b.c", "--format", "json")
    assert json.loads(read.stdout)["value"] == {"n": 2**70}

    for args in (("get", "cli.missing"), ("delete", "cli.missing")):
        missing = scratch.manage("setting", *args)
        assert missing.returncode == 1
        lines = missing.stderr.strip().splitlines()
        assert lines == ["CommandError: no setting with key 'cli.missing'"]


def test_cli_refuses_invalid_json_with_one_line(scratch: Scratch):
    result = scratch.manage("setting", "set", "cli.bad", "{oops")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "not valid JSON" in result.stderr
    assert scratch.manage("setting", "get", "cli.bad").returncode == 1


def test_commands_refuse_a_database_newer_than_the_code(scratch: Scratch):
    scratch.sql(
        "INSERT INTO django_migrations (app, name, applied) "
        "VALUES ('settingsapp', '9999_future', CURRENT_TIMESTAMP)"
    )
    try:
        listing = scratch.manage("setting", "list")
        assert listing.returncode == 1
        assert "settingsapp.E001" in listing.stderr
        assert "9999_future" in listing.stderr
        migrate = scratch.manage("schema", "migrate")
        assert migrate.returncode == 1
        assert migrate.stderr.strip().splitlines() == [
            "CommandError: the database schema is newer than this code: it has "
            "applied migrations the code does not know (settingsapp.9999_future); "
            "use a newer release"
        ]
        server = scratch.manage("runserver", "--noreload", "127.0.0.1:0", timeout=90)
        assert server.returncode == 1
        assert "settingsapp.E001" in server.stderr
        status = scratch.manage("schema", "status", "--format", "json")
        assert json.loads(status.stdout)["state"] == "ahead"
    finally:
        scratch.sql("DELETE FROM django_migrations WHERE name = '9999_future'")
    assert scratch.manage("setting", "list").returncode == 0


def test_check_says_migrate_before_the_database_exists(tmp_path):
    env = Scratch(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path).env()
    env.pop("DATABASE_URL")

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    checked = manage("check")
    assert checked.returncode == 1
    assert "settingsapp.E003" in checked.stderr
    assert "run `python manage.py migrate` to create it" in checked.stderr
    # The check must not create the SQLite file as a side effect.
    assert not (tmp_path / "db.sqlite3").exists()
    # Writing migrations needs no database.
    dry_run = manage("makemigrations", "--check", "--dry-run")
    assert dry_run.returncode == 0, dry_run.stderr
