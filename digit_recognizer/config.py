"""Paths, run profiles and the seed: the one place that defines them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = PROJECT_DIR / "notebooks"
RAW_DATA_DIR = PROJECT_DIR / "data" / "raw"
SAMPLE_DATA_DIR = PROJECT_DIR / "data" / "sample"
EXTERNAL_DATA_DIR = PROJECT_DIR / "data" / "external"

DEFAULT_SEED = 42
IMAGE_SIZE = 28
NUM_PIXELS = IMAGE_SIZE * IMAGE_SIZE
NUM_CLASSES = 10


@dataclass(frozen=True)
class Profile:
    """How much work a run does. `smoke` proves the pipeline in seconds; `fast` trains one untuned CNN
    in about 5 minutes on 2 cores (292 s in benchmarks/RESULTS.md), aiming at the public reference
    recipe's accuracy in half its time; `full` tunes, then trains an ensemble for the real submission."""

    name: str
    validation_fraction: float
    max_train_images: int | None  # None: every training image
    tune: bool  # False: skip the search and train the model's default hyperparameters
    tuner: str  # "hyperband", "bayesian" or "random"
    tuning_max_epochs: int
    tuning_max_trials: int  # ignored by Hyperband, which sizes itself from max_epochs
    tuning_budget_minutes: float  # no new trial starts after this
    tuning_patience: int
    ensemble_size: int  # CNNs trained with different seeds; their softmax outputs are averaged
    train_epochs: int  # the learning rate follows a cosine from its initial value down over these
    batch_size: int

    def as_dict(self) -> dict:
        return asdict(self)


PROFILES = {
    "smoke": Profile(
        name="smoke",
        validation_fraction=0.1,
        max_train_images=1000,
        tune=True,
        tuner="random",
        tuning_max_epochs=1,
        tuning_max_trials=2,
        tuning_budget_minutes=5,
        tuning_patience=1,
        ensemble_size=1,
        train_epochs=3,
        batch_size=64,
    ),
    "fast": Profile(
        name="fast",
        validation_fraction=0.1,
        max_train_images=None,
        tune=False,
        tuner="random",
        tuning_max_epochs=1,
        tuning_max_trials=1,
        tuning_budget_minutes=1,
        tuning_patience=1,
        ensemble_size=1,
        train_epochs=32,
        batch_size=64,
    ),
    "full": Profile(
        name="full",
        validation_fraction=0.1,
        max_train_images=None,
        tune=True,
        tuner="hyperband",
        tuning_max_epochs=9,
        tuning_max_trials=20,
        tuning_budget_minutes=10,
        tuning_patience=3,
        ensemble_size=3,
        train_epochs=32,
        batch_size=64,
    ),
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}") from None


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
    def manifest_file(self) -> Path:
        return self.models_dir / "run.json"

    @property
    def submission_file(self) -> Path:
        return self.root / "submission.csv"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"


def output_paths(output_dir: str | Path | None = None) -> OutputPaths:
    return OutputPaths(Path(output_dir).resolve() if output_dir else PROJECT_DIR)
