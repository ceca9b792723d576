"""Kaggle's zips: checked in full before anything is unpacked; a bad one leaves the folder as it was."""

import zipfile

import pytest

from digit_recognizer.dataset.archives import extract_competition_zip
from digit_recognizer.plumbing.messages import DataError

CSVS = {"train.csv": "label,pixel0\n1,0\n", "test.csv": "pixel0\n0\n",
        "sample_submission.csv": "ImageId,Label\n1,0\n"}


def make_zip(path, members, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression=compression) as zipped:
        for name, text in members.items():
            zipped.writestr(name, text)
    return path


@pytest.fixture
def dest(tmp_path):
    """A raw folder already holding a file of the user's, which no failure may touch."""
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine\n")
    return folder


def contents(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_whole_competition_zip_unpacks_its_three_files(tmp_path, dest):
    archive = make_zip(tmp_path / "digit-recognizer.zip", CSVS | {"__MACOSX/._train.csv": "x"})
    written = extract_competition_zip(archive, dest)
    assert [p.name for p in written] == ["train.csv", "test.csv", "sample_submission.csv"]
    assert contents(dest) == {name: text.encode() for name, text in CSVS.items()} | {"notes.txt": b"mine\n"}


def test_per_file_zip_unpacks_its_own_file(tmp_path):
    archive = make_zip(tmp_path / "test.csv.zip", {"test.csv": CSVS["test.csv"]})
    assert extract_competition_zip(archive, tmp_path / "raw") == [tmp_path / "raw" / "test.csv"]
    assert (tmp_path / "raw" / "test.csv").read_text() == CSVS["test.csv"]


def damaged_member(path):
    make_zip(path, CSVS, compression=zipfile.ZIP_STORED)
    raw = bytearray(path.read_bytes())
    at = raw.index(b"pixel0\n0\n")  # test.csv's stored bytes: the CRC no longer matches
    raw[at] = ord("P")
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize("name, build, message", [
    ("digit-recognizer.zip", lambda p: p.write_bytes(b"PK\x03\x04 cut short"), "not a zip archive"),
    ("digit-recognizer.zip", lambda p: p.write_text("<!DOCTYPE html>\n<html><body>Sign in</body></html>"),
     "not a zip archive but an HTML page"),
    ("digit-recognizer.zip", lambda p: make_zip(p, {"train.csv": "a\n"}),
     r"holds no test\.csv \(it holds: train\.csv\)"),
    ("train.csv.zip", lambda p: make_zip(p, {"data/train.csv": "a\n"}), r"holds no train\.csv"),
    ("digit-recognizer.zip", damaged_member, r"member test\.csv cannot be read \(Bad CRC-32"),
])
def test_bad_archive_is_one_clear_error_and_changes_nothing(tmp_path, dest, name, build, message):
    archive = tmp_path / name
    build(archive)
    before = contents(dest)
    with pytest.raises(DataError, match=rf"^{archive}: {message}"):
        extract_competition_zip(archive, dest)
    assert contents(dest) == before
