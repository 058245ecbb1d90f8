"""How every surface writes a moment: ISO 8601 in the site's ``TIME_ZONE``.

The API (DRF's ``DateTimeField``), the commands and ``as_dict`` methods all
go through :func:`format_time`, so ``node show`` and ``GET /nodes/{id}/``
print the same text for the same node.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.utils import timezone

from aiidasite.exceptions import InputValidationError

# The furthest back "the last N days" reaches (about a thousand years): far
# inside the calendar's range, where one day more than now's year allows
# overflows instead of selecting anything more.
MAX_PAST_DAYS = 365_000

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


def past_days_start(past_days: int) -> datetime.datetime:
    """The moment ``past_days`` days before now (aware, UTC): where "created
    in the last N days" begins, for the commands and the API alike.

    :raises InputValidationError: ``past_days`` not a whole number from 1 to
        ``MAX_PAST_DAYS``.
    """
    if (
        isinstance(past_days, bool)
        or not isinstance(past_days, int)
        or not 1 <= past_days <= MAX_PAST_DAYS
    ):
        raise InputValidationError(
            "the number of past days must be a whole number from 1 to "
            f"{MAX_PAST_DAYS}, got {past_days!r}"
        )
    return timezone.now() - datetime.timedelta(days=past_days)
