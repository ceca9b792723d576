"""One run at a time per output folder: an exclusive lock on `<root>/.run.lock`.

The lock is the operating system's (filelock: fcntl on Unix, msvcrt on Windows), so it is released
when its process ends, however it ends; a killed run never leaves a stale lock behind.
`<root>/.run.lock.json` names the holder: pid, start time and command. The holder's child processes
(the runner's notebook kernels) find the locked folder in $DIGIT_RECOGNIZER_LOCKED_OUTPUT.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from .files import now, write_json

LOCK_NAME = ".run.lock"
HOLDER_NAME = ".run.lock.json"
LOCKED_ENV = "DIGIT_RECOGNIZER_LOCKED_OUTPUT"


class OutputFolderBusy(RuntimeError):
    """Another run holds the output folder's lock."""


def holder(root: Path) -> str:
    """Who holds the lock, in words, as the holder recorded it."""
    try:
        found = json.loads((root / HOLDER_NAME).read_text())
        return f"pid {found['pid']}, started {found['started_at']}, command: {found['command']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder not recorded"


def _acquire(root: Path) -> FileLock | None:
    """The folder's lock, taken; None, with a warning, on a file system without locks (a Google Drive or
    other network mount can lack them), where two runs on the folder cannot be prevented."""
    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(root / LOCK_NAME)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise OutputFolderBusy(f"{root} is in use by another run ({holder(root)}): wait for it to end, or "
                               "give this run another output folder (--output-dir; a notebook's output_dir)"
                               ) from None
    except (NotImplementedError, OSError) as error:
        print(f"warning: {root} cannot be locked on this file system ({error}): nothing stops a second "
              "run from writing here at the same time", flush=True)
        return None
    return lock


@contextmanager
def output_folder_lock(root: str | Path, command: str):
    """Hold the output folder's lock while the block runs; raise OutputFolderBusy at once if another
    process holds it. `command` is recorded so a refused run can say what it waits for."""
    root = Path(root).resolve()
    lock = _acquire(root)
    outer = os.environ.get(LOCKED_ENV)
    try:
        write_json({"pid": os.getpid(), "started_at": now(), "command": command}, root / HOLDER_NAME)
        os.environ[LOCKED_ENV] = str(root)
        yield
    finally:
        if outer is None:
            os.environ.pop(LOCKED_ENV, None)
        else:
            os.environ[LOCKED_ENV] = outer
        (root / HOLDER_NAME).unlink(missing_ok=True)
        if lock:
            lock.release()


def refuse_if_busy(root: str | Path) -> None:
    """For a notebook run by hand: raise OutputFolderBusy if a run holds the folder's lock. Inside the
    runner that holds it (its kernels inherit LOCKED_ENV) there is nothing to check."""
    root = Path(root).resolve()
    if os.environ.get(LOCKED_ENV) != str(root) and (lock := _acquire(root)):
        lock.release()
