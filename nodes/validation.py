"""What node and group fields may hold: the rules every writer applies.

The API's writers (:mod:`nodes.services`) and the archive importer call the
same functions here, so a value is refused or accepted alike whichever way
it arrives. PostgreSQL refuses NUL characters, NaN and infinity in JSON;
JSON itself turns non-string keys into strings. Each check raises
:class:`~aiidasite.exceptions.InputValidationError` naming the field.
"""

from __future__ import annotations

import datetime
import json
import math
import re
import uuid as uuid_module
from typing import Any, NamedTuple

from aiidasite.exceptions import InputValidationError
from nodes import types
from repository.tree import checked_keys

_CANONICAL_UUID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}"
)

# Column widths shared with AiiDA's schema (VARCHAR(255)).
MAX_LABEL = 255
MAX_TYPE = 255
MAX_EMAIL = 254


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
# One encoder: json.dumps would build one per call for its non-default
# allow_nan. Values come from decoded JSON or request bodies, which hold no
# cycles; a cycle would still end in RecursionError rather than a loop.
_ENCODER = json.JSONEncoder(allow_nan=False, check_circular=False)


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
        text = _ENCODER.encode(value)
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


def clean_uuid(value: Any, where: str = "uuid") -> str:
    """``value`` as the 32 lowercase hex digits both databases store.

    :raises InputValidationError: unless it is a UUID string (dashes optional).
    """
    if isinstance(value, uuid_module.UUID):
        return value.hex
    if type(value) is str and _CANONICAL_UUID.fullmatch(value):
        # The form archives and clients send, answered without a UUID object.
        return value.replace("-", "")
    if not isinstance(value, str):
        raise InputValidationError(f"{where} {value!r} is not a UUID")
    try:
        return uuid_module.UUID(value).hex
    except ValueError:
        raise InputValidationError(f"{where} {value!r} is not a UUID") from None


def clean_time(value: Any, where: str) -> datetime.datetime:
    """``value`` if it is a time-zone-aware datetime.

    :raises InputValidationError: for anything else (None included).
    """
    if not isinstance(value, datetime.datetime):
        raise InputValidationError(f"{where} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputValidationError(f"{where} must carry a time zone")
    return value


def clean_repository_metadata(value: Any, where: str = "repository_metadata") -> str:
    """A serialized file tree (AiiDA's ``{"o": {name: {"k": key}}}``) as the
    JSON text both databases store.

    :raises InputValidationError: if it is not a tree or a name in it is not
        one path segment (empty, ``.``, ``..``, ``/`` or NUL).
    """
    return clean_repository_tree(value, where)[0]


def clean_repository_tree(
    value: Any, where: str = "repository_metadata"
) -> tuple[str, list[str]]:
    """:func:`clean_repository_metadata`'s text and the tree's file keys.

    :raises InputValidationError: as :func:`clean_repository_metadata`.
    """
    text = dump_json(value, where)
    if text == "{}":
        return text, []
    # The tree's own rules on entries and names (repository.tree).
    return text, checked_keys(value)


class NodeColumns(NamedTuple):
    """A node's validated fields, JSON ones as the text to store."""

    node_type: str
    process_type: str | None
    label: str
    description: str
    attributes: str
    extras: str


def clean_node(
    *,
    node_type: Any,
    process_type: Any,
    label: Any,
    description: Any,
    attributes: Any,
    extras: Any,
) -> NodeColumns:
    """A node's fields checked as AiiDA stores them.

    Type strings as :func:`nodes.types.validate_node_type` (aiida-core's
    ``orm.Node._plugin_type_string``); only process nodes have a
    ``process_type``; attributes and extras are JSON objects.

    :raises InputValidationError: naming the first field that is malformed.
    """
    node_type = clean_text(node_type, "node_type", MAX_TYPE)
    types.validate_node_type(node_type)
    if process_type is not None:
        clean_text(process_type, "process_type", MAX_TYPE)
        # AiiDA before 2.0 gave every node a process_type, "" for data nodes;
        # archives of that age (and their migrations by aiida-core) keep it.
        if process_type and not types.is_process(node_type):
            raise InputValidationError("only process nodes have a process_type")
    return NodeColumns(
        node_type,
        process_type,
        clean_text(label, "label", MAX_LABEL),
        clean_text(description, "description"),
        dump_json(attributes, "attributes"),
        dump_json(extras, "extras"),
    )


def clean_group_label(value: Any) -> str:
    """A group label: text of at most 255 characters, not only blanks.

    :raises InputValidationError: otherwise.
    """
    label = clean_text(value, "label", MAX_LABEL)
    if not label.strip():
        raise InputValidationError("a group needs a label")
    return label


def clean_email(value: Any) -> str:
    """A user's e-mail (what archives match users on), stripped.

    :raises InputValidationError: if it is not non-blank text of at most 254
        characters.
    """
    email = clean_text(value, "email", MAX_EMAIL).strip()
    if not email:
        raise InputValidationError("a user needs an e-mail")
    return email
