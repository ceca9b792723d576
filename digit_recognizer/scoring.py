"""Predicted digits against known labels: the accuracy and error count every report uses."""

from __future__ import annotations

import numpy as np


def score(labels, predicted) -> dict:
    """Images, accuracy and errors of `predicted` digits against the true `labels`."""
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    if len(predicted) != len(labels):
        raise ValueError(f"{len(predicted)} predictions for {len(labels)} known labels")
    return {"images": int(len(labels)), "accuracy": float((predicted == labels).mean()),
            "errors": int((predicted != labels).sum())}
