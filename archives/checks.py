"""System checks: archive limits that would refuse every archive, or a
temporary folder that cannot be used."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error

LIMITS = (
    "AIIDASITE_ARCHIVE_MAX_METADATA_MIB",
    "AIIDASITE_ARCHIVE_MAX_DATABASE_MIB",
    "AIIDASITE_ARCHIVE_MAX_RATIO",
)


def check_archive_settings(**kwargs: Any) -> list[CheckMessage]:
    """``archives.E001`` for a limit below 1, ``archives.E002`` for an
    ``AIIDASITE_TMP_DIR`` that cannot be written in."""
    errors: list[CheckMessage] = []
    for name in LIMITS:
        value = getattr(settings, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            errors.append(
                Error(
                    f"{name} is {value!r}: every archive would be refused",
                    hint=f"set {name} to a positive integer, or unset it",
                    id="archives.E001",
                )
            )
    folder = settings.AIIDASITE_TMP_DIR
    if folder and not _usable_folder(Path(folder)):
        errors.append(
            Error(
                f"AIIDASITE_TMP_DIR {folder} is not a folder this process can "
                "write in or create",
                hint="fix its permissions, or unset AIIDASITE_TMP_DIR to use "
                "the system's",
                id="archives.E002",
            )
        )
    return errors


def _usable_folder(path: Path) -> bool:
    """Whether ``path`` is a writable folder, or a missing one that can be
    made (the first temporary folder creates it)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe == path and not path.is_dir():
        return False
    return probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)
