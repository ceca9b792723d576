"""Paths, the seed and the other run settings' defaults: the one place that defines them (the run
profiles are in profiles.py)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from numbers import Integral, Real
from pathlib import Path

# SettingError and the run profiles are re-exported with the other run settings (the profiles have a
# module of their own, so the benchmark fingerprints each job by its own profile).
from .messages import SettingError, quote
from .profiles import DEFAULT_PROFILE, PROFILES, SEARCH_PROFILE, Profile, get_profile  # noqa: F401

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

# The defaults of a run's settings: the runner's and the distributed tuner's options and the notebooks'
# parameters ("", None or 0 there) all take them from here.
DEFAULT_SEED = 42
DEFAULT_DETERMINISTIC = True
DEFAULT_MIXED_PRECISION = False
IMAGE_SIZE = 28
NUM_PIXELS = IMAGE_SIZE * IMAGE_SIZE
NUM_CLASSES = 10
MAX_SEED = 2**31 - 1  # NumPy takes seeds below 2**32; an ensemble member or a trial adds a little to it
TUNER_NAMES = ("hyperband", "bayesian", "random")


def _whole(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _seed_problem(seed) -> str | None:
    if not _whole(seed):
        return "is not a whole number"
    return "is negative" if seed < 0 else "is too large" if seed > MAX_SEED else None


def check_settings(profile: str, seed: int = DEFAULT_SEED, tuner: str = "", max_epochs: int = 0,
                   max_trials: int = 0, budget_minutes: float = 0) -> Profile:
    """The named profile, once every setting of a run is valid: the one check that the runner, the
    notebooks and the tuner make before any work. 0 or "" for a search setting keeps the profile's."""
    chosen = get_profile(profile)
    if problem := _seed_problem(seed):
        raise SettingError("seed", f"{quote(seed)} {problem}; expected a whole number from 0 to {MAX_SEED}")
    if tuner and tuner not in TUNER_NAMES:
        raise SettingError("tuner", f"unknown tuner {quote(tuner)}; "
                                    f"choose one of {sorted(TUNER_NAMES)} (empty: the profile's)")
    for setting, value in (("max_epochs", max_epochs), ("max_trials", max_trials)):
        if not _whole(value) or value < 0:
            raise SettingError(setting, f"{quote(value)} is not a whole number >= 0 (0: the profile's)")
    minutes = budget_minutes
    if not (isinstance(minutes, Real) and not isinstance(minutes, bool) and 0 <= minutes < math.inf):
        raise SettingError("budget_minutes", f"{quote(minutes)} is not a number of minutes >= 0 "
                                             "(0: the profile's)")
    return chosen


def search_settings(profile: Profile, tuner: str = "", max_epochs: int = 0, max_trials: int = 0,
                    budget_minutes: float = 0) -> Profile:
    """The profile with any of its search settings overridden (0 or "" keeps the profile's)."""
    check_settings(profile.name, tuner=tuner, max_epochs=max_epochs, max_trials=max_trials,
                   budget_minutes=budget_minutes)
    return replace(profile, tuner=tuner or profile.tuner, max_epochs=max_epochs or profile.max_epochs,
                   max_trials=max_trials or profile.max_trials,
                   budget_minutes=budget_minutes or profile.budget_minutes)


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
    """The given folder, or `work_dir()`."""
    return OutputPaths(Path(output_dir).resolve() if output_dir else work_dir())
