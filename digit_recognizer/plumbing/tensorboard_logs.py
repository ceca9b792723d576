"""TensorBoard logs of the final training and of the search, under models/logs/ (`make tensorboard`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import keras


def run_dir(base: Path, name: str) -> Path:
    """A folder of its own for one session, `<base>/<time>-<name>`, so TensorBoard shows runs side by side
    instead of mixing a rerun's curves into an earlier run's."""
    return Path(base) / f"{datetime.now():%Y%m%d-%H%M%S}-{name}"


def tensorboard_callback(log_dir: str | Path) -> keras.callbacks.TensorBoard:
    """Per-epoch losses, metrics and learning rate, and the model graph. No weight histograms and no
    profiler: nothing that reads the model mid-training or changes its timing, so runs stay reproducible."""
    return keras.callbacks.TensorBoard(log_dir=str(log_dir), histogram_freq=0, write_graph=True,
                                       write_images=False, update_freq="epoch", profile_batch=0)
