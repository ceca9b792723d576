"""TensorBoard logs of the final training and of the search, under models/logs/ (`make tensorboard`).

Keras' TensorBoard callback writes with TensorFlow's summary ops, so logs need TensorFlow installed (any
backend then); Keras Tuner adds the HParams view on the TensorFlow backend only.
"""

from __future__ import annotations

import importlib.util
from datetime import datetime
from pathlib import Path

import keras


def run_dir(base: Path, name: str) -> Path:
    """A folder of its own for one session, `<base>/<time>-<name>`, so TensorBoard shows runs side by side
    instead of mixing a rerun's curves into an earlier run's."""
    return Path(base) / f"{datetime.now():%Y%m%d-%H%M%S}-{name}"


def missing() -> str:
    """Why no TensorBoard logs can be written here; "" when they can."""
    if importlib.util.find_spec("tensorflow") is None:
        return ("no TensorBoard logs: Keras writes them with TensorFlow's summary ops, and TensorFlow is not "
                "installed (pip install 'digit-recognizer[tensorflow]' to have them, on any backend)")
    return ""


def describe(log_dir: str | Path, search: bool = False) -> str:
    """One line saying what goes where: the logs' folder, or why there are none (and no HParams view)."""
    if why := missing():
        return why
    if search and keras.config.backend() != "tensorflow":
        return (f"TensorBoard logs, one folder per trial: {log_dir} (no HParams view: Keras Tuner writes it "
                "on the TensorFlow backend only)")
    if search:
        return f"TensorBoard logs, one folder per trial with its hyperparameters (HParams view): {log_dir}"
    return f"TensorBoard logs in {log_dir} (`make tensorboard` shows them)"


def tensorboard_callbacks(log_dir: str | Path | None) -> list[keras.callbacks.Callback]:
    """Per-epoch losses, metrics and learning rate, and the model graph; none without `log_dir` or
    without TensorFlow (`missing`). No weight histograms and no profiler: nothing that reads the model
    mid-training or changes its timing, so runs stay reproducible."""
    if not log_dir or missing():
        return []
    return [keras.callbacks.TensorBoard(log_dir=str(log_dir), histogram_freq=0, write_graph=True,
                                        write_images=False, update_freq="epoch", profile_batch=0)]
