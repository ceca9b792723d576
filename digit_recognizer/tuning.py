"""Keras Tuner search over `build_model(hp)`: resumable from disk, with its results exported."""

from __future__ import annotations

import shutil
import time
from datetime import datetime
from pathlib import Path

import keras
import keras_tuner as kt
import numpy as np
import pandas as pd

from .config import Profile
from .io import atomic_path, read_json, write_json
from .model import build_model

OBJECTIVE = "val_accuracy"
TUNERS = {"hyperband": kt.Hyperband, "bayesian": kt.BayesianOptimization, "random": kt.RandomSearch}


def _seeded(tuner_class):
    """A tuner class that reseeds before each trial, so a trial's result depends only on its id."""

    class SeededTuner(tuner_class):
        def run_trial(self, trial, *args, **kwargs):
            keras.utils.set_random_seed(self.trial_seed + int(trial.trial_id))
            start = time.perf_counter()
            histories = super().run_trial(trial, *args, **kwargs)
            return _trial_metrics(histories, time.perf_counter() - start)

    SeededTuner.__name__ = tuner_class.__name__
    return SeededTuner


def _trial_metrics(histories, seconds: float) -> dict:
    """The best epoch's metrics, plus the epochs run and the seconds taken (saved with the trial)."""
    history = (histories[0] if isinstance(histories, list) else histories).history
    best = int(np.argmax(history[OBJECTIVE]))
    metrics = {name: values[best] for name, values in history.items() if name != "learning_rate"}
    return metrics | {"epochs": len(history[OBJECTIVE]), "seconds": round(seconds, 1)}


def make_tuner(profile: Profile, tuning_dir: Path, seed: int) -> kt.Tuner:
    """The profile's tuner; a search already on disk under `tuning_dir/<profile>` is resumed."""
    if profile.tuner not in TUNERS:
        raise ValueError(f"unknown tuner {profile.tuner!r}; choose one of {sorted(TUNERS)}")
    common = dict(objective=OBJECTIVE, seed=seed, directory=str(tuning_dir), project_name=profile.name,
                  overwrite=False)
    if profile.tuner == "hyperband":
        options = dict(max_epochs=profile.tuning_max_epochs, factor=3)
    else:
        options = dict(max_trials=profile.tuning_max_trials)
    tuner = _seeded(TUNERS[profile.tuner])(build_model, **common, **options)
    tuner.trial_seed = seed
    return tuner


def archive_search(tuning_dir: Path, profile_name: str) -> Path | None:
    """Move an earlier search and its exports to tuning_dir/archive/<time>-<profile>; returns it."""
    leftovers = [p for p in (tuning_dir / profile_name, tuning_dir / "trials.csv",
                             tuning_dir / "best_hyperparameters.json") if p.exists()]
    if not leftovers:
        return None
    archive = tuning_dir / "archive" / f"{datetime.now():%Y%m%d-%H%M%S}-{profile_name}"
    archive.mkdir(parents=True)
    for path in leftovers:
        shutil.move(str(path), archive / path.name)
    return archive


def search(tuner: kt.Tuner, dataset, profile: Profile, verbose: int = 2) -> None:
    stop_early = keras.callbacks.EarlyStopping(monitor=OBJECTIVE, patience=profile.tuning_patience)
    tuner.search(dataset.x_train, dataset.y_train, validation_data=(dataset.x_valid, dataset.y_valid),
                 epochs=profile.tuning_max_epochs, batch_size=profile.batch_size,
                 callbacks=[stop_early], verbose=verbose)


def tunable_values(hp: kt.HyperParameters) -> dict:
    """The model's hyperparameters, without Keras Tuner's bookkeeping entries (`tuner/...`)."""
    return {k: round(v, 8) if isinstance(v, float) else v  # 0.30000000000000004 -> 0.3
            for k, v in hp.values.items() if not k.startswith("tuner/")}


def trials_table(tuner: kt.Tuner) -> pd.DataFrame:
    """One row per trial: id, status, hyperparameters, validation accuracy and loss at its best epoch,
    epochs run and seconds taken (a Hyperband trial that continues another counts only its own)."""
    rows = []
    for trial in tuner.oracle.trials.values():
        metrics = trial.metrics
        row = {"trial_id": trial.trial_id, "status": trial.status, **tunable_values(trial.hyperparameters)}
        for name in (OBJECTIVE, "val_loss", "epochs", "seconds"):
            row[name] = metrics.get_last_value(name) if metrics.exists(name) else None
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return table.sort_values(["val_accuracy", "trial_id"], ascending=[False, True],
                             na_position="last").reset_index(drop=True)


def best_hyperparameters(tuner: kt.Tuner) -> dict:
    best = tuner.get_best_hyperparameters(1)
    if not best:
        raise RuntimeError("the search finished no trial, so there are no best hyperparameters")
    return tunable_values(best[0])


def export_results(tuner: kt.Tuner, paths) -> tuple[pd.DataFrame, dict]:
    """Write trials.csv and best_hyperparameters.json (atomically); returns both."""
    table, best = trials_table(tuner), best_hyperparameters(tuner)
    with atomic_path(paths.trials_file) as tmp:
        table.to_csv(tmp, index=False)
    write_json(best, paths.best_hyperparameters_file)
    return table, best


def load_best_hyperparameters(path: str | Path) -> dict | None:
    """The tuned hyperparameters, or None where no search has been saved yet."""
    path = Path(path)
    return read_json(path) if path.is_file() else None
