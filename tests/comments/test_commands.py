"""manage.py comment add|show|remove."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError

from comments.models import DbComment
from tests.related_graph import run

pytestmark = pytest.mark.django_db


def test_add_then_show_then_remove(graph):
    calc = graph["calc"]
    run("comment", "add", calc.pk, "second look", "--user", "ada@example.org")
    rows = json.loads(run("comment", "show", calc.pk, "--format", "json"))
    assert [row["content"] for row in rows] == ["looks right", "second look"]
    assert rows[1]["user"] == "ada@example.org"
    assert "second look" in run("comment", "show", calc.pk)
    run("comment", "remove", rows[1]["id"])
    assert list(DbComment.objects.values_list("content", flat=True)) == ["looks right"]


def test_add_writes_as_the_first_superuser_by_default(graph, django_user_model):
    boss = django_user_model.objects.create(username="boss", is_superuser=True)
    run("comment", "add", graph["calc"].pk, "ok")
    assert DbComment.objects.get(content="ok").user == boss


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "999999", "hi", "--user", "ada"), "no node with pk 999999"),
        (("add", "{calc}", "  ", "--user", "ada"), "needs some content"),
        (("add", "{calc}", "hi", "--user", "nobody"), "no user 'nobody'"),
        (("add", "{calc}", "hi"), "no superuser"),
        (("remove", "424242"), "no comment with pk 424242"),
        (("show", "nope"), "no node"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(graph, args, message):
    args = [arg.format(calc=graph["calc"].pk) for arg in args]
    with pytest.raises(CommandError, match=message):
        run("comment", *args)
    assert DbComment.objects.count() == 1
