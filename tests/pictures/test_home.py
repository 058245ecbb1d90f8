"""The landing page at ``/``."""

from __future__ import annotations

import re

import pytest

from pictures.home import daily_counts

pytestmark = pytest.mark.django_db


def test_home_names_the_product_counts_kinds_and_links_on(client, workflow):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>aiidasite</h1>" in html
    cards = dict(
        (title, int(n))
        for n, title in re.findall(r'<div class="n">(\d+)</div>([^<]+)</div>', html)
    )
    assert cards == {"nodes": 14, "Data": 10, "Calculations": 3, "Workflows": 1}
    for target in ("/admin/", "/api/v1/", "/api/docs/"):
        assert f'href="{target}"' in html
    chart = html[html.index('id="chart"') :]
    assert "<svg" in chart
    assert "nodes created" in chart
    assert "<td>StructureData</td>" in html


def test_home_of_an_empty_database(client, db):
    html = client.get("/").content.decode()
    assert '<div class="n">0</div>nodes' in html
    assert "No nodes yet." in html


def test_days_without_nodes_count_zero():
    counts = daily_counts({"2026-01-01": 3, "2026-01-04": 1})
    assert [n for _, n in counts] == [3, 0, 0, 1]
    assert counts[0][0].isoformat() == "2026-01-01"
