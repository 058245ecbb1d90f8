"""Lookups compiled once per connection give what the ORM gives."""

from __future__ import annotations

import pytest

from aiidasite.prepared import PreparedLookup, numbered
from nodes.models import DbNode
from settingsapp.manager import SettingsManager
from settingsapp.models import DbSetting

pytestmark = pytest.mark.django_db

BY_PK = PreparedLookup(lambda pk: DbNode.objects.select_related("user").filter(pk=pk))


def test_a_node_read_twice_equals_the_orm_row(user):
    node = DbNode.objects.create(
        node_type="data.core.dict.Dict.",
        user=user,
        label="x",
        attributes={"a": [1, 2.5, None, {"b": "ü"}]},
        extras={"k": True},
    )
    expected = DbNode.objects.get(pk=node.pk)
    for _ in range(2):
        found = BY_PK.get(node.pk)
        assert found is not None
        for field in DbNode._meta.concrete_fields:
            assert getattr(found, field.attname) == getattr(expected, field.attname)
        assert found.user.username == "alice"
        assert found._state.adding is False


def test_a_missing_row_is_none(user):
    assert BY_PK.get(10**12) is None


def test_counted_queries_see_the_lookup(user, django_assert_num_queries):
    node = DbNode.objects.create(node_type="data.core.int.Int.", user=user)
    with django_assert_num_queries(1):
        assert BY_PK.get(node.pk).pk == node.pk


def test_a_text_key_with_percent_signs_is_bound_not_formatted():
    DbSetting.objects.create(key="a%s%%b", val={"v": 1})
    assert SettingsManager().get("a%s%%b").value == {"v": 1}


@pytest.mark.django_db(transaction=True)
def test_a_new_database_session_prepares_the_lookup_again(user):
    from django.db import connection

    node = DbNode.objects.create(node_type="data.core.int.Int.", user=user)
    assert BY_PK.get(node.pk).pk == node.pk
    # PostgreSQL's prepared statements go with the session; Django reconnects.
    connection.close()
    assert BY_PK.get(node.pk).pk == node.pk
    assert BY_PK.get(node.pk + 1000) is None


@pytest.mark.django_db(transaction=True)
def test_a_lookup_still_runs_after_a_rolled_back_transaction(user):
    from django.db import transaction

    node = DbNode.objects.create(node_type="data.core.int.Int.", user=user)
    with pytest.raises(RuntimeError), transaction.atomic():
        assert BY_PK.get(node.pk).pk == node.pk
        raise RuntimeError
    assert BY_PK.get(node.pk).pk == node.pk


def test_placeholders_are_numbered_and_percent_signs_unescaped():
    assert numbered("SELECT 1 WHERE a = %s AND b LIKE '%%x' AND c = %s") == (
        "SELECT 1 WHERE a = $1 AND b LIKE '%x' AND c = $2"
    )
