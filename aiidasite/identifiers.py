"""Reading primary keys from text a user typed (URLs, query strings, commands)."""

from __future__ import annotations

# Primary keys are bigints: nothing at or beyond this exists, and SQLite's
# driver refuses to even send such a number.
MAX_PK = 2**63


def pk_from_text(text: str) -> int | None:
    """``text`` as a primary key: ASCII digits naming a bigint; else None.

    ``str.isdigit`` and ``int`` also take other scripts' digits (``int("١٢٣")``
    is 123, ``"²".isdigit()`` is true and ``int("²")`` fails): identifiers are
    ASCII, anything else is a label, a uuid or nothing.
    """
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value < MAX_PK else None
