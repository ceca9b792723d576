"""Seeding, the final fit, ensembles, training backups, and the saved model with its provenance."""

from __future__ import annotations

import hashlib
import math
import shutil
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from ..features import dataset_identity
from ..plumbing.files import atomic_path, now, read_json_or_none, read_record, write_json
from ..plumbing.lineage import differences, is_intact, matches, record
from ..plumbing.runtime import explained_determinism_errors, set_determinism
from ..plumbing.tensorboard_logs import tensorboard_callbacks
from ..profiles import Profile
from .batch_norm import recompute_statistics
from .model import build_model, ensemble, hyperparameters_from
from .prediction import evaluate, load_model, predict_probabilities
from .pseudo_labels import sure_digits, with_pseudo_labels
from .search_record import search_on_record

# Beside a training backup: what the training that made it ran on.
BACKUP_RECORD = "trained-on.json"
# The second round's learning rate starts at this share of the first round's start.
SECOND_ROUND_LEARNING_RATE = 0.25


def cosine_learning_rate(initial: float, epochs: int, floor: float = 0.01):
    """Epoch -> learning rate: a cosine from `initial` down to `floor * initial` at the last epoch."""
    def rate(epoch: int, _current=None) -> float:
        progress = epoch / max(epochs - 1, 1)
        return float(initial * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))))
    return rate


def training_callbacks(model: keras.Model, profile: Profile) -> list[keras.callbacks.Callback]:
    """A cosine learning-rate decay over the profile's epochs, from the model's own learning rate."""
    initial = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    return [keras.callbacks.LearningRateScheduler(cosine_learning_rate(initial, profile.train_epochs))]


def train_model(hyperparameters: dict | None, dataset, profile: Profile, seed: int, verbose: int = 2,
                backup_dir: str | Path | None = None, extra_callbacks=()):
    """Build the model from `hyperparameters`, fit it, then measure its batch-norm statistics again on
    the clean training digits (`batch_norm`); returns (model, history DataFrame, seconds).

    With `backup_dir`, a run killed mid-way resumes from its last finished epoch when started again
    (Keras BackupAndRestore) with the same data, profile, seed and hyperparameters; another run's backup
    is discarded. The backup is deleted once training completes.
    """
    set_determinism(seed)
    model = build_model(hyperparameters_from(hyperparameters))
    callbacks = training_callbacks(model, profile) + list(extra_callbacks)
    if backup_dir:
        claim_backup(backup_dir, trained_on(dataset, profile, seed, hyperparameters))
        callbacks.insert(0, keras.callbacks.BackupAndRestore(str(backup_dir)))
    start = time.perf_counter()
    with explained_determinism_errors():  # an op without a deterministic kernel: one line, the remedy
        history = model.fit(dataset.x_train, dataset.y_train, batch_size=profile.batch_size,
                            epochs=profile.train_epochs, validation_data=(dataset.x_valid, dataset.y_valid),
                            callbacks=callbacks, verbose=verbose)
    recompute_statistics(model, dataset.x_train)  # for clean digits, dropout off, the final weights
    seconds = time.perf_counter() - start
    frame = pd.DataFrame(history.history)
    frame.index = pd.Index([epoch + 1 for epoch in history.epoch], name="epoch")  # later if resumed
    if resumed_at_epoch(frame):
        print(f"resumed from the training backup in {backup_dir} at epoch {resumed_at_epoch(frame)}",
              flush=True)
    return model, frame, seconds


def reseed_augmentation(model: keras.Model, seed: int) -> None:
    """Restart the random streams of the model's augmentation from `seed`. A saved model does not keep
    their state, so without this a round that starts from a loaded model would augment differently from
    one that starts from the same model in memory."""
    states = [v for v in model.variables if v.path.endswith("seed_generator_state")]
    for number, state in enumerate(states):
        state.assign(keras.ops.convert_to_tensor([seed * 1009 + number, 0], dtype=state.dtype))


def continue_training(model: keras.Model, dataset, epochs: int, learning_rate: float, batch_size: int,
                      seed: int, verbose: int = 2) -> pd.DataFrame:
    """`epochs` more epochs of a trained `model` on `dataset`'s training digits, its learning rate on a
    fresh cosine from `learning_rate`, then its batch-norm statistics measured again; returns the
    history."""
    set_determinism(seed)
    reseed_augmentation(model, seed)
    schedule = keras.callbacks.LearningRateScheduler(cosine_learning_rate(learning_rate, epochs))
    with explained_determinism_errors():
        history = model.fit(dataset.x_train, dataset.y_train, batch_size=batch_size, epochs=epochs,
                            validation_data=(dataset.x_valid, dataset.y_valid), callbacks=[schedule],
                            verbose=verbose)
    recompute_statistics(model, dataset.x_train)
    frame = pd.DataFrame(history.history)
    frame.index = pd.Index(range(1, len(frame) + 1), name="epoch")
    return frame


def second_round(members: list[keras.Model], hyperparameters: dict | None, dataset, profile: Profile,
                 seed: int, verbose: int = 2,
                 backup_dir: Path | None = None) -> tuple[list[keras.Model], list[pd.DataFrame], int, float]:
    """Pseudo-labels (`pseudo_labels`): the test digits the first round's ensemble is sure of join the
    training digits, and each member trains `profile.pseudo_label_epochs` more epochs on both (a member a
    stopped run finished is loaded from `backup_dir`). Returns (members, their histories of this round,
    the test digits added, seconds)."""
    start = time.perf_counter()
    probabilities = predict_probabilities(ensemble(members), dataset.x_test)
    indices, labels = sure_digits(probabilities, profile.pseudo_label_confidence)
    widened = with_pseudo_labels(dataset, indices, labels)
    print(f"--- second round: {len(indices)} of {len(dataset.x_test)} test digits pseudo-labelled (softmax "
          f"at least {profile.pseudo_label_confidence}), {profile.pseudo_label_epochs} epochs on "
          f"{len(widened.x_train)} digits", flush=True)
    learning_rate = SECOND_ROUND_LEARNING_RATE * hyperparameters_from(hyperparameters).values["learning_rate"]
    trained, histories = [], []
    for number, member in enumerate(members):
        folder = Path(backup_dir) / f"member-{number}" if backup_dir else None
        if found := finished_member(folder, "round-2"):
            member, history = found
        else:
            history = continue_training(member, widened, profile.pseudo_label_epochs, learning_rate,
                                        profile.batch_size, seed + number, verbose)
            if folder:
                save_finished(member, history, folder, "round-2")
        trained.append(member)
        histories.append(history)
    return trained, histories, len(indices), time.perf_counter() - start


def save_finished(model: keras.Model, history: pd.DataFrame, folder: Path, stage: str) -> None:
    """A member once `stage` ("round-1", "round-2") of its training has finished, with its optimizer's
    state and its history, in the run's backup folder: a run stopped later picks it up (`finished_member`)
    and goes on exactly as the stopped one would have."""
    folder.mkdir(parents=True, exist_ok=True)
    history.to_csv(folder / f"{stage}-history.csv")
    with atomic_path(folder / f"{stage}.keras") as tmp:  # last: the model says the stage is complete
        model.save(tmp)


def finished_member(folder: Path | None, stage: str) -> tuple[keras.Model, pd.DataFrame] | None:
    """(model, history) of a member whose `stage` a stopped run finished (`save_finished`), else None.
    The backup folder holds only backups of this very training (`claim_backup`)."""
    saved = folder / f"{stage}.keras" if folder else None
    if not saved or not saved.is_file() or not (folder / f"{stage}-history.csv").is_file():
        return None
    print(f"{stage} of this member was finished by a run that stopped later: {saved}", flush=True)
    return load_model(saved), pd.read_csv(folder / f"{stage}-history.csv", index_col="epoch")


def resumed_at_epoch(history: pd.DataFrame) -> int | None:
    """The first epoch a training ran this time, where it resumed from a backup; None where it started
    at epoch 1."""
    first = int(history.index[0]) if len(history) else 1
    return first if first > 1 else None


def train_ensemble(hyperparameters: dict | None, dataset, profile: Profile, seed: int, verbose: int = 2,
                   backup_dir: str | Path | None = None, log_dir: str | Path | None = None,
                   after_first_round=None):
    """`profile.ensemble_size` CNNs, seeds `seed`, `seed + 1`, ..., averaged into one model; where the
    profile says so (`pseudo_label_epochs`), a second round on the test digits they are sure of follows
    (`second_round`), and `after_first_round(model)` sees the ensemble before it.

    With `log_dir`, each member writes TensorBoard logs to `log_dir/member-<n>`.
    Returns (model, per-member histories, per-member validation metrics, seconds).
    """
    members, histories, member_metrics, seconds = [], [], [], 0.0
    if backup_dir:
        claim_backup(backup_dir, trained_on(dataset, profile, seed, hyperparameters))
    for member in range(profile.ensemble_size):
        if profile.ensemble_size > 1:
            print(f"--- member {member + 1} of {profile.ensemble_size} (seed {seed + member})", flush=True)
        member_backup = Path(backup_dir) / f"member-{member}" if backup_dir else None
        if found := finished_member(member_backup, "round-1"):
            (model, history), member_seconds = found, 0.0  # its seconds were a stopped run's
        else:
            logs = tensorboard_callbacks(Path(log_dir) / f"member-{member}" if log_dir else None)
            model, history, member_seconds = train_model(hyperparameters, dataset, profile, seed + member,
                                                         verbose=verbose, backup_dir=member_backup,
                                                         extra_callbacks=logs)
            if member_backup:
                save_finished(model, history, member_backup, "round-1")
        members.append(model)
        histories.append(history)
        metrics = evaluate(model, dataset.x_valid, dataset.y_valid, confusion=False)
        if resumed := resumed_at_epoch(history):
            metrics["resumed_at_epoch"] = resumed  # the epochs before it ran in a run that was stopped
        member_metrics.append(metrics)
        seconds += member_seconds
    if profile.pseudo_label_epochs and len(dataset.x_test):
        if after_first_round:
            after_first_round(ensemble(members))
        members, more, added, more_seconds = second_round(members, hyperparameters, dataset, profile, seed,
                                                          verbose, backup_dir)
        for number, (member, history) in enumerate(zip(members, more, strict=True)):
            done = int(histories[number].index[-1])
            history.index = pd.Index(range(done + 1, done + len(history) + 1), name="epoch")
            histories[number] = pd.concat([histories[number], history])
            metrics = evaluate(member, dataset.x_valid, dataset.y_valid, confusion=False)
            first = member_metrics[number]
            member_metrics[number] = metrics | {"first_round_accuracy": first["accuracy"],
                                                "first_round_errors": first["errors"],
                                                "pseudo_labelled": added}
        seconds += more_seconds
    if backup_dir:
        shutil.rmtree(backup_dir, ignore_errors=True)
    return ensemble(members), histories, member_metrics, seconds


def describe(inputs: dict) -> str:
    """One line for a training's inputs (`trained_on`): the data files' hashes, seed and profile."""
    data = inputs.get("data") or {}
    files = ", ".join(f"{name} {digest[:12]}" for name, digest in sorted((data.get("sha256") or {}).items()))
    return (f"data {files or 'no files'} (split with seed {data.get('seed')}), seed {inputs.get('seed')}, "
            f"profile {(inputs.get('profile') or {}).get('name')}")


class ProvenanceError(ValueError):
    """A model trained on other data or parameters than the current ones."""


def trained_on(dataset, profile: Profile, seed: int, hyperparameters: dict | None) -> dict:
    """What a training is made from (`lineage`): the prepared data set, profile, seed and every
    hyperparameter (the defaults filled in)."""
    return {"seed": seed, "profile": profile.as_dict(), "data": dataset_identity(dataset.source),
            "hyperparameters": model_hyperparameters(hyperparameters)}


def claim_backup(backup_dir: str | Path, identity: dict) -> None:
    """Keep a training backup only if a training with this very identity made it; discard any other,
    saying so, then record the identity beside it."""
    backup_dir = Path(backup_dir)
    record_file = backup_dir / BACKUP_RECORD
    if backup_dir.exists():
        found = read_json_or_none(record_file)
        if not matches(found, identity):
            if any(p.is_file() and p.name != BACKUP_RECORD for p in backup_dir.rglob("*")):
                why = (differences(found, identity) or "recorded in an older format") if found else \
                    "it records no data or parameters"
                print(f"discarding a training backup from another run ({why}): {backup_dir}; "
                      "training starts at epoch 1", flush=True)
            shutil.rmtree(backup_dir)
    write_json(record(identity), record_file)


def planned_hyperparameters(paths, dataset) -> tuple[dict | None, str]:
    """What notebook 04 trains with, and where it comes from: the choice of the search on record for
    the prepared `dataset`, else None, the model's defaults (`search_record.search_on_record`)."""
    return search_on_record(paths, dataset.source)


def model_hyperparameters(values: dict | None) -> dict:
    """Every hyperparameter the model is built with: `values` plus the defaults it leaves out."""
    return dict(hyperparameters_from(values).values)


def metrics_record(profile: Profile, seed: int, hyperparameters: dict | None, dataset, histories, members,
                   seconds: float, validation: dict, hyperparameters_from: str = "") -> dict:
    """What metrics.json says of a training, from `train_ensemble`'s results, the ensemble's
    `validation` metrics and where the hyperparameters came from (`save_training_outputs` adds the
    provenance)."""
    return {
        "profile": profile.name, "seed": seed, "hyperparameters": model_hyperparameters(hyperparameters),
        "hyperparameters_from": hyperparameters_from,
        "ensemble_size": len(members), "epochs": [len(h) for h in histories],
        "train_seconds": round(seconds, 1), "train_images": len(dataset.x_train), "validation": validation,
        "members": members, "trained_at": now(),
    }


def save_model(model: keras.Model, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        model.save(tmp)


def weights_sha256(model: keras.Model) -> str:
    """SHA-256 of every weight's shape and bytes, in the model's order: names the trained model itself."""
    digest = hashlib.sha256()
    for weights in model.get_weights():
        digest.update(str(weights.shape).encode())
        digest.update(np.ascontiguousarray(weights).tobytes())
    return digest.hexdigest()


def save_training_outputs(model, histories: list[pd.DataFrame], metrics: dict, paths, identity: dict) -> None:
    """Model, per-epoch history of every member and metrics, each written atomically. The metrics
    record the model's provenance: what it was trained on (`trained_on`) and its weights' hash."""
    save_model(model, paths.model_file)
    with atomic_path(paths.history_file) as tmp:
        pd.concat(histories, keys=range(len(histories)), names=["member"]).to_csv(tmp)
    provenance = {**record(identity), "weights_sha256": weights_sha256(model)}
    write_json({**metrics, "provenance": provenance}, paths.metrics_file)


def load_trained_model(paths, dataset, profile: Profile, seed: int) -> keras.Model:
    """`paths.model_file`, refused unless its provenance in `paths.metrics_file` matches the prepared
    `dataset` and the parameters notebook 04 would train with now."""
    remedy = "run notebook 04 (`make train`) again"
    model_file, metrics_file = paths.model_file, paths.metrics_file
    expected = trained_on(dataset, profile, seed, planned_hyperparameters(paths, dataset)[0])
    found = read_record(metrics_file, remedy).get("provenance") if metrics_file.is_file() else None
    if model_file.is_file() and not found:
        raise ProvenanceError(f"{model_file} has no record of the data and parameters it was trained on "
                              f"({metrics_file} lacks it): {remedy}")
    if found and not is_intact(found):
        raise ProvenanceError(f"{metrics_file}, field 'provenance': edited since the training wrote it (its "
                              f"fingerprint no longer matches its fields): {remedy}")
    if found and not matches(found, expected):
        raise ProvenanceError(f"{model_file} was trained on {describe(found)}; the prepared data and "
                              f"parameters are {describe(expected)}: {remedy} (differing: "
                              f"{differences(found, expected) or 'recorded in an older format'})")
    model = load_model(model_file)
    if weights_sha256(model) != found["weights_sha256"]:
        raise ProvenanceError(f"{model_file} is not the model {metrics_file} describes (other weights): "
                              f"{remedy}")
    return model
