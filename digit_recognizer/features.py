"""Pixels to model inputs: scaling, reshaping, the seeded split, and the processed-data file."""

from __future__ import annotations

import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from .config import IMAGE_SIZE, NUM_CLASSES
from .dataset.checksums import file_hashes
from .dataset.locate import DataFiles
from .plumbing.files import atomic_path, now
from .plumbing.lineage import differences
from .plumbing.messages import DataError

# The parts of dataset.npz's `source` that decide its contents.
DATASET_INPUTS = ("sha256", "seed", "profile")


def to_images(pixels: np.ndarray) -> np.ndarray:
    """uint8 (n, 784) in 0-255 to float32 (n, 28, 28, 1) in [0, 1]."""
    return (np.asarray(pixels, dtype=np.float32) / 255.0).reshape(-1, IMAGE_SIZE, IMAGE_SIZE, 1)


@dataclass
class Dataset:
    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray | None = None  # known only for local scoring
    source: dict = field(default_factory=dict)  # the parameters it was prepared with

    def parts(self) -> dict[str, np.ndarray]:
        return {"train": self.x_train, "validation": self.x_valid, "test": self.x_test}

    def summary(self) -> dict[str, int]:
        return {name: len(images) for name, images in self.parts().items()}


def summary_table(dataset: Dataset) -> pd.DataFrame:
    """Images, array shape and pixel range of each part."""
    parts = dataset.parts()
    return pd.DataFrame({
        "images": dataset.summary(),
        "shape": {name: str(images.shape) for name, images in parts.items()},
        "min": {name: images.min() for name, images in parts.items()},
        "max": {name: images.max() for name, images in parts.items()},
    })


def digit_shares(dataset: Dataset) -> pd.DataFrame:
    """The share of each digit among the training and the validation labels."""
    labels = {"train": dataset.y_train, "validation": dataset.y_valid}
    return pd.DataFrame({name: np.bincount(y, minlength=NUM_CLASSES) / len(y) for name, y in labels.items()}
                        ).rename_axis("digit").T.round(3)


def split_train_validation(x, y, validation_fraction: float, seed: int,
                           max_train_images: int | None = None):
    """Seeded, stratified split; `max_train_images` caps the training part (smoke runs)."""
    x_train, x_valid, y_train, y_valid = train_test_split(
        x, y, test_size=validation_fraction, stratify=y, random_state=seed)
    if max_train_images is not None and max_train_images < len(x_train):
        x_train, _, y_train, _ = train_test_split(
            x_train, y_train, train_size=max_train_images, stratify=y_train, random_state=seed)
    return x_train, x_valid, y_train, y_valid


def _smallest_splittable(validation_fraction: float) -> int:
    """The fewest images a stratified split with this fraction divides into 10 digits on both sides."""
    count = 2 * NUM_CLASSES
    while not NUM_CLASSES <= math.ceil(validation_fraction * count) <= count - NUM_CLASSES:
        count += 1
    return count


def check_splittable(labels, validation_fraction: float, seed: int, path,
                     max_train_images: int | None = None) -> None:
    """Refuse, before any work, training labels the seeded stratified split cannot divide: every digit
    needs 2 images, and validation and training at least one image of each digit. `path` names the file."""
    labels = np.asarray(labels)
    counts = np.bincount(labels, minlength=NUM_CLASSES)
    scarce = [f"digit {d} has no images" if counts[d] == 0 else
              f"digit {d} has 1 image (line {int(np.flatnonzero(labels == d)[0]) + 2})"
              for d in range(NUM_CLASSES) if counts[d] < 2]
    if scarce:
        raise DataError(f"{path}, column 'label': {'; '.join(scarce)}; the stratified split into training "
                        f"and validation (validation_fraction {validation_fraction}) needs at least 2 "
                        "images of every digit")
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction {validation_fraction} is not between 0 and 1")
    validation = math.ceil(validation_fraction * len(labels))  # as scikit-learn rounds it
    if not NUM_CLASSES <= validation <= len(labels) - NUM_CLASSES:
        raise DataError(f"{path}: {len(labels)} images are too few to split: validation_fraction "
                        f"{validation_fraction} leaves {validation} for validation and "
                        f"{len(labels) - validation} for training, and each needs one image of each of "
                        f"the {NUM_CLASSES} digits; use at least "
                        f"{_smallest_splittable(validation_fraction)} images")
    try:  # the split itself, on the labels alone: anything else it refuses (the training-image cap)
        split_train_validation(np.arange(len(labels)), labels, validation_fraction, seed, max_train_images)
    except ValueError as error:
        raise DataError(f"{path}: {len(labels)} images cannot be split with validation_fraction "
                        f"{validation_fraction} and max_train_images {max_train_images}: {error}") from None


def prepare_dataset(raw, validation_fraction: float, seed: int,
                    max_train_images: int | None = None, source: dict | None = None) -> Dataset:
    """Scale and reshape every image, then split the labelled ones into train and validation. `source`
    (`dataset_source`) says what it was made from; by default the data files and the seed, so that what
    is recorded of it (a search's folder, a confirmation) is never taken for other data's."""
    check_splittable(raw.y_train, validation_fraction, seed, raw.files.train, max_train_images)
    x_train, x_valid, y_train, y_valid = split_train_validation(
        to_images(raw.x_train), raw.y_train, validation_fraction, seed, max_train_images)
    source = source if source is not None else dataset_source({"seed": seed}, raw.files)
    return Dataset(x_train, y_train, x_valid, y_valid, to_images(raw.x_test), raw.y_test, source)


def dataset_source(parameters: dict, files: DataFiles) -> dict:
    """What dataset.npz records it was made from: the run's parameters, the data files and their SHA-256."""
    return parameters | {"prepared_at": now(), "data_folder": str(files.folder),
                         "data_description": files.description, "sha256": file_hashes(files)}


def save_dataset(dataset: Dataset, path: str | Path) -> None:
    arrays = {k: v for k, v in vars(dataset).items() if v is not None and k != "source"}
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays, source=np.array(json.dumps(dataset.source, sort_keys=True)))


def dataset_identity(source: dict) -> dict:
    """The inputs that decide a prepared data set's contents (`lineage`): the data files' SHA-256, the split's
    seed and the profile; not when or from which path it was made."""
    return {key: source.get(key) for key in DATASET_INPUTS}


def recorded_source(path: str | Path) -> dict | None:
    """The `source` a saved dataset records, read without its arrays; None if the file is missing or
    unreadable."""
    try:
        with np.load(path) as arrays:
            return json.loads(str(arrays["source"])) if "source" in arrays.files else {}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None


def load_dataset(path: str | Path, expected_source: dict | None = None) -> Dataset:
    """The dataset notebook 02 saved; with `expected_source`, refuse one prepared with other parameters."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run notebook 02 first (`make prepare`)")
    try:
        with np.load(path) as arrays:
            fields = {k: arrays[k] for k in arrays.files if k != "source"}
            source = json.loads(str(arrays["source"])) if "source" in arrays.files else {}
        dataset = Dataset(**fields, source=source)
    except (OSError, ValueError, EOFError, TypeError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path}: damaged, not the data set notebook 02 writes ({type(error).__name__}: "
                         f"{str(error)[:100]}): run notebook 02 again (`make prepare`)") from None
    if stale := differences(source, expected_source or {}):
        raise ValueError(f"{path} was prepared with other parameters ({stale}): "
                         "run notebook 02 again with these parameters")
    return dataset
