"""Fixtures for the nodes app: a user and a small graph builder."""

from __future__ import annotations

import pytest

from nodes import services, types
from nodes.services import IncomingLink


@pytest.fixture
def user(django_user_model):
    """A user without a password: hashing one costs a second per test."""
    return django_user_model.objects.create(username="alice")


@pytest.fixture
def make_node(user):
    """Store a node through the service; ``inputs`` are ``(source, label, type)``."""

    def make(node_type=types.INT, *, inputs=(), **fields):
        fields.setdefault("attributes", {})
        links = [IncomingLink(s.pk, label, kind) for s, label, kind in inputs]
        return services.node_store(
            user=user, node_type=node_type, links=links, **fields
        )

    return make
