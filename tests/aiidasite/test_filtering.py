"""List filters run when a request names one, and cost nothing otherwise."""

from __future__ import annotations

import django_filters
import pytest

from aiidasite.filtering import must_filter
from nodes.filters import NodeFilterSet
from nodes.models import DbNode

pytestmark = pytest.mark.django_db


@pytest.fixture
def filtersets(monkeypatch) -> list[dict]:
    """The data of each NodeFilterSet built."""
    built: list[dict] = []
    original = NodeFilterSet.__init__

    def counting(self, data=None, *args, **kwargs):
        built.append(dict(data or {}))
        original(self, data, *args, **kwargs)

    monkeypatch.setattr(NodeFilterSet, "__init__", counting)
    return built


@pytest.fixture
def nodes(user) -> None:
    for label in ("a", "b"):
        DbNode.objects.create(node_type="data.core.int.Int.", label=label, user=user)


def labels(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(row["label"] for row in response.json()["results"])


def test_a_list_without_filter_parameters_builds_no_filterset(
    api_client, nodes, filtersets
):
    assert labels(api_client.get("/api/v1/nodes/?page_size=5&ordering=label")) == [
        "a",
        "b",
    ]
    assert filtersets == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("label=a", ["a"]),
        ("label_contains=b", ["b"]),
        ("ctime_after=2999-01-01T00:00:00Z", []),
        ("node_type=Float", []),
    ],
)
def test_a_named_filter_filters(api_client, nodes, filtersets, query, expected):
    assert labels(api_client.get(f"/api/v1/nodes/?{query}")) == expected
    assert len(filtersets) == 1


def test_a_malformed_filter_value_is_still_400(api_client, nodes):
    response = api_client.get("/api/v1/nodes/?ctime_after=yesterday")
    assert response.status_code == 400


def test_the_browsable_api_still_offers_the_filter_form(api_client, nodes):
    page = api_client.get("/api/v1/nodes/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    assert 'name="label_contains"' in page.content.decode()


def test_a_required_filter_runs_even_when_absent():
    class Required(django_filters.FilterSet):
        label = django_filters.CharFilter(required=True)

        class Meta:
            model = DbNode
            fields: list[str] = []

    assert must_filter([], Required.base_filters)
    assert not must_filter(["page_size"], NodeFilterSet.base_filters)
    assert must_filter(["ctime_before"], NodeFilterSet.base_filters)
