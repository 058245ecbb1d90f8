"""Fixtures for archive tests: the real AiiDA archive and ways to damage it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "aiida-archives"
BANDS_SMALL = SHARED / "bands-small.aiida"


@pytest.fixture
def bands_archive() -> Path:
    if not BANDS_SMALL.exists():
        pytest.fail(f"{BANDS_SMALL} is missing: ../shared must sit beside the repo")
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
