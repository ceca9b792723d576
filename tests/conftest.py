import gzip
import os
import subprocess
import sys
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


FAKE_KAGGLE = {"KAGGLE_USERNAME": "fake-user-5bd1e9", "KAGGLE_KEY": "fake-key-0c4f2a7d93e1"}


def smoke_run_into(out: Path, seed: int = 7) -> int:
    from digit_recognizer import runner

    return runner.main(["--profile", "smoke", "--seed", str(seed), "--output-dir", str(out)])


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """All five notebooks, smoke profile, on the sample, in a process of its own as `make run` starts
    it, with fake Kaggle credentials in its environment; all it prints goes to run.log beside its outputs."""
    out = tmp_path_factory.mktemp("run")
    command = [sys.executable, "-m", "digit_recognizer.runner", "--profile", "smoke", "--seed", "7",
               "--output-dir", str(out)]
    with open(out / "run.log", "w") as log:
        done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=os.environ | FAKE_KAGGLE)
    return done.returncode, out
