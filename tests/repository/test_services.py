"""Repository-wide maintenance and verification through the services."""

from __future__ import annotations

import io
import threading

import pytest

from repository import get_backend, services
from repository.exceptions import MaintenanceOptionsError
from repository.services import (
    referenced_keys,
    register_reference_provider,
    repository_info,
    repository_maintain,
    repository_verify,
    unregister_reference_provider,
)

pytestmark = pytest.mark.usefixtures("no_reference_providers")


@pytest.fixture
def provider(configured_repository):
    """A reference provider whose keys the test chooses."""
    keys: set[str] = set()

    def provide() -> set[str]:
        return set(keys)

    register_reference_provider(provide)
    yield keys
    unregister_reference_provider(provide)


def test_info_reports_the_configured_backend(configured_repository):
    get_backend().put_object_from_filelike(io.BytesIO(b"x"))
    info = repository_info(detailed=True)
    assert info["Objects"]["loose"] == 1
    assert info["folder"] == str(configured_repository.resolve())
    assert info["Size (MB)"]["total_size_loose"] == 0.0


def test_maintain_without_providers_deletes_nothing(configured_repository):
    key = get_backend().put_object_from_filelike(io.BytesIO(b"orphan"))
    report = repository_maintain()
    assert report["reference_check"] is False
    assert report["deleted"] == 0
    assert get_backend().has_object(key)


def test_maintain_deletes_objects_no_provider_references(provider):
    backend = get_backend()
    kept = backend.put_object_from_filelike(io.BytesIO(b"kept"))
    orphans = backend.put_objects_from_bytes([b"orphan-1", b"orphan-2"])
    provider.add(kept)
    report = repository_maintain(full=True)
    assert report["unreferenced"] == 2
    assert report["deleted"] == 2
    assert backend.has_objects([kept, *orphans]) == [True, False, False]


def test_maintain_dry_run_counts_but_keeps_unreferenced_objects(provider):
    orphan = get_backend().put_object_from_filelike(io.BytesIO(b"orphan"))
    report = repository_maintain(dry_run=True)
    assert report["unreferenced"] == 1
    assert report["deleted"] == 0
    assert get_backend().has_object(orphan)
    assert get_backend().get_info()["Objects"]["loose"] == 1


def test_every_registered_provider_is_asked(provider):
    def other() -> list[str]:
        return ["b" * 64]

    register_reference_provider(other)
    register_reference_provider(other)
    try:
        provider.add("a" * 64)
        assert referenced_keys() == {"a" * 64, "b" * 64}
    finally:
        unregister_reference_provider(other)
    assert referenced_keys() == {"a" * 64}


def test_verify_passes_on_a_healthy_repository(provider):
    key = get_backend().put_object_from_filelike(io.BytesIO(b"fine"))
    provider.add(key)
    assert repository_verify() == {
        "objects": 1,
        "corrupt": [],
        "missing": [],
        "ok": True,
    }


def test_verify_reports_a_referenced_key_that_is_missing(provider):
    provider.add("d" * 64)
    result = repository_verify()
    assert result["missing"] == ["d" * 64]
    assert result["ok"] is False


def test_verify_reports_a_corrupt_object(configured_repository):
    key = get_backend().put_object_from_filelike(io.BytesIO(b"original"))
    (configured_repository / "loose" / key[:2] / key[2:]).write_bytes(b"bad")
    result = repository_verify()
    assert result["corrupt"] == [key]
    assert result["ok"] is False


def test_maintain_waits_for_a_writer_and_keeps_what_it_commits(provider):
    backend = get_backend()
    reports: list[dict] = []
    with services.storing_objects():
        key = backend.put_object_from_filelike(io.BytesIO(b"not committed yet"))
        worker = threading.Thread(
            target=lambda: reports.append(services.repository_maintain())
        )
        worker.start()
        worker.join(0.5)
        assert worker.is_alive(), "maintenance must wait for the writer"
        provider.add(key)  # the writer's rows commit
    worker.join(30)

    assert not worker.is_alive()
    assert reports[0]["deleted"] == 0
    assert backend.has_object(key)


def test_writers_wait_while_orphans_are_deleted(configured_repository):
    entered = threading.Event()

    def write() -> None:
        with services.storing_objects():
            entered.set()

    with get_backend().reference_guard(exclusive=True):
        worker = threading.Thread(target=write)
        worker.start()
        assert not entered.wait(0.3)
    assert entered.wait(30)
    worker.join()


def test_a_repack_asked_for_without_full_is_refused_before_anything_is_deleted(
    provider,
):
    orphan = get_backend().put_object_from_filelike(io.BytesIO(b"orphan"))
    with pytest.raises(MaintenanceOptionsError, match="`live=True`: do_repack"):
        repository_maintain(do_repack=True)
    assert get_backend().has_object(orphan)
    assert get_backend().get_info()["Objects"]["loose"] == 1


def test_full_maintain_reports_the_steps_it_ran(provider):
    get_backend().put_object_from_filelike(io.BytesIO(b"x"))
    report = repository_maintain(full=True)
    assert report["live"] is False
    assert report["actions"] == [
        "pack_loose",
        "do_repack",
        "clean_storage",
        "do_vacuum",
    ]
