"""Reading a legacy archive's ``data.json`` one record at a time.

``data.json`` holds a whole database in one JSON object, so it is parsed as
a stream (ijson) and each record is built alone: memory stays bounded
whatever the number of nodes. Its layout::

    {"export_data": {"Node": {"<pk>": {...}, ...}, "User": {...}, ...},
     "node_attributes": {"<pk>": {...}}, "node_extras": {"<pk>": {...}},
     "node_attributes_conversion": {...}, "node_extras_conversion": {...},
     "links_uuid": [{"input": uuid, "output": uuid, "label": ..., "type": ...}],
     "groups_uuid": {"<group uuid>": ["<node uuid>", ...]}}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any, NamedTuple

import ijson

from aiidasite.exceptions import CorruptArchive

# Sections keyed by node pk, whose values sit one level below the section.
NODE_SECTIONS = frozenset(
    {
        "node_attributes",
        "node_extras",
        "node_attributes_conversion",
        "node_extras_conversion",
    }
)
_OPENING = frozenset({"start_map", "start_array"})
_CLOSING = frozenset({"end_map", "end_array"})


class Record(NamedTuple):
    """One record: its section (``export_data``, ``node_attributes``,
    ``links_uuid``, ``groups_uuid``...), its keys on the way down (entity name
    and pk; node pk; group uuid; nothing for a link) and its value."""

    section: str
    keys: tuple[str, ...]
    value: Any


def records(handle: IO[bytes]) -> Iterator[Record]:
    """The records of ``data.json`` in file order.

    :raises CorruptArchive: the content is not JSON, or not a JSON object.
    """
    depth = 0  # open containers around the current event
    keys: list[Any] = [None, None, None, None]
    found: tuple[str, tuple[str, ...]] | None = None
    # The record being built: its open containers and, for maps, their keys.
    stack: list[Any] = []
    names: list[Any] = []
    try:
        for event, value in ijson.basic_parse(handle, use_float=True):
            if stack:
                top = stack[-1]
                if event == "map_key":
                    names[-1] = value
                    continue
                if event == "start_map" or event == "start_array":
                    value = {} if event == "start_map" else []
                elif event == "end_map" or event == "end_array":
                    done = stack.pop()
                    names.pop()
                    if not stack:
                        depth -= 1
                        yield Record(found[0], found[1], done)
                    continue
                if type(top) is list:
                    top.append(value)
                else:
                    top[names[-1]] = value
                if type(value) in (dict, list):
                    stack.append(value)
                    names.append(None)
                continue
            if event == "map_key":
                if depth < 4:
                    keys[depth] = value
                continue
            if event in _CLOSING:
                depth -= 1
                continue
            if depth == 0 and event != "start_map":
                raise CorruptArchive("data.json is not a JSON object")
            found = _record_at(depth, keys)
            if event in _OPENING:
                depth += 1
                if found is not None:
                    stack.append({} if event == "start_map" else [])
                    names.append(None)
            elif found is not None:
                yield Record(found[0], found[1], value)
    except ijson.JSONError as exc:
        # yajl's messages go on with a picture of the spot over more lines.
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "empty"
        raise CorruptArchive(f"data.json is not valid JSON: {reason}") from None


def _record_at(depth: int, keys: list[str | None]) -> tuple[str, tuple] | None:
    """The section and keys of a value starting at ``depth``, if it is a record."""
    section = keys[1]
    if depth == 3 and section in ("export_data", "groups_uuid"):
        if section == "export_data":
            return section, (keys[2], keys[3])
        return section, (keys[2],)
    if depth == 2 and section in NODE_SECTIONS:
        return section, (keys[2],)
    if depth == 2 and section == "links_uuid":
        return section, ()
    return None
