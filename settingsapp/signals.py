"""Keep ``db|schemaversion`` in step with every migrate, ``manage.py migrate`` too."""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS

from settingsapp.schema import BackendManager


def record_schema_version(
    sender: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any
) -> None:
    """``post_migrate`` receiver: record the applied schema version of ``using``."""
    BackendManager(using).record_schema_version()
