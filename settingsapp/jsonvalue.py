"""Validation and exact serialization of the JSON values kept in settings.

PostgreSQL's ``jsonb`` keeps numbers as ``numeric`` and prints them without an
exponent, so ``1e+300`` written by :func:`json.dumps` comes back as an integer
of 301 digits. Floats are therefore written here in positional notation with a
fractional part whenever their shortest form would use a positive exponent:
the text names the same double, ``jsonb`` keeps the fraction, and both SQLite
and PostgreSQL return a float that compares equal to the one stored. Integers
of any size are exact on both databases because neither parses them to a
machine integer.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from aiidasite.exceptions import InputValidationError
from aiidasite.limits import MAX_JSON_DEPTH, json_depth


def validate_json_value(value: Any, *, where: str = "value") -> None:
    """Check that ``value`` is a JSON value both databases store exactly.

    Accepted: ``None``, ``bool``, ``int``, finite ``float``, ``str``, ``list``
    and ``dict`` with ``str`` keys, nested at most ``MAX_JSON_DEPTH`` levels.

    :raises InputValidationError: for any other type, a non-finite float, a
        non-string key, a string holding NUL or a lone surrogate (neither can
        be stored in PostgreSQL's ``jsonb``), or deeper nesting.
    """
    if json_depth(value) > MAX_JSON_DEPTH:
        raise InputValidationError(
            f"{where} nests deeper than {MAX_JSON_DEPTH} levels of lists and objects"
        )
    _validate_json_value(value, where=where)


def _validate_json_value(value: Any, *, where: str) -> None:
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputValidationError(f"{where} is {value!r}, which JSON cannot hold")
        return
    if isinstance(value, str):
        validate_text(value, where=where)
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _validate_json_value(item, where=f"{where}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InputValidationError(
                    f"{where} has the key {key!r}: JSON object keys must be strings"
                )
            validate_text(key, where=f"a key of {where}")
            _validate_json_value(item, where=f"{where}[{key!r}]")
        return
    raise InputValidationError(
        f"{where} is a {type(value).__name__}, which is not a JSON value"
    )


def validate_text(text: str, *, where: str) -> None:
    """:raises InputValidationError: if ``text`` holds NUL or a lone surrogate."""
    if "\x00" in text:
        raise InputValidationError(f"{where} contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputValidationError(
            f"{where} contains a lone surrogate, which is not valid Unicode"
        ) from None


def dumps_exact(value: Any) -> str:
    """Serialize a validated JSON value so that both databases keep it exactly."""
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, list):
        return "[" + ",".join(dumps_exact(item) for item in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(
                f"{json.dumps(key, ensure_ascii=False)}:{dumps_exact(item)}"
                for key, item in value.items()
            )
            + "}"
        )
    return json.dumps(value, ensure_ascii=False)


def _float_text(number: float) -> str:
    text = repr(number)
    if "e+" not in text:
        return text
    return f"{Decimal(text):f}.0"


class ExactJSONEncoder(json.JSONEncoder):
    """The encoder of ``DbSetting.val``: compact text through :func:`dumps_exact`.

    Indented output (asked for by forms and displays) keeps the standard
    encoder: it is for reading, not for storing.
    """

    def encode(self, o: Any) -> str:
        if self.indent is not None:
            return super().encode(o)
        return dumps_exact(o)
