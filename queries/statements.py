"""Built statements kept per query, so a query asked again is not built again.

Building a SELECT from a :class:`~queries.builder.QueryBuilder` costs more
than SQLite then takes to answer a small query. What
:class:`~queries.compiler.Compiler` builds depends only on the query's JSON
form (its values included), the database alias and dialect, the time zone
naive times are read in, and the answers to the questions it asks the
database while building (see :data:`queries.compiler.Question`).
So the statement is kept under the first four, with the answers it was built
on: each use asks the questions again and builds anew when an answer
changed. A statement holds no rows; every run reads the tables, so writes
are seen exactly as without it. A query that is not plain JSON (Python
times, sets) is never kept.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from django.utils import timezone

__all__ = ["built", "forget", "kept", "query_key"]

# Queries kept at most; the least recently used goes first.
SIZE = 256

Built = TypeVar("Built")
Ask = Callable[[Any], Any]

_lock = threading.Lock()
_kept: OrderedDict[tuple[str, ...], tuple[tuple[tuple[Any, Any], ...], Any]] = (
    OrderedDict()
)


def query_key(data: Any, *, alias: str, dialect: str) -> tuple[str, ...] | None:
    """What a statement built for the query ``data`` (its JSON form) is kept
    under; None if ``data`` is not plain JSON."""
    try:
        # Key order kept: it orders the columns and the conditions.
        text = json.dumps(data)
    except (TypeError, ValueError):
        return None
    return (alias, dialect, timezone.get_current_timezone_name(), text)


def built(
    key: tuple[str, ...] | None, ask: Ask, build: Callable[[Ask], Built]
) -> Built:
    """``build(ask)``, or what it returned for ``key`` before if ``ask`` still
    answers as it did then."""
    if key is None:
        return build(ask)
    with _lock:
        kept = _kept.get(key)
        if kept is not None:
            _kept.move_to_end(key)
    if kept is not None:
        answers, value = kept
        if all(ask(question) == answer for question, answer in answers):
            return value
    asked: dict[Any, Any] = {}

    def recording(question: Any) -> Any:
        asked[question] = answer = ask(question)
        return answer

    value = build(recording)
    with _lock:
        _kept[key] = (tuple(asked.items()), value)
        _kept.move_to_end(key)
        while len(_kept) > SIZE:
            _kept.popitem(last=False)
    return value


def kept() -> int:
    """How many statements are kept."""
    with _lock:
        return len(_kept)


def forget() -> None:
    """Drop every kept statement (tests; a changed schema)."""
    with _lock:
        _kept.clear()
