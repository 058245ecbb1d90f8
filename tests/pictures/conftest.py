"""A band-structure workflow as the demo stores it: structure, k-points,
calculations, a workchain, BandsData with its arrays as files."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from nodes import demo
from nodes.models import DbNode


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create(username="alice")


@pytest.fixture
def workflow(user) -> dict[str, DbNode]:
    """One demo unit: ``structure`` (Si2, a = 5.431), ``bands``, ``workchain``
    and the rest, by their demo names."""
    now = timezone.now() - datetime.timedelta(hours=1)
    made = demo.demo_graph_create(user=user, size=demo.UNIT_SIZE, now=now)
    structure = DbNode.objects.get(pk=made["structure"][0])
    workchain = DbNode.objects.get(pk=made["workchain"][0])
    bands = DbNode.objects.get(pk=made["bands"][0])
    return {"structure": structure, "workchain": workchain, "bands": bands}
