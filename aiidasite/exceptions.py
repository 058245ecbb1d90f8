"""The project's exception hierarchy.

Each exception carries the HTTP status it maps to, so the API's exception
handler is a lookup and management commands turn any of them into one line on
stderr with exit code 1.
"""

from __future__ import annotations


class AiidaSiteError(Exception):
    """Base class of every error the project raises on purpose."""

    status_code = 400


class NotExistent(AiidaSiteError):
    """The requested object (node, setting, file, group...) does not exist."""

    status_code = 404


class MultipleObjectsError(AiidaSiteError):
    """A lookup that must match one object matched several."""

    status_code = 400


class InputValidationError(AiidaSiteError):
    """Input from a user or caller is malformed."""

    status_code = 400


class StoringNotAllowed(AiidaSiteError):
    """The object cannot be stored as it is (bad type, bad link, ...)."""

    status_code = 400


class ModificationNotAllowed(AiidaSiteError):
    """The object exists but the requested change is not allowed (immutable)."""

    status_code = 400


class UniquenessError(AiidaSiteError):
    """Storing would violate a uniqueness rule."""

    status_code = 409


class IncompatibleDatabaseSchema(AiidaSiteError):
    """The database schema does not match the code's schema."""

    status_code = 503


class LockedError(AiidaSiteError):
    """A resource is locked by another process."""

    status_code = 409


class CorruptArchive(AiidaSiteError):
    """An archive file is unreadable or inconsistent."""

    status_code = 400


class QueryTimeout(AiidaSiteError):
    """A query ran longer than the server allows and was cancelled."""

    status_code = 503


class ObjectInUse(AiidaSiteError):
    """The object cannot be deleted while other rows use it (a computer with
    nodes)."""

    status_code = 409


class PermissionDenied(AiidaSiteError):
    """The user may not change an object that belongs to another user."""

    status_code = 403


class RequestTooLarge(AiidaSiteError):
    """A request body or an uploaded file is larger than the site accepts."""

    status_code = 413
