"""Errors of the repository app.

Each one is both a project error (so the API maps it to a status and commands
to one line on stderr) and the standard exception a file-like API raises, so
callers written against ``open()`` semantics catch them as usual.
"""

from __future__ import annotations

from aiidasite.exceptions import AiidaSiteError, InputValidationError, NotExistent


class ObjectNotFoundError(NotExistent, FileNotFoundError):
    """No object is stored under the given key, or no file exists at a path."""


class InvalidPathError(InputValidationError, ValueError):
    """A path inside a repository is not a clean relative POSIX path."""


class NotAFileError(InputValidationError, IsADirectoryError):
    """The path names a directory where a file was expected."""


class NotADirectoryPathError(InputValidationError, NotADirectoryError):
    """The path names a file where a directory was expected."""


class ReferenceProviderError(AiidaSiteError):
    """A registered reference provider failed, so no object may be deleted."""

    status_code = 503
