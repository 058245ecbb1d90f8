"""JSON responses write any time in ``TIME_ZONE``, as serializer fields do.

Serializers format their ``DateTimeField``s in the site's zone; a time that
reaches a response as a plain value (a QueryBuilder row, a service's dict)
is written the same way here, through :func:`aiidasite.times.format_time`.
"""

from __future__ import annotations

import datetime
from typing import Any

from rest_framework import renderers
from rest_framework.utils import encoders

from aiidasite.times import format_time


class JSONEncoder(encoders.JSONEncoder):
    def default(self, obj: Any) -> Any:
        if isinstance(obj, datetime.datetime):
            return format_time(obj)
        return super().default(obj)


class JSONRenderer(renderers.JSONRenderer):
    encoder_class = JSONEncoder
