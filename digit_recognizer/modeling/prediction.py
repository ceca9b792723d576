"""Predictions of a trained model: a saved model loaded safely, class probabilities, and their scores
(the accuracy and error count every report uses)."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
from sklearn.metrics import confusion_matrix

from ..config import IMAGE_SIZE, NUM_CLASSES
from .model import ENSEMBLE_NAME


def score(labels, predicted) -> dict:
    """Images, accuracy and errors of `predicted` digits against the true `labels`."""
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    if len(predicted) != len(labels):
        raise ValueError(f"{len(predicted)} predictions for {len(labels)} known labels")
    return {"images": int(len(labels)), "accuracy": float((predicted == labels).mean()),
            "errors": int((predicted != labels).sum())}


def ensemble_members(model: keras.Model) -> list[keras.Model]:
    """The CNNs inside an ensemble from `model.ensemble`; a single CNN is its own only member."""
    if model.name != ENSEMBLE_NAME:
        return [model]
    return [layer for layer in model.layers if isinstance(layer, keras.Model)]


def forward_pass(model: keras.Model, images: np.ndarray, batch_size: int = 2000) -> np.ndarray:
    """`model(images)` in inference mode, batch by batch through one compiled graph. On TensorFlow a
    `tf.function`: on a CPU faster than `model.predict`, whose per-batch machinery costs more than these
    small CNNs do; on other backends `model.predict`, which Keras compiles for them."""
    if not len(images):
        return np.zeros((0, *model.output_shape[1:]), dtype=np.float32)
    if keras.config.backend() != "tensorflow":
        return model.predict(images, batch_size=batch_size, verbose=0)
    import tensorflow as tf

    forward = tf.function(lambda batch: model(batch, training=False), reduce_retracing=True)
    return np.concatenate([forward(images[start:start + batch_size]).numpy()
                           for start in range(0, len(images), batch_size)])


def predict_probabilities(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """Class probabilities; an ensemble's members predict one after the other and are averaged, which
    on a CPU is faster than running them side by side in one graph."""
    members = ensemble_members(model)
    return sum(forward_pass(m, images) for m in members) / len(members)


def evaluate(model: keras.Model, images: np.ndarray, labels: np.ndarray, confusion: bool = True) -> dict:
    """Images, accuracy, error count, loss and (optionally) the confusion matrix on labelled images."""
    probabilities = predict_probabilities(model, images)
    predicted = probabilities.argmax(axis=1)
    loss = keras.losses.sparse_categorical_crossentropy(labels, probabilities)
    metrics = {**score(labels, predicted), "loss": float(np.mean(loss))}
    if confusion:
        metrics["confusion_matrix"] = confusion_matrix(labels, predicted, labels=range(NUM_CLASSES)).tolist()
    return metrics


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
