"""Kaggle's zip files, checked before anything is unpacked: all members land in the folder, or none do.

Bounded before anything is written (members, declared sizes, compression ratio, and the bytes actually
read), never overwriting a file the folder holds: a member already there with the same content is kept,
one with other content stops the unpacking, naming both. Errors are `DataError`s.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path

from ..plumbing.messages import DataError

# What Kaggle's website and `kaggle competitions download` give: the whole competition zipped, or one file.
COMPETITION_ZIP = "digit-recognizer.zip"
ZIP_MEMBERS = ("train.csv", "test.csv", "sample_submission.csv")  # what a competition zip holds
REQUIRED_FILES = ("train.csv", "test.csv")
# Kaggle's train.csv is 76 MB and compresses about 8 times; these bounds leave room and stop a zip bomb.
MAX_MEMBERS = 100
MAX_MEMBER_BYTES = 512 * 2**20
MAX_RATIO = 200
CHUNK = 1 << 20




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
    return (inner,) if inner in ZIP_MEMBERS else REQUIRED_FILES


def check_bounds(name: str, infos: list[zipfile.ZipInfo], wanted: list[zipfile.ZipInfo]) -> None:
    """Refuse, before anything is written, an archive that could fill the disk or is encrypted."""
    if len(infos) > MAX_MEMBERS:
        raise DataError(f"{name}: holds {len(infos):,} members, more than the {MAX_MEMBERS} a competition "
                        "zip could: not Kaggle's archive")
    for info in wanted:
        if info.flag_bits & 0x1:
            raise DataError(f"{name}: member {info.filename} is encrypted: unzip it yourself (with its "
                         "password) into the data folder")
        if info.file_size > MAX_MEMBER_BYTES:
            raise DataError(f"{name}: member {info.filename} would unpack to {info.file_size:,} bytes, more "
                         f"than the {MAX_MEMBER_BYTES:,} a competition file could: not Kaggle's archive")
        if info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise DataError(f"{name}: member {info.filename} would unpack to {info.file_size:,} bytes from "
                         f"{info.compress_size:,}, a ratio no CSV of digits has (a zip bomb?): not Kaggle's "
                         "archive")


def file_crc32(path: Path) -> int:
    crc = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            crc = zlib.crc32(block, crc)
    return crc


def copy_bounded(source, target, info: zipfile.ZipInfo, name: str) -> None:
    """Copy a member, stopping if it yields more bytes than it declares."""
    written = 0
    for block in iter(lambda: source.read(CHUNK), b""):
        written += len(block)
        if written > info.file_size:
            raise DataError(f"{name}: member {info.filename} holds more than the {info.file_size:,} bytes it "
                         "declares: damaged or forged archive")
        target.write(block)


def extract_competition_zip(archive: Path, dest: Path, shown_as: str | None = None) -> list[Path]:
    """Check `archive` and unpack into `dest` the competition files it holds that `dest` lacks; returns
    the files written.

    The whole-competition zip (`digit-recognizer.zip`) must hold train.csv and test.csv (and may hold
    sample_submission.csv); a per-file zip (`test.csv.zip`) must hold its own file. The archive's bounds
    are checked first (`check_bounds`); a member `dest` already holds is kept when its content is the
    same (CRC-32) and refused otherwise. Every member written is read in full, CRC checked, into a temp
    folder inside `dest` before any is renamed into place, so a bad archive raises `DataError` naming
    the file (`shown_as`, default the path) and member, and leaves `dest` as it was.
    """
    archive, dest = Path(archive), Path(dest)
    name = shown_as or str(archive)
    if not archive.is_file():
        raise DataError(f"{name}: not found")
    if not zipfile.is_zipfile(archive):
        raise DataError(f"{name}: {_not_a_zip(archive)}")
    try:
        with zipfile.ZipFile(archive) as zipped:
            infos = zipped.infolist()
            members = {info.filename: info for info in infos}
            missing = [m for m in required_members(archive) if m not in members]
            if missing:
                held = ", ".join(sorted(members)[:10]) or "nothing"
                raise DataError(f"{name}: holds no {' or '.join(missing)} (it holds: {held})")
            wanted = [members[m] for m in ZIP_MEMBERS if m in members]
            check_bounds(name, infos, wanted)
            present = [info for info in wanted if (dest / info.filename).exists()]
            for info in present:
                if not (dest / info.filename).is_file() or file_crc32(dest / info.filename) != info.CRC:
                    raise DataError(f"{dest / info.filename}: differs from the {info.filename} in {name}; "
                                 "nothing was unpacked, and neither was changed: keep one (delete or move "
                                 "the other) and run again")
            wanted = [info for info in wanted if info not in present]
            if not wanted:
                return []
            if dest.is_dir() and not os.access(dest, os.W_OK):
                raise DataError(f"{name}: cannot unpack it here (read-only folder): unzip it into a writable "
                             "folder and give that folder as the data folder")
            dest.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=dest, prefix=".unzip-"))
            try:
                for info in wanted:
                    try:
                        with zipped.open(info) as source, open(staging / info.filename, "wb") as target:
                            copy_bounded(source, target, info, name)
                    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as error:
                        raise DataError(f"{name}: member {info.filename} cannot be read ({error})") from None
                for info in wanted:
                    os.replace(staging / info.filename, dest / info.filename)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    except zipfile.BadZipFile as error:
        raise DataError(f"{name}: damaged zip archive ({error})") from None
    return [dest / info.filename for info in wanted]
