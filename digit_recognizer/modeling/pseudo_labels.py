"""The test digits as Kaggle allows: their pixels, labelled by the model itself (pseudo-labels).

After the first round of training, the ensemble predicts the test digits; those it is sure of (its
averaged softmax gives one digit at least `confidence`) join the training digits with the digit it
predicted, and a second round trains on both (`training.train_ensemble`). No label comes from anywhere but
the model: in the benchmark the held-out digits play Kaggle's test set, their pixels used this way, their
labels never.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np


def sure_digits(probabilities: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """(indices, predicted digits) of the rows whose most likely digit has at least `confidence`."""
    indices = np.flatnonzero(probabilities.max(axis=1) >= confidence)
    return indices, probabilities[indices].argmax(axis=1).astype(np.int64)


def with_pseudo_labels(dataset, indices: np.ndarray, labels: np.ndarray):
    """`dataset` whose training digits also hold the test digits at `indices`, labelled `labels`."""
    return replace(dataset, x_train=np.concatenate([dataset.x_train, dataset.x_test[indices]]),
                   y_train=np.concatenate([dataset.y_train, labels.astype(dataset.y_train.dtype)]))
