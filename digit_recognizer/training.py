"""Seeding, the final fit, evaluation and the saved model with its metrics."""

from __future__ import annotations

import math
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from sklearn.metrics import confusion_matrix

from .config import IMAGE_SIZE, NUM_CLASSES, Profile
from .io import atomic_path, write_json
from .model import ENSEMBLE_NAME, build_model, ensemble, hyperparameters_from
from .tensorboard_logs import tensorboard_callback


def set_determinism(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and make TensorFlow ops deterministic."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def device_summary() -> str:
    gpus = tf.config.list_physical_devices("GPU")
    return f"{len(gpus)} GPU(s): {[g.name for g in gpus]}" if gpus else "CPU only (no GPU visible)"


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
    """Build the model from `hyperparameters` and fit it; returns (model, history DataFrame, seconds).

    With `backup_dir`, a run killed mid-way resumes from its last finished epoch when started again
    (Keras BackupAndRestore); the backup is deleted once training completes.
    """
    set_determinism(seed)
    model = build_model(hyperparameters_from(hyperparameters))
    callbacks = training_callbacks(model, profile) + list(extra_callbacks)
    if backup_dir:
        callbacks.insert(0, keras.callbacks.BackupAndRestore(str(backup_dir)))
    start = time.perf_counter()
    history = model.fit(dataset.x_train, dataset.y_train, batch_size=profile.batch_size,
                        epochs=profile.train_epochs, validation_data=(dataset.x_valid, dataset.y_valid),
                        callbacks=callbacks, verbose=verbose)
    seconds = time.perf_counter() - start
    frame = pd.DataFrame(history.history)
    frame.index = pd.Index([epoch + 1 for epoch in history.epoch], name="epoch")  # later if resumed
    return model, frame, seconds


def train_ensemble(hyperparameters: dict | None, dataset, profile: Profile, seed: int, verbose: int = 2,
                   backup_dir: str | Path | None = None, log_dir: str | Path | None = None):
    """`profile.ensemble_size` CNNs, seeds `seed`, `seed + 1`, ..., averaged into one model.

    With `log_dir`, each member writes TensorBoard logs to `log_dir/member-<n>`.
    Returns (model, per-member histories, per-member validation metrics, seconds).
    """
    members, histories, member_metrics, seconds = [], [], [], 0.0
    for member in range(profile.ensemble_size):
        if profile.ensemble_size > 1:
            print(f"--- member {member + 1} of {profile.ensemble_size} (seed {seed + member})", flush=True)
        member_backup = Path(backup_dir) / f"member-{member}" if backup_dir else None
        logs = [tensorboard_callback(Path(log_dir) / f"member-{member}")] if log_dir else []
        model, history, member_seconds = train_model(hyperparameters, dataset, profile, seed + member,
                                                     verbose=verbose, backup_dir=member_backup,
                                                     extra_callbacks=logs)
        members.append(model)
        histories.append(history)
        member_metrics.append(evaluate(model, dataset.x_valid, dataset.y_valid, confusion=False))
        seconds += member_seconds
    return ensemble(members), histories, member_metrics, seconds


def model_hyperparameters(values: dict | None) -> dict:
    """Every hyperparameter the model is built with: `values` plus the defaults it leaves out."""
    return dict(hyperparameters_from(values).values)


def ensemble_members(model: keras.Model) -> list[keras.Model]:
    """The CNNs inside an ensemble from `model.ensemble`; a single CNN is its own only member."""
    if model.name != ENSEMBLE_NAME:
        return [model]
    return [layer for layer in model.layers if isinstance(layer, keras.Model)]


def forward_pass(model: keras.Model, images: np.ndarray, batch_size: int = 2000) -> np.ndarray:
    """`model(images)` in inference mode, batch by batch through one compiled graph: on 2 CPU cores
    about a third faster than `model.predict`, whose per-batch machinery costs more than these small
    CNNs do."""
    if not len(images):
        return np.zeros((0, *model.output_shape[1:]), dtype=np.float32)
    forward = tf.function(lambda batch: model(batch, training=False), reduce_retracing=True)
    return np.concatenate([forward(images[start:start + batch_size]).numpy()
                           for start in range(0, len(images), batch_size)])


def predict_probabilities(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """Class probabilities; an ensemble's members predict one after the other and are averaged, which
    on a CPU is faster than running them side by side in one graph."""
    members = ensemble_members(model)
    return sum(forward_pass(m, images) for m in members) / len(members)


def evaluate(model: keras.Model, images: np.ndarray, labels: np.ndarray, confusion: bool = True) -> dict:
    """Accuracy, loss, error count and (optionally) the confusion matrix on labelled images."""
    probabilities = predict_probabilities(model, images)
    predicted = probabilities.argmax(axis=1)
    loss = keras.losses.sparse_categorical_crossentropy(labels, probabilities)
    metrics = {
        "images": int(len(labels)),
        "accuracy": float((predicted == labels).mean()),
        "errors": int((predicted != labels).sum()),
        "loss": float(np.mean(loss)),
    }
    if confusion:
        metrics["confusion_matrix"] = confusion_matrix(labels, predicted, labels=range(NUM_CLASSES)).tolist()
    return metrics


def save_model(model: keras.Model, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        model.save(tmp)


class ModelFileError(ValueError):
    """A model file that is corrupt, unsafe, or not a digit classifier."""


def load_model(path: str | Path) -> keras.Model:
    """Load a saved model with Keras safe mode on, and check it maps 28x28x1 images to 10 classes."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: train a model first (notebook 04, `make train`)")
    try:
        model = keras.models.load_model(path, safe_mode=True)
    except Exception as error:
        raise ModelFileError(f"{path}: not a Keras model file that loads safely "
                             f"({type(error).__name__}: {str(error).splitlines()[0][:200]})") from None
    expected_in, expected_out = (None, IMAGE_SIZE, IMAGE_SIZE, 1), (None, NUM_CLASSES)
    if tuple(model.input_shape) != expected_in or tuple(model.output_shape) != expected_out:
        raise ModelFileError(f"{path}: a model for inputs {model.input_shape} and outputs "
                             f"{model.output_shape}, expected {expected_in} -> {expected_out}")
    return model


def save_training_outputs(model, histories: list[pd.DataFrame], metrics: dict, paths) -> None:
    """Model, per-epoch history of every member and metrics, each written atomically."""
    save_model(model, paths.model_file)
    with atomic_path(paths.history_file) as tmp:
        pd.concat(histories, keys=range(len(histories)), names=["member"]).to_csv(tmp)
    write_json(metrics, paths.metrics_file)
