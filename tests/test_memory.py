"""Peak memory: the true peak on Unix, psutil's figures where the `resource` module is missing."""

import sys
from collections import namedtuple

import psutil
import pytest

from digit_recognizer.plumbing import memory
from digit_recognizer.plumbing.memory import MIB, peak_memory_mb


@pytest.mark.skipif(sys.platform == "win32", reason="getrusage is Unix-only")
def test_on_unix_the_peak_is_getrusages_in_mib_and_at_least_the_current_size():
    import resource

    peak = peak_memory_mb()
    divisor = MIB if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    assert peak == pytest.approx(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / divisor, abs=1)
    assert peak >= psutil.Process().memory_info().rss / MIB - 1 > 10


WindowsMemory = namedtuple("WindowsMemory", "rss vms peak_wset")
OtherMemory = namedtuple("OtherMemory", "rss vms")


@pytest.mark.parametrize("info, expected", [(WindowsMemory(100 * MIB, 0, 300 * MIB), 300.0),
                                            (OtherMemory(100 * MIB, 0), 100.0)], ids=["windows", "other"])
def test_without_resource_psutil_gives_the_peak_working_set_or_else_rss(monkeypatch, info, expected):
    monkeypatch.setitem(sys.modules, "resource", None)  # as on Windows: `import resource` fails

    class Process:
        def memory_info(self):
            return info

    monkeypatch.setattr(memory.psutil, "Process", Process)
    assert peak_memory_mb() == expected
