"""The loader accepts what spreadsheets write where it is unambiguous, and rejects every other kind of bad
input with one DataError naming the file, line and column, quoting at most a short piece of the input."""

import gzip
from types import SimpleNamespace

import numpy as np
import pytest

from digit_recognizer.dataset.checksums import verify_checksums
from digit_recognizer.dataset.loading import PIXEL_COLUMNS, TRAIN_COLUMNS, RawData, load_test, load_train
from digit_recognizer.features import check_splittable, prepare_dataset
from digit_recognizer.plumbing.messages import DataError
from tests.helpers import pixel_rows, train_rows

ROWS = train_rows(3)


def csv_text(header=TRAIN_COLUMNS, rows=ROWS, edit=None, end="\n", quote_names=False, quote_cells=False,
             sep=","):
    """A CSV as a spreadsheet might save it; `edit(header, rows)` changes copies of them first."""
    header, rows = list(header), [list(row) for row in rows]
    if edit:
        edit(header, rows)
    names = [f'"{name}"' if quote_names else name for name in header]
    cells = [[f'"{value}"' if quote_cells else str(value) for value in row] for row in rows]
    return "".join(sep.join(fields) + end for fields in [names, *cells])


def set_cell(row, column, value):
    def edit(header, rows):
        rows[row][header.index(column)] = value
    return edit


def drop_last_column(header, rows):
    header.pop()
    for row in rows:
        row.pop()


def add_column(header, rows):
    header.append("pixel784")
    for row in rows:
        row.append(0)


def rename(position, name):
    def edit(header, rows):
        header[position] = name
    return edit


def whole_column(column, value):
    def edit(header, rows):
        for row in rows:
            row[header.index(column)] = value
    return edit


def gzipped(text: str, keep: float = 1.0) -> bytes:
    data = gzip.compress(text.encode())
    return data[: int(len(data) * keep)]


def write(tmp_path, name, content) -> str:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def load(path):
    return load_test(path) if path.name.startswith("test") else load_train(path)


# --- accepted --------------------------------------------------------------------------------------

PLAIN = csv_text()
ACCEPTED = {
    "plain": PLAIN,
    "no newline at the end": PLAIN.rstrip("\n"),
    "UTF-8 byte-order mark (Excel CSV UTF-8)": "\ufeff" + PLAIN,
    "CRLF line ends": csv_text(end="\r\n"),
    "quoted header names (R write.csv)": csv_text(quote_names=True),
    "every name and cell quoted": csv_text(quote_names=True, quote_cells=True),
    "spaces around commas and in names": csv_text(sep=" , ").replace("pixel0", " pixel0 "),
    "one trailing blank line": PLAIN + "\n",
    "several trailing blank lines, some with spaces": PLAIN + "\n  \n\n\t\n",
    "Excel on Windows: BOM, CRLF, quoted names, blank line at the end": "\ufeff" + csv_text(
        end="\r\n", quote_names=True) + "\r\n",
}


@pytest.mark.parametrize("content", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_spreadsheet_variants_load_like_the_plain_file(tmp_path, content):
    pixels, labels = load_train(write(tmp_path, "train.csv", content))
    assert pixels.dtype == np.uint8 and labels.dtype == np.uint8
    assert np.array_equal(pixels, np.array([row[1:] for row in ROWS])) and labels.tolist() == [0, 1, 2]


def test_gzip_with_a_byte_order_mark_loads_like_the_plain_file(tmp_path):
    packed = load_train(write(tmp_path, "train.csv.gz", gzipped("\ufeff" + PLAIN)))
    plain = load_train(write(tmp_path, "train.csv", PLAIN))
    assert all(np.array_equal(a, b) for a, b in zip(packed, plain, strict=True))


def test_valid_test_file_loads(tmp_path):
    assert load_test(write(tmp_path, "test.csv", csv_text(PIXEL_COLUMNS, pixel_rows(3)))).shape == (3, 784)


# --- refused ---------------------------------------------------------------------------------------

TEST_FILE = csv_text(PIXEL_COLUMNS, pixel_rows(3))
LATIN_1 = PLAIN.replace("\n1,", "\n1,\u00e9", 1).encode("latin-1")

# file name, content (None: no file), fragments the message must hold (besides the file's path)
REFUSED = {
    "missing column": ("train.csv", csv_text(edit=drop_last_column), ["line 1", "missing column 'pixel783'"]),
    "misnamed column": ("train.csv", csv_text(edit=rename(6, "pixl5")),
                        ["line 1", "column 'pixl5'", "expected 'pixel5'", "misnamed"]),
    "duplicated column": ("train.csv", csv_text(edit=rename(7, "pixel5")),
                          ["line 1", "column 'pixel5'", "duplicated"]),
    "extra column": ("train.csv", csv_text(edit=add_column),
                     ["line 1", "column 'pixel784'", "extra column"]),
    "row with too many fields": ("train.csv", csv_text(edit=lambda h, r: r[1].append(7)),
                                 ["line 3", "786 fields, expected 785"]),
    "row with too few fields": ("train.csv", csv_text(edit=lambda h, r: r[2].pop()),
                                ["line 4", "784 fields, expected 785"]),
    "blank line inside the data": ("train.csv", PLAIN.replace("\n1,", "\n\n1,", 1),
                                   ["line 3", "blank line inside the data (blank lines may only end"]),
    "blank line inside CRLF data": ("train.csv", csv_text(end="\r\n").replace("\r\n1,", "\r\n\r\n1,", 1),
                                    ["line 3", "blank line inside the data"]),
    "line of spaces inside the data": ("train.csv", PLAIN.replace("\n2,", "\n   \n2,", 1),
                                       ["line 4", "blank line inside the data"]),
    "blank first line": ("train.csv", "\n" + PLAIN, ["line 1", "blank line; expected the header row"]),
    "no header row (train)": ("train.csv", PLAIN.split("\n", 1)[1],
                              ["no header row: line 1 holds numbers; expected label,pixel0,...,pixel783"]),
    "no header row (test)": ("test.csv", TEST_FILE.split("\n", 1)[1],
                             ["no header row: line 1 holds numbers; expected pixel0,pixel1,...,pixel783"]),
    "semicolons (a European spreadsheet)": ("train.csv", csv_text(sep=";"),
                                            ["line 1", "separated by ';', not commas"]),
    "UTF-16 (spreadsheet Unicode text)": ("train.csv", PLAIN.encode("utf-16"),
                                          ["line 1", "UTF-16", "CSV UTF-8"]),
    "Latin-1 byte": ("train.csv", LATIN_1, ["line 3", "byte 0xe9 in field 2 is not UTF-8"]),
    "unmatched quote": ("train.csv", csv_text(edit=set_cell(1, "pixel4", '"7')),
                        ["line 3", "column 'pixel4'", "unmatched double quote"]),
    "quoted comma inside a cell": ("train.csv", csv_text(edit=set_cell(0, "pixel9", '"1,2"')),
                                   ["line 2", "column 'pixel9'", "not a number: '1,2'"]),
    "column of True": ("train.csv", csv_text(edit=whole_column("pixel2", "True")),
                       ["line 2", "column 'pixel2'", "not a number: True"]),
    "non-numeric pixel": ("train.csv", csv_text(edit=set_cell(1, "pixel10", "abc")),
                          ["line 3", "column 'pixel10'", "not a number: 'abc'"]),
    "space inside a number": ("train.csv", csv_text(edit=set_cell(1, "pixel10", "1 2")),
                              ["line 3", "column 'pixel10'", "not a number: '1 2'"]),
    "non-numeric label": ("train.csv", csv_text(edit=set_cell(0, "label", "seven")),
                          ["line 2", "column 'label'", "not a number: 'seven'"]),
    "empty pixel cell": ("train.csv", csv_text(edit=set_cell(2, "pixel300", "")),
                         ["line 4", "column 'pixel300'", "missing value"]),
    "NaN pixel": ("train.csv", csv_text(edit=set_cell(0, "pixel1", "NaN")),
                  ["line 2", "column 'pixel1'", "missing value"]),
    "fractional pixel": ("train.csv", csv_text(edit=set_cell(1, "pixel42", "3.5")),
                         ["line 3", "column 'pixel42'", "not a whole number: 3.5"]),
    "pixel above 255": ("train.csv", csv_text(edit=set_cell(2, "pixel783", 256)),
                        ["line 4", "column 'pixel783'", "value 256 outside 0-255"]),
    "negative pixel": ("test.csv", csv_text(PIXEL_COLUMNS, pixel_rows(3), edit=set_cell(0, "pixel0", -1)),
                       ["line 2", "column 'pixel0'", "value -1 outside 0-255"]),
    "label outside 0-9": ("train.csv", csv_text(edit=set_cell(1, "label", 10)),
                          ["line 3", "column 'label'", "value 10 outside 0-9"]),
    "empty file": ("train.csv", "", ["empty file; expected a header row label,pixel0,...,pixel783"]),
    "only blank lines": ("train.csv", "\n\n \n", ["empty file"]),
    "header only": ("train.csv", csv_text(rows=[]), ["header only, no data rows"]),
    "truncated gzip": ("train.csv.gz", gzipped(csv_text(rows=train_rows(50)), keep=0.5),
                       ["truncated or corrupt gzip"]),
    "not gzip at all": ("train.csv.gz", PLAIN, ["truncated or corrupt gzip"]),
    "test file given as train": ("train.csv", TEST_FILE,
                                 ["line 1", "this is a test file", "expected a train file"]),
    "train file given as test": ("test.csv", PLAIN,
                                 ["line 1", "this is a train file", "expected a test file"]),
    "missing file": ("train.csv", None, ["file not found"]),
}


@pytest.mark.parametrize(("name", "content", "fragments"), REFUSED.values(), ids=REFUSED.keys())
def test_bad_input_gets_one_error_naming_file_and_line(tmp_path, name, content, fragments):
    path = write(tmp_path, name, content)
    with pytest.raises(DataError) as caught:  # no KeyError, no pandas or csv traceback
        load(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert len(message) < len(str(path)) + 300


# --- bounded messages ------------------------------------------------------------------------------

HUGE = 5_000_000

HUGE_CELLS = {
    "text cell": (set_cell(1, "pixel3", "x" * HUGE), ["line 3", "column 'pixel3'", "not a number: 'xxx",
                                                        f"... ({HUGE:,} characters)"]),
    "digits cell": (set_cell(0, "label", "9" * HUGE), ["line 2", "column 'label'", f"({HUGE:,} characters)"]),
    "header name": (rename(2, "p" * HUGE), ["line 1", "column 'ppp", f"({HUGE:,} characters)"]),
}


@pytest.mark.parametrize(("edit", "fragments"), HUGE_CELLS.values(), ids=HUGE_CELLS.keys())
def test_a_multi_megabyte_cell_gives_a_short_message(tmp_path, edit, fragments):
    path = write(tmp_path, "train.csv", csv_text(edit=edit))
    with pytest.raises(DataError) as caught:
        load_train(path)
    message = str(caught.value)
    assert len(message) < len(str(path)) + 250, message[:1000]
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


# --- checksums -------------------------------------------------------------------------------------


def test_checksum_mismatch_names_the_file(tmp_path):
    (tmp_path / "train.csv").write_text("label\n")
    (tmp_path / "SHA256SUMS").write_text("0" * 64 + "  train.csv\n")
    expected = r"train\.csv: SHA-256 is [0-9a-f]{64}, but SHA256SUMS expects 0{64}: the file is corrupt"
    with pytest.raises(DataError, match=expected):
        verify_checksums(tmp_path)


def test_checksum_list_naming_a_missing_file(tmp_path):
    (tmp_path / "SHA256SUMS").write_text("0" * 64 + "  gone.csv\n")
    with pytest.raises(DataError, match=r"SHA256SUMS, line 1: lists 'gone.csv', which is missing"):
        verify_checksums(tmp_path)


# --- train files the split cannot divide -----------------------------------------------------------

TWO_OF_EACH = np.repeat(np.arange(10), 2)
SCARCE_7 = np.concatenate([np.repeat(np.arange(7), 20), [7], np.repeat([8, 9], 20)])  # one 7: line 142

# labels, validation_fraction, max_train_images, fragments
UNSPLITTABLE = {
    "a digit with one image": (SCARCE_7, 0.1, None,
                               ["column 'label': digit 7 has 1 image (line 142)", "validation_fraction 0.1",
                                "at least 2 images of every digit"]),
    "a digit with no images": (TWO_OF_EACH[TWO_OF_EACH != 3], 0.5, None, ["digit 3 has no images"]),
    "too few images for the fraction": (np.tile(TWO_OF_EACH, 3), 0.1, None,
                                        ["60 images are too few to split", "validation_fraction 0.1 leaves 6",
                                         "use at least 91 images"]),
    "a training cap below ten": (np.repeat(np.arange(10), 20), 0.1, 5,
                                 ["200 images cannot be split", "max_train_images 5"]),
}


@pytest.mark.parametrize(("labels", "fraction", "cap", "fragments"), UNSPLITTABLE.values(),
                         ids=UNSPLITTABLE.keys())
def test_a_train_file_the_split_cannot_divide_is_refused_up_front(labels, fraction, cap, fragments):
    with pytest.raises(DataError) as caught:
        check_splittable(labels, fraction, 7, "data/train.csv", cap)
    message = str(caught.value)
    assert message.startswith("data/train.csv")
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_smallest_splittable_train_file_passes():
    check_splittable(np.tile(np.arange(10), 10)[:91], 0.1, 7, "train.csv")  # 91: the minimum above


def test_prepare_dataset_makes_the_same_check(tmp_path):
    path = tmp_path / "train.csv"
    raw = RawData(files=SimpleNamespace(train=path), x_train=np.zeros((len(SCARCE_7), 784), np.uint8),
                  y_train=SCARCE_7, x_test=np.zeros((1, 784), np.uint8), y_test=None)
    with pytest.raises(DataError, match=rf"^{path}, column 'label': digit 7 has 1 image \(line 142\)"):
        prepare_dataset(raw, 0.1, seed=7)
