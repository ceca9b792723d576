"""Files written atomically, JSON records, file digests and record time stamps: a failed run never leaves a
half-written output behind."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temp path beside `path`; on success it replaces `path`, on error it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_json(data, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_json(path: str | Path):
    return json.loads(Path(path).read_text())


def read_json_or_none(path: str | Path):
    """What a JSON file holds, or None where it is missing or not JSON: for a record that is only trusted
    once it matches (`lineage.matches`), and otherwise made again."""
    try:
        return read_json(path) if Path(path).is_file() else None
    except ValueError:  # not JSON, or not text (UnicodeDecodeError is a ValueError)
        return None


class RecordError(ValueError):
    """A file the project wrote earlier is damaged or was edited: the message names the file, the field
    and the remedy."""


def read_record(path: str | Path, remedy: str) -> dict:
    """A JSON object the project wrote, checked to be one: a damaged file raises RecordError naming it and
    `remedy` (what to run again), never a raw JSON error. A missing one raises FileNotFoundError."""
    path = Path(path)
    try:
        value = json.loads(path.read_text())
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as error:
        raise RecordError(f"{path}: cannot be read ({error}): {remedy}") from None
    except json.JSONDecodeError as error:
        raise RecordError(f"{path}: damaged, not JSON ({error.msg} at line {error.lineno}, column "
                          f"{error.colno}): {remedy}") from None
    if not isinstance(value, dict):
        raise RecordError(f"{path}: holds a JSON {type(value).__name__}, not the object the project writes: "
                          f"{remedy}")
    return value


def record_field(record: dict, name: str, kind, path: str | Path, remedy: str):
    """`record[name]`, checked to be a `kind`; otherwise a RecordError naming the file and the field."""
    value = record.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise RecordError(f"{path}, field {name!r}: {'missing' if value is None else repr(value)[:60]} is "
                          f"not what the project writes there: {remedy}")
    return value


def sha256(path: str | Path) -> str:
    """The file's SHA-256, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def now() -> str:
    """A record's time stamp: UTC, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")
