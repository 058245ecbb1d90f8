"""The query API shows users' e-mails to staff only; statistics and bands do
not tell which users exist."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from nodes import services, types

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(django_user_model):
    alice = django_user_model.objects.create(username="alice", email="a@x.example")
    bob = django_user_model.objects.create(username="bob", email="b@x.example")
    staff = django_user_model.objects.create(
        username="root", email="r@x.example", is_staff=True
    )
    services.node_store(user=bob, node_type=types.INT, attributes={})
    return alice, bob, staff


def run(user, query):
    client = APIClient()
    client.force_authenticate(user)
    return client.post("/api/v1/querybuilder/", query, format="json")


USERS_STAR = {"path": [{"entity": "user", "tag": "u"}]}
USERS_EMAIL = {
    "path": [{"entity": "user", "tag": "u"}],
    "project": {"u": ["username", "email"]},
}
NODE_OWNERS = {
    "path": [{"entity": "node", "tag": "n"}, {"entity": "user", "with_node": "n"}],
    "project": {"user": ["*"]},
}


@pytest.mark.parametrize("query", [USERS_STAR, USERS_EMAIL, NODE_OWNERS])
def test_users_emails_are_hidden_from_other_users(accounts, query):
    alice, *_ = accounts

    response = run(alice, query)

    assert response.status_code == 200, response.json()
    rows = response.json()["results"]
    assert rows
    text = str(rows)
    assert "@x.example" not in text
    assert "'email': None" in text


def test_staff_see_users_emails(accounts):
    *_, staff = accounts

    rows = run(staff, USERS_EMAIL).json()["results"]

    assert {row["u"]["email"] for row in rows} == {
        "a@x.example",
        "b@x.example",
        "r@x.example",
    }


@pytest.mark.parametrize(
    "query",
    [
        {
            "path": [{"entity": "user", "tag": "u"}],
            "filters": {"u": {"email": "a@x.example"}},
        },
        {
            "path": [{"entity": "user", "tag": "u"}],
            "filters": {"u": {"or": [{"email": {"like": "a%"}}, {"id": 0}]}},
        },
        {"path": [{"entity": "user", "tag": "u"}], "order_by": {"u": ["email"]}},
        {
            "path": [{"entity": "user", "tag": "u"}],
            "order_by": [{"u": [{"email": {"order": "desc"}}]}],
        },
    ],
)
def test_filtering_or_ordering_users_by_email_is_for_staff(accounts, query):
    alice, _, staff = accounts

    refused = run(alice, query)

    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "only staff may filter or order users by e-mail"
    }
    assert run(staff, query).status_code == 200


def test_a_filter_value_that_reads_email_is_not_refused(accounts):
    alice, *_ = accounts
    query = {
        "path": [{"entity": "user", "tag": "u"}],
        "filters": {"u": {"username": {"in": ["email", "alice"]}}},
    }

    response = run(alice, query)

    assert response.status_code == 200
    assert [row["u"]["*"]["username"] for row in response.json()["results"]] == [
        "alice"
    ]


@pytest.mark.parametrize("route", ["statistics", "bands"])
def test_unknown_and_idle_users_get_the_same_answer(accounts, api_client, route):
    unknown = api_client.get(f"/api/v1/{route}/?user=nobody")
    idle = api_client.get(f"/api/v1/{route}/?user=alice")
    by_pk = api_client.get(f"/api/v1/{route}/?user=999999")

    assert unknown.status_code == idle.status_code == by_pk.status_code == 200
    assert unknown.json() == idle.json() == by_pk.json()
