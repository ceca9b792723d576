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

from ..features import dataset_identity, split_train_validation
from ..plumbing.files import atomic_path, write_json
from ..plumbing.lineage import fingerprint
from ..plumbing.memory import peak_memory_mb
from ..plumbing.runtime import DeterminismUnavailable, explained_determinism_errors
from ..plumbing.tensorboard_logs import tensorboard_callbacks
from ..profiles import Profile
from .augment import AUGMENTATION
from .model import active_values, build_model, default_values
from .search_record import OBJECTIVE

# Per trial, from its metrics: the best epoch's (what the search ranks by), the last epoch's and the lowest
# validation loss (other rankings `benchmarks/fidelity.py` compares with the final training's), its cost.
RESULT_COLUMNS = (OBJECTIVE, "val_loss", "last_val_accuracy", "last_val_loss", "lowest_val_loss", "epochs",
                  "seconds")
WORKER_FILE = "worker.txt"
TUNERS = {"hyperband": kt.Hyperband, "bayesian": kt.BayesianOptimization, "random": kt.RandomSearch}


def _seeded(tuner_class):
    """A tuner class that reseeds before each trial, so a trial's result depends only on its id."""

    class SeededTuner(tuner_class):
        def run_trial(self, trial, *args, **kwargs):
            keras.utils.set_random_seed(self.trial_seed + int(trial.trial_id))
            trial_dir = Path(self.get_trial_dir(trial.trial_id))
            trial_dir.mkdir(parents=True, exist_ok=True)
            (trial_dir / WORKER_FILE).write_text(self.tuner_id)  # who ran it, for distributed searches
            start = time.perf_counter()
            try:
                with explained_determinism_errors():
                    histories = super().run_trial(trial, *args, **kwargs)
            except DeterminismUnavailable as error:  # not a failed trial to retry: every trial would fail
                raise SearchStopped(str(error)) from None
            return _trial_metrics(histories, time.perf_counter() - start)

    SeededTuner.__name__ = tuner_class.__name__
    return SeededTuner


class SearchStopped(kt.errors.FatalError):
    """An error no other trial can escape (an op without a deterministic kernel): Keras Tuner stops."""


def _trial_metrics(histories, seconds: float) -> dict:
    """The best epoch's metrics, the last epoch's validation accuracy and loss, the lowest validation loss,
    the epochs run and the seconds taken (saved with the trial)."""
    history = (histories[0] if isinstance(histories, list) else histories).history
    best = int(np.argmax(history[OBJECTIVE]))
    metrics = {name: values[best] for name, values in history.items() if name != "learning_rate"}
    last = {"last_val_accuracy": history["val_accuracy"][-1], "last_val_loss": history["val_loss"][-1],
            "lowest_val_loss": min(history["val_loss"])}
    return metrics | last | {"epochs": len(history[OBJECTIVE]), "seconds": round(seconds, 1)}


def project_name(profile: Profile, dataset_source: dict) -> str:
    """The search's folder: `<profile>-<tuner>-<the prepared data set's fingerprint>`, so a search made on
    other data or with another seed is never resumed as this one."""
    return f"{profile.name}-{profile.tuner}-{fingerprint(dataset_identity(dataset_source))[:8]}"


def fixed_augmentation() -> kt.HyperParameters:
    """The augmentation strength, held at its defaults during a search: trials of a few epochs favour weak
    augmentation, which then loses after full-length training (benchmarks/README.md has the numbers)."""
    hp = kt.HyperParameters()
    for name, value in AUGMENTATION.items():
        hp.Fixed(name, value)
    return hp


def make_tuner(profile: Profile, tuning_dir: Path, seed: int, dataset_source: dict) -> kt.Tuner:
    """The profile's tuner for the prepared data set `dataset_source` describes; the search already on
    disk for it (`project_name`) is resumed, and says so. It searches every knob of `build_model(hp)` but
    the augmentation strength (`fixed_augmentation`)."""
    project = project_name(profile, dataset_source)
    if (Path(tuning_dir) / project / "oracle.json").is_file():
        print(f"resuming the search in {Path(tuning_dir) / project} (made on this prepared data set)")
    common = dict(objective=OBJECTIVE, seed=seed, directory=str(tuning_dir), project_name=project,
                  overwrite=False,
                  hyperparameters=fixed_augmentation(), tune_new_entries=True)
    if profile.tuner == "hyperband":
        options = dict(max_epochs=profile.max_epochs, factor=3)
    else:
        options = dict(max_trials=profile.max_trials)
    tuner = _seeded(TUNERS[profile.tuner])(build_model, **common, **options)
    tuner.trial_seed = seed
    start_from_defaults(tuner.oracle)
    return tuner


def start_from_defaults(oracle) -> None:
    """The first configuration any algorithm tries is the model's defaults, so a search can only replace
    them with something that beat them on the same budget."""
    if not hasattr(oracle, "_random_values"):
        return  # a distributed worker's client: the chief's oracle chooses
    random_values = oracle._random_values  # a Keras Tuner 1.4 internal, covered by a test

    def defaults_first():
        defaults = default_values()
        return random_values() if oracle._duplicate(defaults) else defaults

    oracle._random_values = defaults_first


def seconds_spent(oracle) -> float:
    """The seconds the trials on record took (each its own, as `_trial_metrics` saved them): what earlier
    sittings of a search spent of its budget. Trials run side by side (a distributed search) add up."""
    trials = getattr(oracle, "trials", {}).values()
    return float(sum(t.metrics.get_last_value("seconds") or 0 for t in trials if t.metrics.exists("seconds")))


def stop_new_trials_after(oracle, seconds: float) -> float:
    """Past the deadline the oracle answers STOPPED, so no new trial starts (running ones finish). What
    the trials on record already spent counts: a resumed search, or one run again, goes on only for what
    is left of its budget. Returns that."""
    if not hasattr(oracle, "populate_space"):
        return seconds  # a distributed worker's client: the chief's oracle keeps the clock
    left = max(0.0, seconds - seconds_spent(oracle))
    populate_space, deadline = oracle.populate_space, time.monotonic() + left

    def populate_or_stop(trial_id):
        if time.monotonic() >= deadline:
            return {"status": kt.engine.trial.TrialStatus.STOPPED, "values": None}
        return populate_space(trial_id)

    oracle.populate_space = populate_or_stop
    return left


EXPORTS = ("trials.csv", "best_hyperparameters.json", "search.json")


def archive_search(tuning_dir: Path, project: str) -> Path | None:
    """Move an earlier search and its exports to tuning_dir/archive/<time>-<project>; returns it."""
    leftovers = [p for p in (tuning_dir / project, *(tuning_dir / name for name in EXPORTS)) if p.exists()]
    if not leftovers:
        return None
    archive = tuning_dir / "archive" / f"{datetime.now():%Y%m%d-%H%M%S}-{project}"
    archive.mkdir(parents=True)
    for path in leftovers:
        shutil.move(str(path), archive / path.name)
    return archive


def search_split(dataset, profile: Profile, seed: int):
    """(x, y, x_valid, y_valid) the search trains and scores its trials on: a seeded, stratified
    `profile.search_validation_fraction` of the training digits scores, the rest trains. The final
    training's own validation digits stay out of the search."""
    x, x_valid, y, y_valid = split_train_validation(dataset.x_train, dataset.y_train,
                                                    profile.search_validation_fraction, seed)
    return x, y, x_valid, y_valid


def search(tuner: kt.Tuner, dataset, profile: Profile, verbose: int = 2,
           log_dir: str | Path | None = None) -> dict:
    """Run (or resume) the search within the profile's budget, on `search_split` with the tuner's seed;
    returns a summary with peak memory.

    With `log_dir`, every trial writes TensorBoard logs to `log_dir/<trial>/execution0`, with its
    hyperparameters for TensorBoard's HParams view (Keras Tuner adds them to a TensorBoard callback)."""
    if not stop_new_trials_after(tuner.oracle, profile.budget_minutes * 60):
        print(f"the search's budget of {profile.budget_minutes:g} minutes was spent by the trials on record "
              f"({seconds_spent(tuner.oracle) / 60:.1f} minutes): no new trial starts (a larger "
              "budget_minutes searches on; retune starts afresh)", flush=True)
    callbacks = [keras.callbacks.EarlyStopping(monitor=OBJECTIVE, patience=profile.tuning_patience),
                 *tensorboard_callbacks(log_dir)]
    seed = tuner.trial_seed
    x, y, x_valid, y_valid = search_split(dataset, profile, seed)
    start = time.perf_counter()
    tuner.search(x, y, validation_data=(x_valid, y_valid), epochs=profile.max_epochs,
                 batch_size=profile.batch_size, callbacks=callbacks, verbose=verbose)
    return {"project": tuner.project_name, "profile": profile.name, "seed": seed, "tuner": profile.tuner,
            "max_epochs": profile.max_epochs, "max_trials": profile.max_trials,
            "budget_minutes": profile.budget_minutes, "train_images": len(x),
            "validation_images": len(x_valid),
            "seconds": round(time.perf_counter() - start, 1),
            "trials": len(getattr(tuner.oracle, "trials", ())),  # a worker's oracle client has none
            "peak_memory_mb": peak_memory_mb()}


def tunable_values(hp: kt.HyperParameters) -> dict:
    """The hyperparameters the trial's model used, without Keras Tuner's bookkeeping (`tuner/...`)."""
    values = {k: round(v, 8) if isinstance(v, float) else v  # 0.30000000000000004 -> 0.3
              for k, v in hp.values.items() if not k.startswith("tuner/")}
    return active_values(values)


def trials_table(tuner: kt.Tuner) -> pd.DataFrame:
    """One row per trial: id, status, hyperparameters, validation accuracy and loss at its best epoch,
    epochs run and seconds taken (a Hyperband trial that continues another counts only its own)."""
    rows = []
    for trial in tuner.oracle.trials.values():
        metrics = trial.metrics
        worker = Path(tuner.get_trial_dir(trial.trial_id)) / WORKER_FILE
        row = {"trial_id": trial.trial_id, "status": trial.status,
               "worker": worker.read_text() if worker.is_file() else None,
               **tunable_values(trial.hyperparameters)}
        for name in RESULT_COLUMNS:
            row[name] = metrics.get_last_value(name) if metrics.exists(name) else None
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return table.sort_values(["val_accuracy", "trial_id"], ascending=[False, True],
                             na_position="last").reset_index(drop=True)


def hyperparameter_columns(table: pd.DataFrame) -> list[str]:
    """The trials table's hyperparameter columns."""
    fixed = {"trial_id", "status", "worker", *RESULT_COLUMNS}
    return [c for c in table.columns if c not in fixed]


def best_trial(tuner: kt.Tuner):
    best = tuner.oracle.get_best_trials(1)
    if not best:
        raise RuntimeError("the search finished no trial, so there are no best hyperparameters")
    return best[0]


def export_results(tuner: kt.Tuner, paths, summary: dict, dataset_source: dict,
                   confirmation: dict) -> tuple[pd.DataFrame, dict]:
    """Write trials.csv, best_hyperparameters.json (what the `confirmation` adopted: the values notebook 04
    trains, nothing else) and search.json (the summary, the search's best trial, the confirmation and the
    prepared data set the search was made on), each atomically; returns the trials and the adopted values."""
    table, trial = trials_table(tuner), best_trial(tuner)
    adopted = confirmation["adopted_values"]
    with atomic_path(paths.trials_file) as tmp:
        table.to_csv(tmp, index=False)
    confirmed = {k: v for k, v in confirmation.items() if k not in ("entries", "adopted_values")} | {
        "entries": [{k: e.get(k) for k in ("name", "trial_id", "search_score", "errors", "seconds")}
                    for e in confirmation["entries"]]}  # without the indices of the digits each got wrong
    record = summary | {"made_from": dataset_identity(dataset_source),
                        "best_trial": {"trial_id": trial.trial_id, OBJECTIVE: trial.score},
                        "confirmation": confirmed, "best_hyperparameters": adopted}
    write_json(adopted, paths.best_hyperparameters_file)
    write_json(record, paths.search_summary_file)
    return table, adopted
