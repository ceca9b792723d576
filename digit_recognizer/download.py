"""`make data`: Kaggle's competition files, or Kaggle-layout files built from the public MNIST set."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from .config import SAMPLE_DATA_DIR, external_data_dir, raw_data_dir
from .dataset.archives import ZIP_MEMBERS, extract_competition_zip
from .dataset.loading import LABEL_COLUMNS, PIXEL_COLUMNS, TRAIN_COLUMNS
from .kaggle_api.credentials import (
    COMPETITION,
    SIGN_IN_STEPS,
    KaggleError,
    NoCredentials,
    load_colab_secrets,
    refusal,
    sign_in,
)
from .plumbing.files import atomic_path, sha256
from .plumbing.messages import DataError
from .settings import DEFAULTS

DEFAULT_SEED = DEFAULTS["seed"]

MNIST_TRAIN_ROWS = 42_000

NO_CREDENTIALS = f"""No Kaggle credentials found, so Kaggle's files were not downloaded.
To get them:
{SIGN_IN_STEPS}
  3. Run `make data` (python -m digit_recognizer.download) again: the files go to data/raw/.
Meanwhile every notebook runs on the embedded sample in {SAMPLE_DATA_DIR}.
Without a Kaggle account, `make data SOURCE=mnist` builds full-size files from the public MNIST set."""


def download_kaggle(raw_dir: Path | None = None, api=None) -> bool:
    """Download the competition zip into a temp folder beside `raw_dir` (default: data/raw/), check it and
    unpack its files into `raw_dir`; a failure leaves `raw_dir` as it was. False (with advice) where the
    `kaggle` package finds no way to sign in."""
    if api is None:
        try:
            api = sign_in("downloaded")
        except NoCredentials:
            print(NO_CREDENTIALS)
            return False
    raw_dir = raw_dir or raw_data_dir()
    raw_dir.parent.mkdir(parents=True, exist_ok=True)
    download_dir = Path(tempfile.mkdtemp(dir=raw_dir.parent, prefix=f".{raw_dir.name}-download-"))
    try:
        print(f"Downloading the {COMPETITION!r} competition files for {raw_dir} ...")
        try:
            api.competition_download_files(COMPETITION, path=str(download_dir), quiet=False)
        except Exception as error:
            raise refusal(error, "downloaded") from error
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


def _kagglehub_download(handle: str) -> str:
    import kagglehub

    return kagglehub.competition_download(handle)


def kaggle_files(raw_dir: Path | None = None, fetch=_kagglehub_download) -> list[Path]:
    """`make data` for a notebook cell (Colab): Kaggle's files into data/raw/ through kagglehub, which signs
    in with this notebook's secrets (KAGGLE_API_TOKEN, or KAGGLE_USERNAME and KAGGLE_KEY), the environment
    or ~/.kaggle, and keeps a cache for the next session. A file data/raw/ already holds is kept when it
    is the same and refused otherwise, before anything is written; returns the files written."""
    load_colab_secrets()  # here only to say why a command the notebook starts gets no secrets
    raw_dir = raw_dir or raw_data_dir()
    try:
        folder = Path(fetch(COMPETITION))
    except Exception as error:
        if type(error).__name__ == "UnauthenticatedError":  # kagglehub found no credentials
            raise KaggleError("no Kaggle credentials found, so nothing was downloaded. To set them up:\n"
                              f"{SIGN_IN_STEPS}") from None
        raise refusal(error, "downloaded") from error
    fetched = [name for name in ZIP_MEMBERS if (folder / name).is_file()]
    missing = [name for name in ("train.csv", "test.csv") if name not in fetched]
    if missing:
        raise DataError(f"{folder}: kagglehub's download holds no {' or '.join(missing)}")
    for name in fetched:
        if (raw_dir / name).exists() and sha256(raw_dir / name) != sha256(folder / name):
            raise DataError(f"{raw_dir / name}: differs from Kaggle's {name}; move it away and run again")
    written = []
    for name in fetched:
        if not (raw_dir / name).exists():
            with atomic_path(raw_dir / name) as tmp:
                shutil.copyfile(folder / name, tmp)
            written.append(raw_dir / name)
    print(f"Kaggle's files (kagglehub, {folder}) in {raw_dir}: "
          f"{', '.join(p.name for p in written) or 'all there already'}")
    return written


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
