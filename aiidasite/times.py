"""How every surface writes a moment: ISO 8601 in the site's ``TIME_ZONE``.

The API (DRF's ``DateTimeField``), the commands and ``as_dict`` methods all
go through :func:`format_time`, so ``node show`` and ``GET /nodes/{id}/``
print the same text for the same node.
"""

from __future__ import annotations

import datetime

from django.utils import timezone


def format_time(moment: datetime.datetime | None) -> str | None:
    """``moment`` in ``TIME_ZONE`` as ISO 8601 (``Z`` for UTC, as DRF writes
    it); None stays None. A naive ``moment`` is taken to be in UTC."""
    if moment is None:
        return None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=datetime.UTC)
    text = timezone.localtime(moment).isoformat()
    if text.endswith("+00:00"):
        text = text[: -len("+00:00")] + "Z"
    return text
