import gzip
from pathlib import Path

import numpy as np
import pytest

from digit_recognizer.data import PIXEL_COLUMNS, TRAIN_COLUMNS


def write_csv(path: Path, header: list[str], rows: list[list], compress: bool = False) -> Path:
    text = ",".join(header) + "\n" + "".join(",".join(str(v) for v in row) + "\n" for row in rows)
    if compress:
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    return path


def pixel_rows(count: int, seed: int = 0) -> list[list[int]]:
    return np.random.default_rng(seed).integers(0, 256, size=(count, len(PIXEL_COLUMNS))).tolist()


def train_rows(count: int = 3, seed: int = 0) -> list[list[int]]:
    return [[i % 10, *row] for i, row in enumerate(pixel_rows(count, seed))]


@pytest.fixture
def make_train(tmp_path):
    """Write a train CSV; `edit(header, rows)` may change them first."""

    def make(edit=None, name="train.csv", rows=None):
        header, body = list(TRAIN_COLUMNS), rows if rows is not None else train_rows()
        if edit:
            edit(header, body)
        return write_csv(tmp_path / name, header, body, compress=name.endswith(".gz"))

    return make


@pytest.fixture
def make_test(tmp_path):
    def make(edit=None, name="test.csv"):
        header, body = list(PIXEL_COLUMNS), pixel_rows(3)
        if edit:
            edit(header, body)
        return write_csv(tmp_path / name, header, body, compress=name.endswith(".gz"))

    return make
