"""``process list|show`` as verdi has them."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from nodes import services

pytestmark = pytest.mark.django_db


def listed(*args: str) -> list[int]:
    out = io.StringIO()
    call_command("process", "list", *args, "--format", "json", stdout=out)
    return [row["pk"] for row in json.loads(out.getvalue())]


def test_list_shows_active_processes_by_default(processes):
    assert listed() == [processes["running"].pk, processes["waiting"].pk]


def test_list_all_states_oldest_first(processes):
    everything = listed("--all")
    assert everything[0] == processes["old"].pk
    assert set(everything) == {p.pk for n, p in processes.items() if n != "data"}


def test_list_filters_by_state_failed_past_days_and_group(processes, user):
    assert listed("-S", "excepted") == [processes["excepted"].pk]
    assert set(listed("-S", "running", "-S", "waiting")) == {
        processes["running"].pk,
        processes["waiting"].pk,
    }
    assert listed("--failed") == [processes["failed"].pk]
    assert processes["old"].pk not in listed("--all", "--past-days", "7")
    assert processes["ok"].pk in listed("--all", "--past-days", "7")
    group = services.group_create(user=user, label="batch")
    services.group_add_nodes(group=group, pks=[processes["ok"].pk])
    assert listed("--all", "--group", "batch") == [processes["ok"].pk]


def test_list_text_has_label_state_and_total(processes):
    out = io.StringIO()
    call_command("process", "list", "--all", stdout=out)
    text = out.getvalue()
    assert "PwCalculation" in text
    assert "Finished [310]" in text
    assert "Excepted" in text
    assert "Total results: 7" in text


def test_show_gives_exit_message_inputs_and_caller(processes):
    failed = processes["failed"]
    out = io.StringIO()
    call_command("process", "show", str(failed.pk), "--format", "json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["exit_status"] == 310
    assert data["exit_message"] == "The output file could not be read."
    assert data["inputs"] == [
        {
            "label": "x",
            "link_type": "input_calc",
            "pk": processes["data"].pk,
            "type": "Int",
        }
    ]
    assert [c["pk"] for c in data["caller"]] == [processes["workflow"].pk]
    text = io.StringIO()
    call_command("process", "show", str(processes["workflow"].pk), stdout=text)
    assert "Called" in text.getvalue()
    assert f"{failed.pk:>8}  CalcJobNode" in text.getvalue()
    assert "Log messages: 0" in text.getvalue()


def test_bad_arguments_are_one_line_errors(processes):
    with pytest.raises(CommandError, match="not a process"):
        call_command("process", "show", str(processes["data"].pk))
    with pytest.raises(CommandError, match="no node with pk 987654"):
        call_command("process", "show", "987654")
    with pytest.raises(CommandError, match="no group 'nope'"):
        call_command("process", "list", "--group", "nope")
    with pytest.raises(CommandError, match="past days must be a whole number"):
        call_command("process", "list", "--past-days", "0")
    # Beyond the shared limit, rather than overflowing the calendar.
    for days in ("365001", "999999999", "99999999999"):
        with pytest.raises(CommandError, match="from 1 to 365000, got"):
            call_command("process", "list", "--all", "--past-days", days)
        with pytest.raises(CommandError, match="from 1 to 365000, got"):
            call_command("bands", "list", "--past-days", days)
