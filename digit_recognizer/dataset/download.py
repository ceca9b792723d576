"""`make data`: Kaggle's competition files, or Kaggle-layout files built from the public MNIST set."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import SAMPLE_DATA_DIR, external_data_dir, raw_data_dir
from ..kaggle_api import (
    COMPETITION,
    COMPETITION_URL,
    TOKEN_STEPS,
    KaggleError,
    authenticated_api,
    kaggle_credentials_found,
)
from ..plumbing.files import atomic_path, sha256
from ..plumbing.messages import DataError
from ..settings import DEFAULTS
from .archives import extract_competition_zip
from .loading import LABEL_COLUMNS, PIXEL_COLUMNS, TRAIN_COLUMNS

DEFAULT_SEED = DEFAULTS["seed"]

MNIST_TRAIN_ROWS = 42_000

NO_CREDENTIALS = f"""No Kaggle credentials found, so Kaggle's files were not downloaded.
To get them:
{TOKEN_STEPS}
  3. Run `make data` (python -m digit_recognizer.download) again: the files go to data/raw/.
Meanwhile every notebook runs on the embedded sample in {SAMPLE_DATA_DIR}.
Without a Kaggle account, `make data SOURCE=mnist` builds full-size files from the public MNIST set."""


def download_kaggle(raw_dir: Path | None = None, api=None, credentials_found=None) -> bool:
    """Download the competition zip into a temp folder beside `raw_dir` (default: data/raw/), check it and
    unpack its files into `raw_dir`; a failure leaves `raw_dir` as it was. False (with advice) without
    credentials."""
    found = kaggle_credentials_found() if credentials_found is None else credentials_found
    if not found:
        print(NO_CREDENTIALS)
        return False
    api = api or authenticated_api()
    raw_dir = raw_dir or raw_data_dir()
    raw_dir.parent.mkdir(parents=True, exist_ok=True)
    download_dir = Path(tempfile.mkdtemp(dir=raw_dir.parent, prefix=f".{raw_dir.name}-download-"))
    try:
        print(f"Downloading the {COMPETITION!r} competition files for {raw_dir} ...")
        try:
            api.competition_download_files(COMPETITION, path=str(download_dir), quiet=False)
        except Exception as error:
            raise RuntimeError(f"Kaggle download failed ({error}). Have you accepted the rules at "
                               f"{COMPETITION_URL}/rules ?") from error
        archive = download_dir / f"{COMPETITION}.zip"
        if not archive.is_file():
            got = ", ".join(sorted(p.name for p in download_dir.iterdir())) or "nothing"
            raise FileNotFoundError(f"{archive.name}: the download did not produce it (got: {got})")
        shown_as = f"{archive.name} (downloaded from Kaggle)"
        written = extract_competition_zip(archive, raw_dir, shown_as=shown_as)
    finally:
        shutil.rmtree(download_dir, ignore_errors=True)
    print(f"Saved {', '.join(p.name for p in written)} in {raw_dir}.")
    return True


def kaggle_files(raw_dir: Path | None = None) -> None:
    """`make data` for a notebook cell (Colab): Kaggle's files into data/raw/, with the credentials this
    notebook's own process can read, Colab's secrets among them; raises where it cannot."""
    if not download_kaggle(raw_dir):
        raise KaggleError("no Kaggle credentials found: the lines above say how to set them up")


def _load_keras_mnist():
    import keras

    try:
        return keras.datasets.mnist.load_data()
    except Exception as error:  # Keras raises a bare Exception for a failed fetch
        raise OSError(f"could not download MNIST with keras.datasets.mnist (needs internet): "
                      f"{error}") from None


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def build_from_mnist(out_dir: Path | None = None, seed: int = DEFAULT_SEED, load=_load_keras_mnist,
                     train_rows: int = MNIST_TRAIN_ROWS) -> Path:
    """Kaggle-layout files from MNIST's 70,000 images: a seeded train/test split, test labels apart."""
    out_dir = out_dir or external_data_dir() / "mnist"
    (x_a, y_a), (x_b, y_b) = load()
    images = np.concatenate([x_a, x_b]).reshape(-1, len(PIXEL_COLUMNS)).astype(np.uint8)
    labels = np.concatenate([y_a, y_b]).astype(np.uint8)
    order = np.random.default_rng(seed).permutation(len(labels))
    train, test = order[:train_rows], order[train_rows:]
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_csv(pd.DataFrame(np.column_stack([labels[train], images[train]]), columns=TRAIN_COLUMNS),
               out_dir / "train.csv")
    _write_csv(pd.DataFrame(images[test], columns=PIXEL_COLUMNS), out_dir / "test.csv")
    _write_csv(pd.DataFrame({LABEL_COLUMNS[0]: np.arange(1, len(test) + 1), LABEL_COLUMNS[1]: labels[test]}),
               out_dir / "test_labels.csv")
    names = ["test.csv", "test_labels.csv", "train.csv"]
    (out_dir / "SHA256SUMS").write_text("".join(f"{sha256(out_dir / n)}  {n}\n" for n in names))
    print(f"Wrote {len(train):,} training and {len(test):,} test images (labels in test_labels.csv) "
          f"to {out_dir}.\nUse them with: make run DATA_DIR={os.path.relpath(out_dir)}")
    return out_dir


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", choices=["kaggle", "mnist"], default="kaggle")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    try:
        if args.source == "mnist":
            build_from_mnist(seed=args.seed, load=_load_keras_mnist)
        else:
            if not download_kaggle():
                return 1  # no credentials: said how to get them
    except (OSError, RuntimeError, DataError) as error:  # no network, refused or damaged download, Colab
        print(f"error: {error}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
