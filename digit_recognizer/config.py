"""Paths, run profiles and the seed: the one place that defines them."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, replace
from numbers import Integral, Real
from pathlib import Path

from .messages import quote

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
DEFAULT_PROFILE = "full"
SEARCH_PROFILE = "tuned"  # the default of the tuning notebook, `make tune` and distributed tuning
DEFAULT_SEED = 42
DEFAULT_DETERMINISTIC = True
DEFAULT_MIXED_PRECISION = False
IMAGE_SIZE = 28
NUM_PIXELS = IMAGE_SIZE * IMAGE_SIZE
NUM_CLASSES = 10
MAX_SEED = 2**31 - 1  # NumPy takes seeds below 2**32; an ensemble member or a trial adds a little to it
TUNER_NAMES = ("hyperband", "bayesian", "random")


@dataclass(frozen=True)
class Profile:
    """How much work a run does. `smoke` proves the pipeline quickly on a slice of the data; `fast`
    trains one CNN, aiming at the public reference recipe's accuracy in half its time; `full` (the
    default) trains an ensemble of CNNs; `tuned` searches hyperparameters first, then trains that ensemble
    with the winner. `full` does not search: on the evidence so far a search does not pay for itself
    (benchmarks/README.md has the measurements)."""

    name: str
    validation_fraction: float
    max_train_images: int | None  # None: every training image
    tune: bool  # False: skip the search and train the model's default hyperparameters
    tuner: str  # one of TUNER_NAMES
    max_epochs: int  # per search trial
    max_trials: int  # ignored by Hyperband, which sizes itself from max_epochs
    budget_minutes: float  # no new search trial starts after this
    tuning_patience: int
    ensemble_size: int  # CNNs trained with different seeds; their softmax outputs are averaged
    train_epochs: int  # the learning rate follows a cosine from its initial value down over these
    batch_size: int

    def as_dict(self) -> dict:
        return asdict(self)


_FULL = Profile(
    name="full",
    validation_fraction=0.1,
    max_train_images=None,
    tune=False,
    tuner="hyperband",  # the search settings, for `tuned`, which inherits them
    max_epochs=9,
    max_trials=20,
    budget_minutes=10,
    tuning_patience=3,
    ensemble_size=3,  # a fourth member would take predicting Kaggle's 28,000 digits past 10 s on 2 cores
    train_epochs=45,
    batch_size=128,
)

PROFILES = {
    "smoke": Profile(
        name="smoke",
        validation_fraction=0.1,
        max_train_images=1000,
        tune=True,
        tuner="random",
        max_epochs=1,
        max_trials=2,
        budget_minutes=5,
        tuning_patience=1,
        ensemble_size=1,
        train_epochs=3,
        batch_size=64,
    ),
    "fast": replace(_FULL, name="fast", ensemble_size=1, train_epochs=24),
    "full": _FULL,
    "tuned": replace(_FULL, name="tuned", tune=True),
}


class SettingError(ValueError):
    """A run setting (notebook parameter, runner option) is invalid; `setting` names it."""

    def __init__(self, setting: str, problem: str):
        super().__init__(f"{setting}: {problem}")
        self.setting, self.problem = setting, problem


def get_profile(name: str) -> Profile:
    if isinstance(name, str) and name in PROFILES:
        return PROFILES[name]
    raise SettingError("profile", f"unknown profile {quote(name)}; choose one of {sorted(PROFILES)}")


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
