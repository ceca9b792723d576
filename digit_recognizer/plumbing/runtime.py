"""Process-wide switches, set once before anything is seeded or built (`runs.start` does it first in every
notebook, the runner before it starts any): the Keras backend, determinism and mixed precision.

The backend is Keras' own choice (`KERAS_BACKEND`, else `~/.keras/keras.json`, else TensorFlow), checked
here before Keras is imported, so a backend that is not installed gets one line, not an import traceback.
Determinism (on by default) makes a re-run repeat on the same machine; on a GPU it costs speed, since some
kernels then run a slower deterministic variant. Mixed precision (off by default) computes in float16 on a
GPU, keeping the softmax in float32; on a CPU it is slower, so it is refused there.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

BACKENDS = ("tensorflow", "jax", "torch")  # the Keras backends that train; each is an extra of its name
JAX_DETERMINISM_FLAG = "--xla_gpu_deterministic_ops=true"
CUBLAS_WORKSPACE = ":4096:8"  # what PyTorch's deterministic cuBLAS needs, set before CUDA starts
# What a backend promises when determinism is on, said at run time (docs/reproducibility.md).
PROMISES = {
    "tensorflow": "byte-identical re-runs on one machine; an op without a deterministic kernel stops the run",
    "jax": "deterministic XLA GPU ops; JAX promises no byte-identical re-runs",
    "torch": "deterministic PyTorch algorithms; PyTorch promises no byte-identical re-runs",
}

_determinism = True


class BackendUnavailable(RuntimeError):
    """A Keras backend that is unknown or not installed, or a switch it cannot apply."""


class DeterminismUnavailable(RuntimeError):
    """An op with no deterministic kernel, met with determinism on."""


def backend_name() -> str:
    """The backend Keras runs on (or will, read as Keras reads it, without importing it)."""
    if "keras" in sys.modules:
        return sys.modules["keras"].config.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~") if os.access(os.path.expanduser("~"), os.W_OK) else "/tmp", ".keras")
    try:
        return json.loads((Path(home) / "keras.json").read_text()).get("backend", "tensorflow")
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def check_backend() -> str:
    """The backend's name, refused (one line, with the remedy) when unknown or not installed."""
    name = backend_name()
    if name not in BACKENDS:
        raise BackendUnavailable(f"KERAS_BACKEND={name}: this project trains on {', '.join(BACKENDS)}; "
                                 "set KERAS_BACKEND to one of them")
    if importlib.util.find_spec(name) is None:
        raise BackendUnavailable(
            f"the Keras backend is {name} (KERAS_BACKEND, else ~/.keras/keras.json, else tensorflow), "
            f"and {name} is not installed: pip install 'digit-recognizer[{name}]', or set KERAS_BACKEND to "
            f"an installed one ({', '.join(installed_backends()) or 'none is'})")
    return name


def installed_backends() -> list[str]:
    return [name for name in BACKENDS if importlib.util.find_spec(name) is not None]


def prepare_environment(deterministic: bool) -> None:
    """What a backend reads from the environment when it starts: JAX's XLA flags, PyTorch's cuBLAS
    workspace. The runner sets them for the notebooks' kernels; `configure` for its own process."""
    if not deterministic:
        return
    name = backend_name()
    if name == "jax" and JAX_DETERMINISM_FLAG not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {JAX_DETERMINISM_FLAG}".strip()
    elif name == "torch":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)


def gpus() -> list[str]:
    """The GPUs the backend sees, by name."""
    name = backend_name()
    if name == "tensorflow":
        import tensorflow as tf

        return [gpu.name for gpu in tf.config.list_physical_devices("GPU")]
    if name == "jax":
        import jax

        return [str(device) for device in jax.devices() if device.platform == "gpu"]
    import torch

    return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]


def device_summary() -> str:
    found = gpus()
    return f"{len(found)} GPU(s): {found}" if found else "CPU only (no GPU visible)"


def jax_started_without_the_flag() -> bool:
    """JAX read its XLA flags when it started; one started before `prepare_environment` ignores them."""
    if "jax" not in sys.modules:
        return False
    from jax._src import xla_bridge

    flags = os.environ.get("XLA_FLAGS", "")
    return xla_bridge.backends_are_initialized() and JAX_DETERMINISM_FLAG not in flags


def configure(deterministic: bool = True, mixed_precision: bool = False) -> str:
    """Check the backend, apply both switches; returns one line saying what runs where and how."""
    global _determinism
    name = check_backend()
    started_too_early = deterministic and name == "jax" and jax_started_without_the_flag()
    prepare_environment(deterministic)
    import keras

    _determinism = deterministic
    if deterministic:
        _deterministic_ops()
    found = gpus()
    if started_too_early and found:
        raise BackendUnavailable(f"determinism on JAX's GPU needs XLA_FLAGS={JAX_DETERMINISM_FLAG} before "
                                 "JAX starts, and it started earlier in this process: restart the kernel "
                                 "and call runs.start first (the runner does), or set deterministic to False")
    policy = "float32"
    if mixed_precision:
        if not found:
            raise ValueError("mixed_precision needs a GPU and none is visible: set it to False "
                             "(float16 on a CPU is slower, not faster)")
        policy = "mixed_float16"
    keras.mixed_precision.set_global_policy(policy)
    promise = PROMISES[name] if deterministic else "off"
    return (f"Keras backend {name}; {device_summary()}; determinism {'on' if deterministic else 'off'}"
            f"{f' ({promise})' if deterministic else ''}; "
            f"{'mixed precision (float16 compute)' if mixed_precision else 'float32'}")


def op_determinism() -> bool:
    """Whether seeding also makes the backend's ops deterministic (see `configure`)."""
    return _determinism


def _deterministic_ops() -> None:
    name = backend_name()
    if name == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    elif name == "torch":
        import torch

        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
    # jax: XLA_FLAGS, read when JAX starts (prepare_environment)


def set_determinism(seed: int) -> None:
    """Seed Python, NumPy and the backend and, unless `configure` turned it off, make the backend's ops
    deterministic."""
    import keras

    keras.utils.set_random_seed(seed)
    if _determinism:
        _deterministic_ops()


def missing_deterministic_kernel(error: BaseException) -> str:
    """The backend's own message where `error` is an op refused for lacking a deterministic kernel: on
    TensorFlow an UnimplementedError ("A deterministic GPU implementation of X is not currently
    available"), on PyTorch a RuntimeError ("X does not have a deterministic implementation"); else ""."""
    text = str(error).strip()
    tensorflow = sys.modules.get("tensorflow")
    if tensorflow is not None and isinstance(error, tensorflow.errors.UnimplementedError):
        message = getattr(error, "message", text) or text
        return message.splitlines()[0].strip() if "eterministic" in message else ""
    if type(error) is RuntimeError and "does not have a deterministic implementation" in text:
        return text.splitlines()[0].strip()
    return ""


@contextmanager
def explained_determinism_errors():
    """An op without a deterministic kernel ends the block with one line and the remedy, not the backend's
    traceback."""
    try:
        yield
    except Exception as error:
        if not (found := missing_deterministic_kernel(error)):
            raise
        raise DeterminismUnavailable(
            f"determinism is on and {backend_name()} has no deterministic kernel for an op of this model on "
            f"this device ({found[:300]}): set DETERMINISTIC=0 (--no-deterministic, deterministic = False "
            "in the notebooks) to run it, no longer byte-identical") from None
