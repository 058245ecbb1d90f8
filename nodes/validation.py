"""What node fields may hold: clean JSON objects and text both databases store.

PostgreSQL refuses NUL characters, NaN and infinity in JSON; JSON itself
turns non-string keys into strings. Each check raises
:class:`~aiidasite.exceptions.InputValidationError` naming the field.
"""

from __future__ import annotations

import json
import math
from typing import Any

from aiidasite.exceptions import InputValidationError


def clean_json(value: Any, where: str) -> Any:
    """Return ``value`` if it is JSON that both databases store faithfully.

    :raises InputValidationError: for non-string keys, NaN or infinity, and
        anything that is not None, bool, int, float, str, list or dict.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputValidationError(f"{where}: {value} cannot be stored as JSON")
        return value
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InputValidationError(f"{where}: key {key!r} is not a string")
            clean_json(item, f"{where}.{key}")
        return value
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            clean_json(item, f"{where}[{index}]")
        return value
    raise InputValidationError(
        f"{where}: a {type(value).__name__} cannot be stored as JSON"
    )


def _unstorable_text(text: str) -> bool:
    """Whether PostgreSQL would refuse ``text``: NUL or a lone surrogate."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _has_unstorable_text(value: Any) -> bool:
    if isinstance(value, str):
        return _unstorable_text(value)
    if isinstance(value, dict):
        return any(
            _has_unstorable_text(k) or _has_unstorable_text(v) for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return any(_has_unstorable_text(item) for item in value)
    return False


_CONTAINERS = (dict, list, tuple)


def dump_json(value: Any, where: str) -> str:
    """``value``, a JSON object, as the text both databases store.

    ``json.dumps`` (in C) refuses what JSON cannot hold; a walk over the
    containers only catches what it would silently change (non-string keys).
    The slow walk of :func:`clean_json` only runs to explain a failure.

    :raises InputValidationError: if ``value`` is not a dict of clean JSON or
        holds NUL characters or lone surrogates (PostgreSQL refuses them).
    """
    if not value:
        if value is None or value == {}:
            return "{}"
        raise InputValidationError(f"{where} must be a JSON object")
    if type(value) is not dict:
        raise InputValidationError(f"{where} must be a JSON object")
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        clean_json(value, where)
        raise InputValidationError(f"{where} cannot be stored as JSON") from None
    if not all(type(key) is str for key in value):
        clean_json(value, where)
    # Only nested objects can hide other keys; without a second "{" in the
    # text there are none (a "{" inside a string only costs the walk).
    if text.count("{") > 1:
        _check_nested_keys(value, where)
    # JSON escapes both NUL and surrogates (paired or not) as \\u....
    if ("\\u0000" in text or "\\ud" in text) and _has_unstorable_text(value):
        raise InputValidationError(
            f"{where}: NUL characters and lone surrogates cannot be stored"
        )
    return text


def _check_nested_keys(value: dict[str, Any], where: str) -> None:
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            if not all(type(key) is str for key in item):
                clean_json(value, where)
            stack.extend(c for c in item.values() if type(c) in _CONTAINERS)
        else:
            stack.extend(c for c in item if type(c) in _CONTAINERS)


def clean_dict(value: Any, where: str) -> dict[str, Any]:
    dump_json(value, where)
    return value or {}


def clean_text(value: Any, where: str, max_length: int | None = None) -> str:
    if not isinstance(value, str):
        raise InputValidationError(f"{where} must be a string")
    if max_length is not None and len(value) > max_length:
        raise InputValidationError(f"{where} is longer than {max_length} characters")
    if _unstorable_text(value):
        raise InputValidationError(
            f"{where}: NUL characters and lone surrogates cannot be stored"
        )
    return value
