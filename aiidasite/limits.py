"""Bounds on what a client may send, checked before any code walks it."""

from __future__ import annotations

from typing import Any

# AiiDA's own attributes nest a handful of levels, and every recursive walk of
# a value (validation, serialization, Python's json module at about 1,000
# levels, the databases' JSON functions) has a limit: deeper JSON is refused.
MAX_JSON_DEPTH = 100


def json_depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (a scalar is 0, ``[]``
    is 1); level by level, so any depth is measured without recursion."""
    depth, level = 0, [value]
    while True:
        containers = [item for item in level if isinstance(item, dict | list)]
        if not containers:
            return depth
        depth += 1
        level = [
            child
            for item in containers
            for child in (item.values() if isinstance(item, dict) else item)
        ]


def has_lone_surrogate(text: str) -> bool:
    """Whether ``text`` holds a code point U+D800..U+DFFF, which JSON's
    ``\\ud800`` escapes can carry but UTF-8 cannot encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


# Integers both databases compare: SQLite's driver cannot even send a larger
# one, PostgreSQL would compare it as numeric.
INT64 = range(-(2**63), 2**63)


def uncomparable_value(value: Any) -> str | None:
    """What in ``value`` (nested lists and objects included) the databases
    cannot compare alike, in words, or None: an integer outside 64 bits, or
    text (keys included) holding NUL or a lone surrogate (PostgreSQL refuses
    NUL, neither database's driver can encode a surrogate; no stored text
    holds either). Iterative, like :func:`json_depth`."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return f"the text {item!r} holds a NUL character"
            if not item.isascii() and has_lone_surrogate(item):
                return f"the text {item!r} holds a lone surrogate"
        elif isinstance(item, int) and not isinstance(item, bool):
            if item not in INT64:
                return f"{item} is beyond 64-bit integers"
    return None
