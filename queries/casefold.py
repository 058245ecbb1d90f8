"""Case-insensitive matching (``ilike``) beyond ASCII on SQLite.

SQLite's ``lower()`` and ``LIKE`` fold the 26 ASCII letters only, so ``Ü``
did not match ``ü`` there while PostgreSQL's ``ILIKE`` matched it. Each
SQLite connection gets a function that lowers text as Python does; the
compiler matches the lowered text against the lowered pattern.
"""

from __future__ import annotations

from typing import Any

# The SQL name of the function on SQLite connections.
LOWER = "aiidasite_lower"


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def register(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: add :data:`LOWER` to a new SQLite
    connection (deterministic, so SQLite may use it wherever it likes)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(LOWER, 1, _lower, deterministic=True)
