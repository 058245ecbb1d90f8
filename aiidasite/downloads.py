"""Names offered to browsers for downloaded files.

A label, a uuid or a file name comes from a user; it is never a path on the
server, and what a browser is told to save must not be one either.
"""

from __future__ import annotations

import re
import unicodedata

# What stays of a name: letters, digits, '.', '_' and '-'; runs of anything
# else become one '_'.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_LENGTH = 100


def safe_filename(text: str, *, suffix: str = "", fallback: str = "download") -> str:
    """``text`` reduced to a plain file name that names no folder.

    Separators, control characters and other punctuation become ``_``;
    leading dots and underscores go (no hidden files, no ``..``); the stem is
    cut to 100 characters. ``fallback`` is used when nothing is left.
    ``suffix`` (e.g. ``".aiida"``) is appended unless the name ends with it.
    """
    ascii_text = (
        unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    )
    stem = _UNSAFE.sub("_", ascii_text).lstrip("._-")
    if suffix and stem.endswith(suffix):
        stem = stem[: -len(suffix)]
    stem = stem[:MAX_LENGTH].rstrip("._-") or fallback
    return stem + suffix
