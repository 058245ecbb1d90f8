"""The one place that builds the configured repository backend.

``settings.AIIDASITE_REPOSITORY`` names the backend class by dotted path and
its ``OPTIONS``, as Django's ``STORAGES`` do. The backend is built on first use,
kept for the process, and dropped when a test overrides those settings.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from repository.backends import AbstractRepositoryBackend

_lock = threading.Lock()
_backend: AbstractRepositoryBackend | None = None

WATCHED_SETTINGS = {"AIIDASITE_REPOSITORY", "AIIDASITE_REPOSITORY_PATH"}


def build_backend(config: dict[str, Any]) -> AbstractRepositoryBackend:
    """Build and initialise a backend from a ``{"BACKEND", "OPTIONS"}`` dict.

    A backend class with a ``from_options`` classmethod builds itself from the
    options (the disk-objectstore backend opens its container that way); any
    other is called with the options as keyword arguments.

    :raises ImproperlyConfigured: if the class cannot be imported, is not a
        repository backend, or rejects the options.
    """
    try:
        path = config["BACKEND"]
        options = dict(config.get("OPTIONS", {}))
        cls = import_string(path)
    except (KeyError, TypeError, ImportError) as exc:
        raise ImproperlyConfigured(f"AIIDASITE_REPOSITORY is invalid: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, AbstractRepositoryBackend)):
        raise ImproperlyConfigured(f"{path} is not a repository backend class")
    try:
        factory = getattr(cls, "from_options", cls)
        backend = factory(**options)
    except TypeError as exc:
        raise ImproperlyConfigured(f"{path}: {exc}") from exc
    if not backend.is_initialised:
        backend.initialise()
    return backend


def get_backend() -> AbstractRepositoryBackend:
    """The configured backend, built once per process (thread-safe)."""
    global _backend
    backend = _backend
    if backend is None:
        with _lock:
            if _backend is None:
                _backend = build_backend(settings.AIIDASITE_REPOSITORY)
            backend = _backend
    return backend


def reset_backend() -> None:
    """Forget the built backend; the next :func:`get_backend` builds it anew."""
    global _backend
    with _lock:
        _backend = None


@receiver(setting_changed)
def _reset_on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in WATCHED_SETTINGS:
        reset_backend()
