"""Peak memory of a benchmark process, for our side and aiida-core's alike
(standard library only: aiida-core's scripts import it from their folder)."""

from __future__ import annotations

import resource


def peak_rss_mib() -> float:
    """This process's peak resident memory since it started its program (MiB).

    Linux's ``ru_maxrss`` carries over what the process held before ``exec``,
    so a child started by a large benchmark process would report its
    parent's size; ``VmHWM`` is the new program's own.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
