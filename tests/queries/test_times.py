"""Every surface writes times in TIME_ZONE, and days are that zone's days."""

from __future__ import annotations

import datetime
import json
import random
from io import StringIO

import pytest
from django.core.management import call_command

from aiidasite.times import format_time
from queries.statistics import creation_statistics
from settingsapp.manager import SettingsManager
from tests.queries.conftest import BANDS, INT

pytestmark = pytest.mark.django_db

MOMENT = datetime.datetime(2024, 3, 10, 20, 0, tzinfo=datetime.UTC)


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        ("Asia/Kolkata", "2024-03-11T01:30:00+05:30"),
        ("America/Caracas", "2024-03-10T16:00:00-04:00"),
        ("UTC", "2024-03-10T20:00:00Z"),
    ],
)
def test_commands_and_api_print_the_same_local_time(
    settings, api_client, graph, zone, shown
):
    settings.TIME_ZONE = zone
    node = graph.node(INT, ctime=MOMENT)
    bands = graph.node(BANDS, ctime=MOMENT)
    assert format_time(MOMENT) == shown
    assert api_client.get(f"/api/v1/nodes/{node.pk}/").json()["ctime"] == shown
    assert (
        json.loads(run("node", "show", str(node.pk), "--format", "json"))["ctime"]
        == shown
    )
    assert f"ctime         {shown}" in run("node", "show", str(node.pk))
    (row,) = api_client.get("/api/v1/bands/").json()["results"]
    (line,) = json.loads(run("bands", "list", "--format", "json"))
    assert row["ctime"] == line["ctime"] == shown
    assert row["id"] == line["id"] == bands.pk
    setting = SettingsManager().set("k", 1)
    assert setting.as_dict()["time"] == format_time(setting.time)


def test_one_users_days_on_a_former_half_hour_offset(settings, graph):
    settings.TIME_ZONE = "America/Caracas"  # -04:30 from 2007 to 2016
    graph.node(INT, ctime=datetime.datetime(2015, 6, 15, 4, 45, tzinfo=datetime.UTC))
    graph.node(INT, ctime=datetime.datetime(2025, 6, 15, 4, 45, tzinfo=datetime.UTC))
    everyone = creation_statistics()["ctime_by_day"]
    assert everyone == {"2015-06-15": 1, "2025-06-15": 1}
    assert creation_statistics(user_pk=graph.user.pk)["ctime_by_day"] == everyone


@pytest.mark.parametrize(
    "zone",
    [
        "America/Caracas",
        "Asia/Kolkata",
        "Asia/Kathmandu",
        "Australia/Lord_Howe",
        "America/St_Johns",
        "Europe/Amsterdam",  # +00:19:32 until 1937
        "Pacific/Kiritimati",
    ],
)
def test_one_users_days_agree_with_everyones_in_every_zone(settings, graph, zone):
    settings.TIME_ZONE = zone
    chance = random.Random(zone)
    start = datetime.datetime(1930, 1, 1, tzinfo=datetime.UTC)
    for _ in range(150):
        offset = datetime.timedelta(seconds=chance.randrange(100 * 365 * 86400))
        graph.node(INT, ctime=start + offset)
    everyone = creation_statistics()["ctime_by_day"]
    assert creation_statistics(user_pk=graph.user.pk)["ctime_by_day"] == everyone
    assert sum(everyone.values()) == 150


def test_query_command_prints_times_in_the_site_zone(settings, graph, tmp_path):
    settings.TIME_ZONE = "Asia/Kolkata"
    graph.node(INT, ctime=MOMENT)
    file = tmp_path / "q.json"
    file.write_text(json.dumps({"path": ["Int"], "project": {"int": ["ctime"]}}))
    assert run("query", str(file)).splitlines() == ["2024-03-11T01:30:00+05:30"]
    rows = json.loads(run("query", str(file), "--format", "json"))
    assert rows == [{"int": {"ctime": "2024-03-11T01:30:00+05:30"}}]


def test_querybuilder_api_writes_times_as_the_query_command(
    settings, graph, api_client, django_user_model
):
    settings.TIME_ZONE = "Asia/Kolkata"
    graph.node(INT, ctime=MOMENT)
    api_client.force_authenticate(graph.user)
    query = {"path": ["Int"], "project": {"int": ["ctime"]}}
    response = api_client.post("/api/v1/querybuilder/", query, format="json")
    assert response.json()["results"] == [
        {"int": {"ctime": "2024-03-11T01:30:00+05:30"}}
    ]
