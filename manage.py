#!/usr/bin/env python
"""Django's command-line utility for aiidasite."""

import os
import signal
import sys


def main() -> None:
    # `manage.py node show 1 | head` should end quietly when head does.
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aiidasite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
