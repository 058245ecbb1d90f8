"""Repository-wide work: what the commands and the API call.

Services stay silent and return data; callers format it. Which objects are
still in use is known only to the apps that keep file trees (nodes), and this
app must not import them, so they register a *reference provider* here: a
function returning every key they still reference.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any

from aiidasite.tempdirs import remove_stale
from repository.backends.base import maintenance_plan
from repository.exceptions import ReferenceProviderError
from repository.handler import get_backend

ReferenceProvider = Callable[[], Iterable[str]]
ProgressCallback = Callable[[str, Any], None]

_providers: list[ReferenceProvider] = []
_providers_lock = threading.Lock()


def register_reference_provider(provider: ReferenceProvider) -> None:
    """Add ``provider``: ``provider()`` returns keys that must be kept.

    Registering the same function twice has no effect.
    """
    with _providers_lock:
        if provider not in _providers:
            _providers.append(provider)


def unregister_reference_provider(provider: ReferenceProvider) -> None:
    """Remove ``provider`` if it was registered."""
    with _providers_lock:
        if provider in _providers:
            _providers.remove(provider)


def referenced_keys() -> set[str] | None:
    """Every key some provider references, or ``None`` if none is registered.

    :raises ReferenceProviderError: if a provider fails (for instance its
        tables do not exist yet); the original error is its cause.
    """
    with _providers_lock:
        providers = list(_providers)
    if not providers:
        return None
    keys: set[str] = set()
    for provider in providers:
        try:
            keys.update(provider())
        except Exception as exc:
            # Whatever went wrong, deleting on a partial answer would lose data.
            name = getattr(provider, "__qualname__", repr(provider))
            raise ReferenceProviderError(
                f"reference provider {name} failed: {exc}"
            ) from exc
    return keys


def storing_objects() -> AbstractContextManager[None]:
    """Hold from writing objects until the rows that reference them commit.

    Maintenance does not look for unreferenced objects meanwhile.

    :raises LockedError: if maintenance holds the store past the lock timeout.
    """
    return get_backend().reference_guard(exclusive=False)


def repository_info(*, detailed: bool = False) -> dict[str, Any]:
    """What the configured backend holds."""
    return get_backend().get_info(detailed=detailed)


def repository_maintain(
    *,
    full: bool = False,
    dry_run: bool = False,
    do_repack: bool | None = None,
    compress: bool = False,
    callback: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Delete unreferenced objects, then let the backend reorganise its storage.

    Unreferenced objects are only looked for once a reference provider is
    registered; with none, nothing is deleted. An object is unreferenced when
    no provider returns its key. Writers hold :func:`storing_objects` until
    their rows are committed, and this waits for them, so an object whose
    owner is about to commit is never taken for an orphan.

    The options are ``verdi storage maintain``'s: ``full`` is the backend's
    ``live=False``.

    :param full: also repack, clean and vacuum (other processes' reads may
        fail meanwhile).
    :param dry_run: report what would be done, change nothing.
    :param do_repack: ``False`` skips the repack of a full maintenance.
    :param compress: compress what is packed where it is worth it.
    :param callback: progress callback ``callback(action, value)``.
    :return: the backend's report plus ``unreferenced`` (count found),
        ``deleted`` (count deleted: 0 on a dry run) and
        ``stale_temporary_folders`` (``aiidasite-*`` folders of processes that
        are gone, removed; 0 on a dry run).
    :raises MaintenanceOptionsError: for ``do_repack=True`` without ``full``.
    """
    backend = get_backend()
    options = {"live": not full, "do_repack": do_repack, "compress": compress}
    # Refuse unsafe options before anything is deleted.
    maintenance_plan(**options)
    # Exclusive: no writer is between storing objects and committing rows.
    with backend.reference_guard(exclusive=True):
        stored = list(backend.list_objects())
        keep = referenced_keys()
        unreferenced = (
            [] if keep is None else [key for key in stored if key not in keep]
        )
        deleted = 0
        if unreferenced and not dry_run:
            backend.delete_objects(unreferenced)
            deleted = len(unreferenced)
    report = backend.maintain(dry_run=dry_run, callback=callback, **options)
    report["reference_check"] = keep is not None
    report["unreferenced"] = len(unreferenced)
    report["deleted"] = deleted
    # Temporary folders of killed imports and exports go too.
    report["stale_temporary_folders"] = 0 if dry_run else len(remove_stale())
    return report


def repository_verify(*, callback: ProgressCallback | None = None) -> dict[str, Any]:
    """Recompute every object's hash and look for referenced keys that are gone.

    :return: ``{"objects": n, "corrupt": [keys], "missing": [keys], "ok": bool}``;
        ``missing`` is only checked when a reference provider is registered.
    """
    backend = get_backend()
    corrupt = backend.find_corrupt_objects(callback=callback)
    keep = referenced_keys() or set()
    wanted = sorted(keep)
    missing = [
        key
        for key, has in zip(wanted, backend.has_objects(wanted), strict=True)
        if not has
    ]
    return {
        "objects": len(list(backend.list_objects())),
        "corrupt": corrupt,
        "missing": missing,
        "ok": not corrupt and not missing,
    }
