"""The site's landing page: what the database holds, at a glance."""

from __future__ import annotations

import datetime
import io
from collections import Counter
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from matplotlib.figure import Figure

from nodes import types
from pictures.graph import kind_of
from queries import services as queries

# The chart shows at most this many days, the latest ones.
CHART_DAYS = 366
KIND_TITLES = {
    "data": "Data",
    "calculation": "Calculations",
    "workflow": "Workflows",
    "process": "Other processes",
}


def daily_counts(by_day: dict[str, int]) -> list[tuple[datetime.date, int]]:
    """Every day from the first to the last with nodes (at most the last
    ``CHART_DAYS``), days without nodes as zero."""
    if not by_day:
        return []
    days = sorted(datetime.date.fromisoformat(day) for day in by_day)
    first = max(days[0], days[-1] - datetime.timedelta(days=CHART_DAYS - 1))
    span = (days[-1] - first).days + 1
    dates = [first + datetime.timedelta(days=i) for i in range(span)]
    return [(day, by_day.get(day.isoformat(), 0)) for day in dates]


def day_chart(counts: list[tuple[datetime.date, int]]) -> str:
    """A bar chart of nodes created per day, as inline SVG markup."""
    figure = Figure(figsize=(8, 2.6), dpi=100)
    axes = figure.add_subplot()
    axes.bar([day for day, _ in counts], [n for _, n in counts], color="#417690")
    axes.set_ylabel("nodes created")
    axes.spines[["top", "right"]].set_visible(False)
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]


def home_context() -> dict[str, Any]:
    """Counts by kind and by class, and the per-day chart."""
    statistics = queries.statistics_get()
    by_kind: Counter[str] = Counter()
    for node_type, count in statistics["types"].items():
        by_kind[kind_of(node_type)] += count
    classes = sorted(
        ((types.class_name(t), n) for t, n in statistics["types"].items()),
        key=lambda item: (-item[1], item[0]),
    )
    counts = daily_counts(statistics["ctime_by_day"])
    return {
        "total": statistics["total"],
        "kinds": [
            (KIND_TITLES[kind], by_kind[kind])
            for kind in KIND_TITLES
            if by_kind[kind] or kind != "process"
        ],
        "classes": classes,
        # Our own matplotlib output: no user text is drawn into it.
        "chart": mark_safe(day_chart(counts)) if counts else None,
        "days": len(counts),
    }


def home(request: HttpRequest) -> HttpResponse:
    """``/``: the product's name, what it holds, and where to go next."""
    return render(request, "pictures/home.html", home_context())
