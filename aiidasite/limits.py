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
