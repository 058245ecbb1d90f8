"""Settings: writes (upserts) and reads by key through the manager vs raw SQL."""

from __future__ import annotations

import json
from pathlib import Path

from bench.registry import Stopwatch, Timing, settle, workload


@workload("settings.set", small=1_000, medium=5_000, large=20_000)
def settings_set(n: int, workdir: Path) -> Timing:
    """Create then update n settings one by one (manager upsert vs raw SQL)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from settingsapp.manager import SettingsManager

    manager = SettingsManager()
    values = [{"index": i, "nested": [i, str(i), None]} for i in range(n)]
    ours, reference = Stopwatch(), Stopwatch()
    with ours():
        for round_ in range(2):
            for i, value in enumerate(values):
                manager.set(f"bench.ours.{i}", value, description=f"round {round_}")
    upsert = (
        "INSERT INTO db_dbsetting (key, val, description, time) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT (key) DO UPDATE SET "
        "val = EXCLUDED.val, description = EXCLUDED.description, time = EXCLUDED.time"
    )
    with reference(), connection.cursor() as cursor:
        for round_ in range(2):
            for i, value in enumerate(values):
                # One transaction per write, as the manager does.
                with transaction.atomic():
                    cursor.execute(
                        upsert,
                        [
                            f"bench.raw.{i}",
                            json.dumps(value),
                            f"round {round_}",
                            timezone.now(),
                        ],
                    )
    return Timing(ours.seconds, reference.seconds, reference="raw SQL", unit="upserts")


@workload("settings.get", small=1_000, medium=5_000, large=20_000)
def settings_get(n: int, workdir: Path) -> Timing:
    """Read n settings one by one by key (manager vs raw SQL)."""
    from django.db import connection

    from settingsapp.manager import SettingsManager

    manager = SettingsManager()
    keys = [f"bench.get.{i}" for i in range(n)]
    for i, key in enumerate(keys):
        manager.set(key, {"index": i})
    settle()
    ours, reference = Stopwatch(), Stopwatch()
    with ours():
        for key in keys:
            manager.get(key)
    with reference(), connection.cursor() as cursor:
        for key in keys:
            cursor.execute(
                "SELECT key, val, description, time FROM db_dbsetting WHERE key = %s",
                [key],
            )
            row = cursor.fetchone()
            json.loads(row[1])
    return Timing(ours.seconds, reference.seconds, reference="raw SQL", unit="reads")
