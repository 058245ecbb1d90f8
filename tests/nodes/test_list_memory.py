"""A list filter matching many rows reads one page of them, never all.

The node and link lists page by keyset (one statement with a LIMIT, no
COUNT) and the query route reads one window; what a request holds in memory
is one page, whatever the number of matching rows. Checked on the SQL sent
and on the memory Python allocates while answering, against what reading
every matching row takes.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from nodes import services, types
from nodes.models import DbNode
from nodes.services import NodeSpec

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

MATCHING = 20_000
PAGE = 10


@pytest.fixture
def many_nodes(user) -> list[int]:
    """MATCHING Ints labelled "many …", and their links to one Float."""
    pks = services.nodes_store_bulk(
        user=user,
        nodes=[
            NodeSpec(
                node_type=types.INT,
                label=f"many {index}",
                description="x" * 200,
                attributes={"value": index},
            )
            for index in range(MATCHING)
        ],
    )
    assert DbNode.objects.filter(node_type=types.INT).count() == MATCHING
    return pks


def peak_bytes(work: Callable[[], object]) -> int:
    """The most memory Python held while ``work`` ran, beyond what it held before."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        work()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def every_matching_row() -> list[dict]:
    return list(
        DbNode.objects.filter(node_type=types.INT).values(
            "id", "uuid", "node_type", "process_type", "label", "ctime", "mtime"
        )
    )


@pytest.mark.parametrize(
    "query",
    ["node_type=Int", "label_contains=many", "node_type=Int&ordering=-label"],
)
def test_a_node_list_filter_sends_one_limited_statement(api_client, many_nodes, query):
    with CaptureQueriesContext(connection) as captured:
        response = api_client.get(f"/api/v1/nodes/?{query}&page_size={PAGE}")
    assert response.status_code == 200
    assert len(response.json()["results"]) == PAGE
    statements = [q["sql"] for q in captured if "db_dbnode" in q["sql"]]
    assert len(statements) == 1
    assert statements[0].endswith(f"LIMIT {PAGE + 1}")
    assert "COUNT(" not in statements[0]


def test_a_filtered_page_holds_a_page_not_every_match(api_client, many_nodes):
    api_client.get(f"/api/v1/nodes/?node_type=Int&page_size={PAGE}")  # warm
    everything = peak_bytes(every_matching_row)
    first = peak_bytes(
        lambda: api_client.get(f"/api/v1/nodes/?label_contains=many&page_size={PAGE}")
    )
    following = api_client.get(f"/api/v1/nodes/?node_type=Int&page_size={PAGE}")
    deep = following.json()["next"]
    later = peak_bytes(lambda: api_client.get(deep))
    # Reading every match takes megabytes; a page, a few dozen kilobytes
    # beside the request's own work.
    assert everything > 5_000_000
    assert first * 20 < everything
    assert later * 20 < everything


def test_a_query_over_many_rows_holds_one_window(api_client, many_nodes):
    query = {
        "path": [{"entity": "Int", "tag": "i"}],
        "filters": {"i": {"label": {"like": "many%"}}},
        "project": {"i": ["id", "label", "attributes.value"]},
    }
    url = f"/api/v1/querybuilder/?page_size={PAGE}"
    api_client.post(url, query, format="json")  # warm
    everything = peak_bytes(every_matching_row)
    page = peak_bytes(lambda: api_client.post(url, query, format="json"))
    body = api_client.post(url, query, format="json").json()
    assert len(body["results"]) == PAGE
    assert page * 20 < everything
