"""Request rates: failed logins, anonymous clients and users are throttled."""

from __future__ import annotations

import base64

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def rates(settings, **values):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None, "login": None, **values},
    }


def basic(username: str, password: str, address: str = "10.0.0.1") -> APIClient:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    return client


def test_password_guessing_is_stopped_before_the_password_is_checked(
    settings, user, django_user_model
):
    rates(settings, login="3/minute")
    guesser = basic("alice", "wrong")

    answers = [guesser.get("/api/v1/settings/") for _ in range(5)]

    assert [r.status_code for r in answers] == [403, 403, 403, 429, 429]
    assert answers[-1].json()["detail"].startswith("Too many failed logins")
    assert "Retry-After" in answers[-1]
    # Even the right password waits, from that address; others are not held up.
    assert basic("alice", "pw").get("/api/v1/settings/").status_code == 429
    assert basic("alice", "pw", "10.0.0.2").get("/api/v1/settings/").status_code == 200


def test_successful_logins_are_not_counted_as_failures(settings, user):
    rates(settings, login="2/minute")
    client = basic("alice", "pw")

    codes = {client.get("/api/v1/settings/").status_code for _ in range(5)}

    assert codes == {200}


def test_the_login_rate_is_the_default_throttle(settings, user):
    guesser = basic("alice", "wrong")

    codes = [guesser.get("/api/v1/nodes/").status_code for _ in range(11)]

    assert codes == [403] * 10 + [429]


def test_anonymous_and_user_rates_come_from_settings(settings, user):
    rates(settings, anon="2/minute", user="3/minute")
    anonymous = APIClient(REMOTE_ADDR="10.0.0.3")
    signed_in = APIClient(REMOTE_ADDR="10.0.0.3")
    signed_in.force_authenticate(user)

    anonymous_codes = [anonymous.get("/api/v1/nodes/").status_code for _ in range(3)]
    user_codes = [signed_in.get("/api/v1/nodes/").status_code for _ in range(4)]

    assert anonymous_codes == [200, 200, 429]
    assert user_codes == [200, 200, 200, 429]
    assert (
        anonymous.get("/api/v1/nodes/")
        .json()["detail"]
        .startswith("Request was throttled")
    )


def test_without_rates_nothing_is_throttled(settings):
    rates(settings)
    client = APIClient()

    assert {client.get("/api/v1/nodes/").status_code for _ in range(30)} == {200}


def test_admin_login_guessing_is_throttled_too(settings, django_user_model):
    rates(settings, login="3/minute")
    django_user_model.objects.create_user("root", password="right", is_staff=True)
    client = Client(REMOTE_ADDR="10.0.0.9")

    def login(password):
        return client.post("/admin/login/", {"username": "root", "password": password})

    guesses = [login("wrong") for _ in range(3)]
    refused = login("right")

    assert all(g.status_code == 200 for g in guesses)
    assert "Too many failed logins" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    other = Client(REMOTE_ADDR="10.0.0.10")
    assert (
        other.post(
            "/admin/login/", {"username": "root", "password": "right"}
        ).status_code
        == 302
    )
