"""Reading a legacy archive's ``data.json`` one record at a time.

``data.json`` holds a whole database in one JSON object, so it is read as a
stream: the few levels of its skeleton are walked here, and each record in
them is decoded alone by the standard library's JSON decoder (in C), which
also tells where the record's text ends. Memory stays bounded by the largest
record whatever the number of nodes, and the record's own text is kept, so
staging it needs no second encoding. Its layout::

    {"export_data": {"Node": {"<pk>": {...}, ...}, "User": {...}, ...},
     "node_attributes": {"<pk>": {...}}, "node_extras": {"<pk>": {...}},
     "node_attributes_conversion": {...}, "node_extras_conversion": {...},
     "links_uuid": [{"input": uuid, "output": uuid, "label": ..., "type": ...}],
     "groups_uuid": {"<group uuid>": ["<node uuid>", ...]}}
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import IO, Any, NamedTuple

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
CHUNK = 1024 * 1024
WHITESPACE = " \t\n\r"
_NOT_WHITESPACE = re.compile(r"[^ \t\n\r]")
_SIMPLE_KEY = re.compile(r'[ \t\n\r]*"([^"\\\x00-\x1f]*)"[ \t\n\r]*:[ \t\n\r]*')


class Record(NamedTuple):
    """One record: its section (``export_data``, ``node_attributes``,
    ``links_uuid``, ``groups_uuid``...), its keys on the way down (entity name
    and pk; node pk; group uuid; nothing for a link), its value and the
    value's JSON text as the file has it."""

    section: str
    keys: tuple[str, ...]
    value: Any
    text: str


def _refuse_constant(name: str) -> None:
    # JSON has no NaN or infinity; Python's decoder would accept them.
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def records(handle: IO[bytes]) -> Iterator[Record]:
    """The records of ``data.json`` in file order; sections this reader does
    not know are read past.

    :raises CorruptArchive: the content is not JSON, not UTF-8, or not laid
        out as above.
    """
    stream = _Stream(handle)
    try:
        yield from _top(stream)
    except UnicodeDecodeError:
        raise CorruptArchive("data.json is not valid JSON: not UTF-8") from None
    except (ValueError, RecursionError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "empty"
        raise CorruptArchive(f"data.json is not valid JSON: {reason}") from None


def _top(stream: _Stream) -> Iterator[Record]:
    first = stream.next_char()
    if not first:
        raise ValueError("empty")
    if first != "{":
        raise CorruptArchive("data.json is not a JSON object")
    for section in stream.members("}"):
        if section == "export_data":
            for entity in stream.object_keys(section):
                for pk in stream.object_keys(f"{section}.{entity}"):
                    yield stream.record(section, (entity, pk))
        elif section in NODE_SECTIONS:
            for pk in stream.object_keys(section):
                yield stream.record(section, (pk,))
        elif section == "links_uuid":
            for _ in stream.array_items(section):
                yield stream.record(section, ())
        elif section == "groups_uuid":
            for group in stream.object_keys(section):
                for _ in stream.array_items(f"{section}.{group}"):
                    yield stream.record(section, (group,))
        else:
            stream.value()
    if stream.next_char() != "":
        raise ValueError("extra data after the object")


class _Stream:
    """The text of ``data.json`` read ahead in chunks, with a position."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.buffer = ""
        self.pos = 0
        self.eof = False

    def fill(self, at_least: int = 0) -> bool:
        """Append more text (dropping what was read); False at the end."""
        if self.eof:
            return False
        block = self.handle.read(max(at_least, CHUNK))
        self.buffer = self.buffer[self.pos :] + self.decoder.decode(
            block, final=not block
        )
        self.pos = 0
        self.eof = not block
        return True

    def next_char(self) -> str:
        """The next character that is not whitespace ("" at the end),
        consumed."""
        buffer, pos = self.buffer, self.pos
        if pos < len(buffer) and buffer[pos] not in WHITESPACE:
            # The common case, a comma or bracket right after a value.
            self.pos = pos + 1
            return buffer[pos]
        while True:
            found = _NOT_WHITESPACE.search(self.buffer, self.pos)
            if found:
                self.pos = found.end()
                return found.group()
            self.pos = len(self.buffer)
            if not self.fill():
                return ""

    def members(self, close: str) -> Iterator[str]:
        """The keys of the object whose ``{`` was just read, each followed
        by its ``:``; the caller reads each value before asking for the next
        key."""
        if self.peek() == close:
            self.next_char()
            return
        while True:
            key = self.key()
            yield key
            char = self.next_char()
            if char == close:
                return
            if char != ",":
                raise ValueError(f"expected ',' or '{close}' after {key!r}")

    def key(self) -> str:
        """The next key, its colon and the blanks after it, consumed."""
        # Most keys (pks, uuids, names) hold no escapes: one match reads the
        # key with the blanks around it; anything else takes the general way.
        simple = _SIMPLE_KEY.match(self.buffer, self.pos)
        if simple:
            self.pos = simple.end()
            return simple.group(1)
        if self.next_char() != '"':
            raise ValueError("expected a key")
        key = self.string()
        if self.next_char() != ":":
            raise ValueError(f"expected ':' after {key!r}")
        return key

    def object_keys(self, where: str) -> Iterator[str]:
        if self.next_char() != "{":
            raise CorruptArchive(f"data.json: {where} is not an object")
        yield from self.members("}")

    def array_items(self, where: str) -> Iterator[None]:
        """Once per item of the array that starts here; the caller reads the
        item."""
        if self.next_char() != "[":
            raise CorruptArchive(f"data.json: {where} is not a list")
        if self.peek() == "]":
            self.next_char()
            return
        while True:
            yield
            char = self.next_char()
            if char == "]":
                return
            if char != ",":
                raise ValueError(f"expected ',' or ']' in {where}")

    def peek(self) -> str:
        char = self.next_char()
        if char:
            self.pos -= 1
        return char

    def string(self) -> str:
        """The string whose opening quote was just read."""
        while True:
            try:
                value, end = json.decoder.scanstring(self.buffer, self.pos)
            except json.JSONDecodeError as exc:
                if self.truncated(exc) and self.fill():
                    continue
                raise
            self.pos = end
            return value

    def value(self) -> tuple[Any, str]:
        """The next JSON value and its text.

        A value that runs to the end of what is buffered may go on beyond
        it (a number cut in two still decodes), so it is decoded again once
        more text is in.
        """
        buffer, pos = self.buffer, self.pos
        if pos >= len(buffer) or buffer[pos] in WHITESPACE:
            self.peek()
        wanted = CHUNK
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as exc:
                if not self.truncated(exc):
                    raise
                if self.fill(wanted):
                    wanted *= 2
                    continue
                raise
            if end == len(self.buffer) and self.fill(wanted):
                wanted *= 2
                continue
            text = self.buffer[self.pos : end]
            self.pos = end
            return value, text

    def truncated(self, error: json.JSONDecodeError) -> bool:
        """Whether ``error`` may only mean the value goes on past the buffer:
        an open string, or a failure within a few characters of its end (a
        cut number, literal or escape). A fault well inside the buffer is
        reported at once, without reading the rest of the file."""
        return (
            error.msg.startswith("Unterminated string")
            or error.pos >= len(self.buffer) - 32
        )

    def record(self, section: str, keys: tuple[str, ...]) -> Record:
        value, text = self.value()
        return Record(section, keys, value, text)
