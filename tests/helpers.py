"""Plain helpers the test files share: small valid Kaggle CSVs, and the fake Kaggle credentials."""

import gzip
from pathlib import Path

import numpy as np

from digit_recognizer.data import PIXEL_COLUMNS

# Set in the smoke run's environment; no output may contain them.
FAKE_KAGGLE = {"KAGGLE_USERNAME": "fake-user-5bd1e9", "KAGGLE_KEY": "fake-key-0c4f2a7d93e1"}


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
