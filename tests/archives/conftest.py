"""Fixtures for archive tests: the real AiiDA archive and ways to damage it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

# Written by aiida-core 2.9.4 (main_0001); kept in the repository so the
# archive tests run on a fresh clone.
BANDS_SMALL = Path(__file__).resolve().parents[1] / "data" / "bands-small.aiida"


@pytest.fixture
def bands_archive() -> Path:
    return BANDS_SMALL


def rewrite_archive(
    src: Path,
    dst: Path,
    *,
    metadata: dict | None = None,
    drop: tuple[str, ...] = (),
    replace: dict[str, bytes] | None = None,
) -> Path:
    """Copy an archive, changing its metadata, dropping or replacing members."""
    replace = replace or {}
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w") as new:
        for info in old.infolist():
            if info.filename in drop:
                continue
            data = replace.get(info.filename, old.read(info.filename))
            if info.filename == "metadata.json" and metadata is not None:
                data = json.dumps({**json.loads(data), **metadata}).encode()
            new.writestr(info.filename, data)
    return dst


@pytest.fixture
def damaged(bands_archive, tmp_path):
    def make(name: str, **changes) -> Path:
        return rewrite_archive(bands_archive, tmp_path / name, **changes)

    return make


@pytest.fixture(autouse=True)
def fresh_repository(configured_repository):
    """An empty container per test: archive tests count and check its objects."""
    return configured_repository
