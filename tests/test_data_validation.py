"""The loader rejects each kind of bad input with one error naming the file, line and column."""

import gzip

import numpy as np
import pytest

from digit_recognizer.data import DataError, load_test, load_train, verify_checksums
from tests.conftest import train_rows, write_csv


def expect_error(load, path, *fragments):
    with pytest.raises(DataError) as caught:
        load(path)
    message = str(caught.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


def set_cell(row, column, value):
    def edit(header, rows):
        rows[row][header.index(column)] = value
    return edit


def test_valid_train_file_loads(make_train):
    pixels, labels = load_train(make_train())
    assert pixels.shape == (3, 784) and pixels.dtype == np.uint8
    assert labels.tolist() == [0, 1, 2]


def test_valid_gzip_test_file_loads(make_test):
    assert load_test(make_test(name="test.csv.gz")).shape == (3, 784)


def test_missing_column(make_train):
    def drop_last(header, rows):
        header.pop()
        for row in rows:
            row.pop()
    expect_error(load_train, make_train(drop_last), "line 1", "missing column 'pixel783'")


def test_misnamed_column(make_train):
    def rename(header, rows):
        header[6] = "pixl5"
    expect_error(load_train, make_train(rename), "line 1", "column 'pixl5'", "expected 'pixel5'", "misnamed")


def test_duplicated_column(make_train):
    def duplicate(header, rows):
        header[7] = "pixel5"
    expect_error(load_train, make_train(duplicate), "line 1", "column 'pixel5'", "duplicated")


def test_extra_column(make_train):
    def extra(header, rows):
        header.append("pixel784")
        for row in rows:
            row.append(0)
    expect_error(load_train, make_train(extra), "line 1", "column 'pixel784'", "extra column")


def test_row_with_too_many_fields(make_train):
    def longer(header, rows):
        rows[1].append(7)
    expect_error(load_train, make_train(longer), "line 3", "786 fields, expected 785")


def test_row_with_too_few_fields(make_train):
    def shorter(header, rows):
        rows[2].pop()
    expect_error(load_train, make_train(shorter), "line 4", "784 fields, expected 785")


def test_blank_line_inside_the_data(make_train):
    def blank(header, rows):
        rows.insert(1, [""])
    expect_error(load_train, make_train(blank), "line 3", "blank line")


def test_non_numeric_pixel(make_train):
    expect_error(load_train, make_train(set_cell(1, "pixel10", "abc")), "line 3", "column 'pixel10'",
                 "not a number: 'abc'")


def test_non_numeric_label(make_train):
    expect_error(load_train, make_train(set_cell(0, "label", "seven")), "line 2", "column 'label'",
                 "not a number")


def test_empty_pixel_cell(make_train):
    expect_error(load_train, make_train(set_cell(2, "pixel300", "")), "line 4", "column 'pixel300'",
                 "missing value")


def test_nan_pixel(make_train):
    expect_error(load_train, make_train(set_cell(0, "pixel1", "NaN")), "line 2", "column 'pixel1'",
                 "missing value")


def test_fractional_pixel(make_train):
    expect_error(load_train, make_train(set_cell(1, "pixel42", "3.5")), "line 3", "column 'pixel42'",
                 "not a whole number: 3.5")


def test_pixel_above_255(make_train):
    expect_error(load_train, make_train(set_cell(2, "pixel783", 256)), "line 4", "column 'pixel783'",
                 "outside 0-255")


def test_negative_pixel(make_test):
    expect_error(load_test, make_test(set_cell(0, "pixel0", -1)), "line 2", "column 'pixel0'",
                 "outside 0-255")


def test_label_outside_0_to_9(make_train):
    expect_error(load_train, make_train(set_cell(1, "label", 10)), "line 3", "column 'label'",
                 "outside 0-9")


def test_empty_file(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("")
    expect_error(load_train, path, "empty file")


def test_header_only_file(make_train):
    expect_error(load_train, make_train(rows=[]), "header only")


def test_truncated_gzip(make_train):
    path = make_train(name="train.csv.gz", rows=train_rows(50))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    expect_error(load_train, path, "truncated or corrupt gzip")


def test_not_gzip_at_all(tmp_path):
    path = tmp_path / "train.csv.gz"
    path.write_bytes(b"label,pixel0\n1,2\n")
    expect_error(load_train, path, "truncated or corrupt gzip")


def test_test_file_given_as_train(make_test):
    expect_error(load_train, make_test(), "line 1", "this is a test file", "expected a train file")


def test_train_file_given_as_test(make_train):
    expect_error(load_test, make_train(), "line 1", "this is a train file", "expected a test file")


def test_missing_file(tmp_path):
    expect_error(load_train, tmp_path / "train.csv", "file not found")


def test_gzip_of_valid_data_matches_plain(tmp_path):
    rows = train_rows(5)
    plain = write_csv(tmp_path / "a.csv", ["label", *[f"pixel{i}" for i in range(784)]], rows)
    packed = write_csv(tmp_path / "b.csv.gz", ["label", *[f"pixel{i}" for i in range(784)]], rows,
                       compress=True)
    assert all(np.array_equal(a, b) for a, b in zip(load_train(plain), load_train(packed), strict=True))
    assert gzip.open(packed).read(5) == b"label"


def test_checksum_mismatch_names_the_file(tmp_path):
    (tmp_path / "train.csv").write_text("label\n")
    (tmp_path / "SHA256SUMS").write_text("0" * 64 + "  train.csv\n")
    with pytest.raises(DataError, match=r"train\.csv: SHA-256 is [0-9a-f]{64}, but SHA256SUMS expects"):
        verify_checksums(tmp_path)


def test_checksum_list_naming_a_missing_file(tmp_path):
    (tmp_path / "SHA256SUMS").write_text("0" * 64 + "  gone.csv\n")
    with pytest.raises(DataError, match=r"SHA256SUMS, line 1: lists 'gone.csv', which is missing"):
        verify_checksums(tmp_path)
