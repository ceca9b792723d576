"""Paths, and the constants the run settings (settings.py) and run profiles (profiles.py) rest on."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


def is_source_checkout(folder: Path = PROJECT_DIR) -> bool:
    """True for a clone, used in place (PYTHONPATH or an editable install); False for an installed copy,
    whose parent folder is site-packages."""
    return (folder / "pyproject.toml").is_file() and (folder / "notebooks").is_dir()


SOURCE_CHECKOUT = is_source_checkout()
# A checkout keeps the notebooks and the embedded sample at its top; a wheel carries them in the package.
NOTEBOOKS_DIR = PROJECT_DIR / "notebooks" if SOURCE_CHECKOUT else PACKAGE_DIR / "notebooks"
SAMPLE_DATA_DIR = PROJECT_DIR / "data" / "sample" if SOURCE_CHECKOUT else PACKAGE_DIR / "sample"
# `data_dir` value that asks for the embedded sample by name
SAMPLE = "sample"
# Set by Kaggle in its notebooks; the root is overridable for tests only.
KAGGLE_ENV = "KAGGLE_KERNEL_RUN_TYPE"
KAGGLE_ROOT_ENV = "DIGIT_RECOGNIZER_KAGGLE_ROOT"


def on_kaggle() -> bool:
    return KAGGLE_ENV in os.environ


def kaggle_root() -> Path:
    return Path(os.environ.get(KAGGLE_ROOT_ENV) or "/kaggle")


def work_dir() -> Path:
    """Where a run keeps its data/raw and writes its outputs by default: /kaggle/working on Kaggle, the
    project folder in a clone, else the current folder; never the installed package's folder."""
    if on_kaggle():
        return kaggle_root() / "working"
    if SOURCE_CHECKOUT:
        return PROJECT_DIR
    return Path.cwd().resolve()


def raw_data_dir() -> Path:
    """Kaggle's competition files, as `make data` downloads them."""
    return work_dir() / "data" / "raw"


def external_data_dir() -> Path:
    return work_dir() / "data" / "external"

IMAGE_SIZE = 28
NUM_PIXELS = IMAGE_SIZE * IMAGE_SIZE
NUM_CLASSES = 10
MAX_SEED = 2**31 - 1  # NumPy takes seeds below 2**32; an ensemble member or a trial adds a little to it
TUNER_NAMES = ("hyperband", "bayesian", "random")


@dataclass(frozen=True)
class OutputPaths:
    """Where a run writes. Everything hangs off one root so tests can point it at a temp folder."""

    root: Path

    @property
    def processed_dir(self) -> Path:
        return self.root / "data" / "processed"

    @property
    def dataset_file(self) -> Path:
        return self.processed_dir / "dataset.npz"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def tuning_dir(self) -> Path:
        return self.models_dir / "tuning"

    @property
    def trials_file(self) -> Path:
        return self.tuning_dir / "trials.csv"

    @property
    def best_hyperparameters_file(self) -> Path:
        return self.tuning_dir / "best_hyperparameters.json"

    @property
    def search_summary_file(self) -> Path:
        return self.tuning_dir / "search.json"

    @property
    def model_file(self) -> Path:
        return self.models_dir / "model.keras"

    @property
    def metrics_file(self) -> Path:
        return self.models_dir / "metrics.json"

    @property
    def history_file(self) -> Path:
        return self.models_dir / "history.csv"

    @property
    def training_backup_dir(self) -> Path:
        return self.models_dir / "training-backup"

    @property
    def logs_dir(self) -> Path:
        """TensorBoard's folder: `make tensorboard` opens it."""
        return self.models_dir / "logs"

    @property
    def train_logs_dir(self) -> Path:
        return self.logs_dir / "train"

    @property
    def search_logs_dir(self) -> Path:
        return self.logs_dir / "search"

    @property
    def test_score_file(self) -> Path:
        return self.models_dir / "test_score.json"

    @property
    def manifest_file(self) -> Path:
        return self.models_dir / "run.json"

    @property
    def submission_file(self) -> Path:
        return self.root / "submission.csv"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"


def output_paths(output_dir: str | Path | None = None) -> OutputPaths:
    """The given folder (`~` expanded), or `work_dir()`."""
    return OutputPaths(Path(output_dir).expanduser().resolve() if output_dir else work_dir())
