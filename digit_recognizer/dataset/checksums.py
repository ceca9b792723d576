"""The data files' SHA-256: what a prepared data set records it was made from, and the SHA256SUMS check."""

from __future__ import annotations

from pathlib import Path

from ..plumbing.files import sha256
from ..plumbing.messages import fail, quote, shorten
from .locate import DataFiles


def file_hashes(files: DataFiles) -> dict[str, str]:
    """SHA-256 of each data file, by name."""
    found = [files.train, files.test] + ([files.test_labels] if files.test_labels else [])
    return {path.name: sha256(path) for path in found}


def verify_checksums(folder: str | Path) -> list[str]:
    """Check every file listed in `folder/SHA256SUMS`; returns the names checked (none if no list)."""
    folder = Path(folder)
    sums = folder / "SHA256SUMS"
    if not sums.is_file():
        return []
    checked = []
    for number, row in enumerate(sums.read_text().splitlines(), start=1):
        if not row.strip():
            continue
        expected, _, name = row.partition(" ")
        name = name.removeprefix(" ").removeprefix("*")  # `sha256sum` text or binary mode: "  " or " *"
        if not name.strip() or Path(name.strip()).name != name.strip() or name.strip() in (".", ".."):
            fail(sums, f"lists {quote(name.strip())}: expected '<SHA-256>  <file name>' for a file in "
                        f"this folder, as `sha256sum` writes it", line=number)
        path = folder / name.strip()
        if not path.is_file():
            fail(sums, f"lists {quote(name.strip())}, which is missing", line=number)
        actual = sha256(path)
        if actual != expected.strip():
            fail(path, f"SHA-256 is {actual}, but SHA256SUMS expects {shorten(expected.strip(), 80)}: "
                        "the file is corrupt or was changed")
        checked.append(name.strip())
    return checked

