#!/usr/bin/env python
"""Django's command-line utility for aiidasite."""

import os
import signal
import sys


def undecodable_argument(argv: list[str]) -> str | None:
    """The first argument that was not valid UTF-8, or None.

    Python keeps such bytes as lone surrogates (``\\udcff`` for ``\\xff``),
    which no database, file name or output can encode: every command would
    fail on them somewhere later, with a traceback.
    """
    for argument in argv:
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:
            return argument
    return None


def main() -> None:
    # `manage.py node show 1 | head` should end quietly when head does.
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    bad = undecodable_argument(sys.argv[1:])
    if bad is not None:
        # !a shows the bytes as escapes, which any terminal can print.
        sys.stderr.write(f"CommandError: argument {bad!a} is not valid UTF-8\n")
        sys.exit(1)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aiidasite.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        # Reading the settings checks the environment's values.
        settings.INSTALLED_APPS  # noqa: B018
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"ImproperlyConfigured: {exc}\n")
        sys.exit(1)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
