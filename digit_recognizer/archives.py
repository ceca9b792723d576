"""Kaggle's zip files, checked before anything is unpacked: all members land in the folder, or none do.

Imports nothing from the package at load time, so `data.py` may import it; errors are `data.DataError`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path

COMPETITION_FILES = ("train.csv", "test.csv", "sample_submission.csv")
REQUIRED_FILES = ("train.csv", "test.csv")


def _error(message: str):
    from .data import DataError  # late: data.py may import this module

    return DataError(message)


def _not_a_zip(archive: Path) -> str:
    with open(archive, "rb") as handle:
        start = handle.read(512).lstrip().lower()
    if start.startswith((b"<!doctype html", b"<html")):
        return "not a zip archive but an HTML page (an error or sign-in page saved in its place)"
    if not start:
        return "not a zip archive: the file is empty"
    return "not a zip archive (damaged or incomplete download)"


def required_members(archive: Path) -> tuple[str, ...]:
    """A per-file zip (`train.csv.zip`) must hold that file; any other, train.csv and test.csv."""
    inner = archive.name.removesuffix(".zip")
    return (inner,) if inner in COMPETITION_FILES else REQUIRED_FILES


def extract_competition_zip(archive: Path, dest: Path, shown_as: str | None = None) -> list[Path]:
    """Check `archive` and unpack its competition files into `dest`; returns the files written.

    The whole-competition zip (`digit-recognizer.zip`) must hold train.csv and test.csv (and may hold
    sample_submission.csv); a per-file zip (`test.csv.zip`) must hold its own file. Every member is read
    in full, CRC checked, into a temp folder inside `dest` before any is renamed into place, so a bad
    archive raises `data.DataError` naming the file (`shown_as`, default the path) and member, and leaves
    `dest` as it was.
    """
    archive, dest = Path(archive), Path(dest)
    name = shown_as or str(archive)
    if not archive.is_file():
        raise _error(f"{name}: not found")
    if not zipfile.is_zipfile(archive):
        raise _error(f"{name}: {_not_a_zip(archive)}")
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = set(zipped.namelist())
            missing = [m for m in required_members(archive) if m not in members]
            if missing:
                held = ", ".join(sorted(members)[:10]) or "nothing"
                raise _error(f"{name}: holds no {' or '.join(missing)} (it holds: {held})")
            wanted = [m for m in COMPETITION_FILES if m in members]
            dest.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=dest, prefix=".unzip-"))
            try:
                for member in wanted:
                    try:
                        with zipped.open(member) as source, open(staging / member, "wb") as target:
                            shutil.copyfileobj(source, target)
                    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as error:
                        raise _error(f"{name}: member {member} cannot be read ({error})") from None
                for member in wanted:
                    os.replace(staging / member, dest / member)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    except zipfile.BadZipFile as error:
        raise _error(f"{name}: damaged zip archive ({error})") from None
    return [dest / member for member in wanted]
