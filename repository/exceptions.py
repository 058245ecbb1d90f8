"""Errors of the repository app.

Each one is both a project error (so the API maps it to a status and commands
to one line on stderr) and the standard exception a file-like API raises, so
callers written against ``open()`` semantics catch them as usual.
"""

from __future__ import annotations

from aiidasite.exceptions import AiidaSiteError, InputValidationError, NotExistent


class ObjectNotFoundError(NotExistent, FileNotFoundError):
    """No object is stored under the given key, or no file exists at a path."""


class InvalidPathError(InputValidationError, ValueError, TypeError):
    """A path inside a repository is not a clean relative POSIX path.

    aiida-core raises ``TypeError`` for an absolute or mistyped path and
    callers catch that; ``ValueError`` is what a malformed value is in Python.
    It is both, so code written against either catches it.
    """


class InvalidLocalPathError(InputValidationError, ValueError, TypeError):
    """A path on the local file system is not absolute, or not a path.

    ``TypeError`` too, as aiida-core raises for it.
    """


class InvalidEntryError(InputValidationError, ValueError):
    """A contradictory file entry: a file with children, a directory with a key."""


class MaintenanceOptionsError(InputValidationError, ValueError):
    """Maintenance options that are unsafe together (a repack while in use)."""


class NotAFileError(InputValidationError, IsADirectoryError):
    """The path names a directory where a file was expected."""


class NotADirectoryPathError(InputValidationError, NotADirectoryError):
    """The path names a file where a directory was expected."""


class ReferenceProviderError(AiidaSiteError):
    """A registered reference provider failed, so no object may be deleted."""

    status_code = 503
