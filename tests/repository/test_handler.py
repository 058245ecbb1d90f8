"""Building the configured backend from settings."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ImproperlyConfigured

from repository import get_backend
from repository.backends import (
    DiskObjectStoreRepositoryBackend,
    SandboxRepositoryBackend,
)
from repository.handler import build_backend


def test_get_backend_builds_the_configured_container(configured_repository):
    backend = get_backend()
    assert isinstance(backend, DiskObjectStoreRepositoryBackend)
    assert backend.folder == configured_repository.resolve()
    assert backend.is_initialised


def test_get_backend_returns_the_same_instance_every_time(configured_repository):
    seen = []
    threads = [
        threading.Thread(target=lambda: seen.append(get_backend())) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(backend) for backend in seen}) == 1
    assert get_backend() is seen[0]


def test_changing_the_setting_builds_a_new_backend(
    configured_repository, settings, tmp_path
):
    first = get_backend()
    settings.AIIDASITE_REPOSITORY = {
        "BACKEND": "repository.backends.DiskObjectStoreRepositoryBackend",
        "OPTIONS": {"folder": str(tmp_path / "elsewhere")},
    }
    second = get_backend()
    assert second is not first
    assert second.folder == (tmp_path / "elsewhere").resolve()


def test_the_session_repository_is_outside_the_data_folder(isolated_repository):
    assert get_backend().folder == isolated_repository.resolve()


def test_a_sandbox_can_be_configured_by_dotted_path(settings, tmp_path):
    settings.AIIDASITE_REPOSITORY = {
        "BACKEND": "repository.backends.SandboxRepositoryBackend",
        "OPTIONS": {"filepath": str(tmp_path)},
    }
    backend = get_backend()
    assert isinstance(backend, SandboxRepositoryBackend)
    assert backend.folder.parent == tmp_path


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"BACKEND": "repository.backends.Nope"}, "AIIDASITE_REPOSITORY is invalid"),
        ({"OPTIONS": {}}, "AIIDASITE_REPOSITORY is invalid"),
        ({"BACKEND": "repository.tree.Repository"}, "is not a repository backend"),
        (
            {
                "BACKEND": "repository.backends.DiskObjectStoreRepositoryBackend",
                "OPTIONS": {"folder": "/tmp/x", "colour": "red"},
            },
            "unknown repository options: colour",
        ),
    ],
)
def test_a_bad_configuration_is_improperly_configured(config, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        build_backend(config)
