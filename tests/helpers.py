"""Plain helpers the test files share: small valid Kaggle CSVs, fake Kaggle credentials, a prepared sample."""

import gzip
from pathlib import Path

import numpy as np

from digit_recognizer.dataset import loading
from digit_recognizer.dataset.loading import PIXEL_COLUMNS

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


def prepared_sample(root: Path, max_train_images: int):
    """(paths, dataset): the embedded sample prepared for profile smoke, seed 7, saved under `root` as
    notebook 02 saves it."""
    from digit_recognizer import config, features

    paths = config.output_paths(root)
    raw = loading.load_data(None)
    source = features.dataset_source({"profile": "smoke", "seed": 7, "data_dir": ""}, raw.files)
    dataset = features.prepare_dataset(raw, 0.1, 7, max_train_images=max_train_images, source=source)
    features.save_dataset(dataset, paths.dataset_file)
    return paths, dataset


def confirmed_on_made_up_errors(tuner, adopt: bool = True) -> dict:
    """A confirmation of the search's best candidate as `confirmation.confirm` returns it, decided by the
    real `confirmation.decide`, on made-up errors instead of trainings: the candidate adopted (`adopt`),
    else the defaults kept."""
    from digit_recognizer.modeling import confirmation

    entries = confirmation.candidates(tuner, 1)
    for number, entry in enumerate(entries):
        wrong = list(range(9)) if number == 0 or not adopt else []
        entry |= {"errors": len(wrong), "wrong": wrong, "seconds": 0.0}
    return {"validation_images": 30, "epochs": 3, "seed": 7, **confirmation.decide(entries)}


def load_benchmark(name: str):
    """benchmarks/NAME.py imported as a module (benchmarks/ is not a package)."""
    import importlib.util

    from digit_recognizer.config import PROJECT_DIR

    spec = importlib.util.spec_from_file_location(name, PROJECT_DIR / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
