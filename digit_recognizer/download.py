"""`make data`: Kaggle's competition files, or Kaggle-layout files built from the public MNIST set."""

from __future__ import annotations

import argparse
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from .config import DEFAULT_SEED, SAMPLE_DATA_DIR, external_data_dir, raw_data_dir
from .data import LABEL_COLUMNS, PIXEL_COLUMNS, TRAIN_COLUMNS, sha256
from .io import atomic_path

COMPETITION = "digit-recognizer"
KAGGLE_FILES = ("train.csv", "test.csv", "sample_submission.csv")
MNIST_TRAIN_ROWS = 42_000

NO_CREDENTIALS = f"""No Kaggle credentials found, so Kaggle's files were not downloaded.
To get them:
  1. Sign in at kaggle.com, open https://www.kaggle.com/competitions/{COMPETITION} and accept its rules.
  2. Create an API token (kaggle.com > Settings > API) and either save it as ~/.kaggle/kaggle.json
     (chmod 600) or export KAGGLE_USERNAME and KAGGLE_KEY (or KAGGLE_API_TOKEN).
  3. Run `make data` again: the files go to data/raw/.
Meanwhile every notebook runs on the embedded sample in {SAMPLE_DATA_DIR}.
Without a Kaggle account, `make data SOURCE=mnist` builds full-size files from the public MNIST set."""


def kaggle_credentials_found(environ=None, home: Path | None = None) -> bool:
    """True where the `kaggle` package would find a token: environment variables or a token file."""
    environ = os.environ if environ is None else environ
    if environ.get("KAGGLE_API_TOKEN") or (environ.get("KAGGLE_USERNAME") and environ.get("KAGGLE_KEY")):
        return True
    config_dir = Path(environ.get("KAGGLE_CONFIG_DIR") or (home or Path.home()) / ".kaggle")
    return any((config_dir / name).is_file() for name in ("kaggle.json", "access_token"))


def _kaggle_api():
    from kaggle.api.kaggle_api_extended import KaggleApi  # imported late: it reads credentials

    api = KaggleApi()
    try:
        api.authenticate()
    except SystemExit:  # the kaggle package exits on bad credentials
        raise RuntimeError("Kaggle did not accept the credentials found; see `make data` advice "
                           "in the README") from None
    return api


def download_kaggle(raw_dir: Path | None = None, api=None, credentials_found=None) -> bool:
    """Download and unzip the competition files into `raw_dir`; False (with advice) without credentials."""
    found = kaggle_credentials_found() if credentials_found is None else credentials_found
    if not found:
        print(NO_CREDENTIALS)
        return False
    api = api or _kaggle_api()
    raw_dir = raw_dir or raw_data_dir()
    raw_dir.mkdir(parents=True, exist_ok=True)
    print(f"Downloading the {COMPETITION!r} competition files into {raw_dir} ...")
    try:
        api.competition_download_files(COMPETITION, path=str(raw_dir), quiet=False)
    except Exception as error:
        raise RuntimeError(f"Kaggle download failed ({error}). Have you accepted the rules at "
                           f"https://www.kaggle.com/competitions/{COMPETITION}/rules ?") from error
    archive = raw_dir / f"{COMPETITION}.zip"
    if not archive.is_file():
        raise FileNotFoundError(f"{archive}: the download did not produce the expected zip file")
    with zipfile.ZipFile(archive) as zipped:
        for name in KAGGLE_FILES:
            with zipped.open(name) as source, atomic_path(raw_dir / name) as tmp:
                tmp.write_bytes(source.read())
    archive.unlink()
    print(f"Saved {', '.join(KAGGLE_FILES)} in {raw_dir}.")
    return True


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
            download_kaggle()
    except (OSError, RuntimeError) as error:  # no network, refused download, bad credentials
        print(f"error: {error}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
