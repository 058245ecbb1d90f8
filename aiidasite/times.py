"""How every surface writes a moment: ISO 8601 in the site's ``TIME_ZONE``.

The API (DRF's ``DateTimeField``), the commands and ``as_dict`` methods all
go through :func:`format_time`, so ``node show`` and ``GET /nodes/{id}/``
print the same text for the same node.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.utils import timezone

TimeWriter = Callable[[datetime.datetime | None], str | None]


def time_writer() -> TimeWriter:
    """:func:`format_time` for the time zone current now, looked up once: a
    page of rows writes hundreds of times, and finding the zone costs more
    than converting to it."""
    zone = timezone.get_current_timezone()

    def write(moment: datetime.datetime | None) -> str | None:
        if moment is None:
            return None
        if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
            moment = moment.replace(tzinfo=datetime.UTC)
        text = moment.astimezone(zone).isoformat()
        if text.endswith("+00:00"):
            text = text[: -len("+00:00")] + "Z"
        return text

    return write


def format_time(moment: datetime.datetime | None) -> str | None:
    """``moment`` in ``TIME_ZONE`` as ISO 8601 (``Z`` for UTC, as DRF writes
    it); None stays None. A naive ``moment`` is taken to be in UTC."""
    return time_writer()(moment)
