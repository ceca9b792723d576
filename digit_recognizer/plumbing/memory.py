"""This process's peak memory, measured the same way on every platform the project runs on."""

from __future__ import annotations

import sys

import psutil

MIB = 1024 * 1024


def peak_memory_mb() -> float:
    """This process's peak resident memory so far, in MiB.

    On Unix (Linux, macOS) the kernel keeps the true peak: getrusage's ru_maxrss (KiB on Linux, bytes on
    macOS). psutil has no peak there (its rss is the current size), so it is the fallback: Windows, which
    lacks the `resource` module, reports its peak working set (peak_wset); anywhere else the current rss
    stands in, a lower bound on the peak."""
    try:
        import resource
    except ImportError:
        info = psutil.Process().memory_info()
        return round(getattr(info, "peak_wset", info.rss) / MIB, 1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (MIB if sys.platform == "darwin" else 1024), 1)
