"""Process-wide TensorFlow switches, set once before anything is seeded or built (`runs.start` does it
first in every notebook): op determinism and mixed precision.

Op determinism (on by default) makes a re-run byte-identical on the same machine; on a GPU it costs speed,
since some kernels then run a slower deterministic variant. Mixed precision (off by default) computes in
float16 on a GPU, keeping the softmax in float32; on a CPU it is slower, so it is refused there.
"""

from __future__ import annotations

import keras
import tensorflow as tf

_op_determinism = True


def gpus() -> list:
    return tf.config.list_physical_devices("GPU")


def device_summary() -> str:
    found = gpus()
    return f"{len(found)} GPU(s): {[g.name for g in found]}" if found else "CPU only (no GPU visible)"


def configure(deterministic: bool = True, mixed_precision: bool = False) -> str:
    """Apply both switches; returns one line saying what runs where and how."""
    global _op_determinism
    _op_determinism = deterministic
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    policy = "float32"
    if mixed_precision:
        if not gpus():
            raise ValueError("mixed_precision needs a GPU and none is visible: set it to False "
                             "(float16 on a CPU is slower, not faster)")
        policy = "mixed_float16"
    keras.mixed_precision.set_global_policy(policy)
    return (f"{device_summary()}; op determinism {'on' if deterministic else 'off'}; "
            f"{'mixed precision (float16 compute)' if mixed_precision else 'float32'}")


def op_determinism() -> bool:
    """Whether seeding also makes TensorFlow's ops deterministic (see `configure`)."""
    return _op_determinism


def set_determinism(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and, unless `configure` turned it off, make TensorFlow's ops
    deterministic."""
    keras.utils.set_random_seed(seed)
    if _op_determinism:
        tf.config.experimental.enable_op_determinism()
