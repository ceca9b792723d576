"""The backend's switches: the backend checked before Keras loads, determinism on by default and off on
request, mixed precision only on a GPU, and an op without a deterministic kernel explained in one line."""

import dataclasses
import os
import subprocess
import sys
import textwrap

import keras
import pytest
import tensorflow as tf

from digit_recognizer import profiles
from digit_recognizer.modeling import training, tuning
from digit_recognizer.plumbing import runtime
from tests.helpers import prepared_sample

SCRIPT = textwrap.dedent("""
    import sys
    import keras, tensorflow as tf
    from digit_recognizer.plumbing import runtime
    from digit_recognizer.modeling import training
    from tensorflow.python.framework import config as tf_config
    deterministic = sys.argv[1] == "1"
    print(runtime.configure(deterministic=deterministic))
    training.set_determinism(7)
    print("OP_DETERMINISM", tf_config.is_op_determinism_enabled())
    print("POLICY", keras.mixed_precision.global_policy().name)
""")


def python(code: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=os.environ | env)


@pytest.mark.parametrize("deterministic, said, enabled", [("1", "determinism on (byte-identical", True),
                                                          ("0", "determinism off", False)])
def test_op_determinism_follows_the_switch(deterministic, said, enabled):
    done = python(SCRIPT, deterministic, KERAS_BACKEND="tensorflow")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Keras backend tensorflow" in done.stdout and said in done.stdout
    assert f"OP_DETERMINISM {enabled}" in done.stdout and "POLICY float32" in done.stdout


def test_on_jax_determinism_sets_xla_flags_before_jax_starts_and_says_what_it_promises():
    done = python("import os; from digit_recognizer.plumbing import runtime; print(runtime.configure()); "
                  "import jax; jax.numpy.ones(1); print('XLA_FLAGS', os.environ['XLA_FLAGS'])",
                  KERAS_BACKEND="jax", XLA_FLAGS="")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Keras backend jax; CPU only" in done.stdout and "JAX promises no byte-identical" in done.stdout
    assert f"XLA_FLAGS {runtime.JAX_DETERMINISM_FLAG}" in done.stdout


@pytest.mark.parametrize("backend, message", [
    ("torch", "error: the Keras backend is torch (KERAS_BACKEND, else ~/.keras/keras.json, else tensorflow), "
              "and torch is not installed: pip install 'digit-recognizer[torch]'"),
    ("theano", "error: KERAS_BACKEND=theano: this project trains on tensorflow, jax, torch"),
])
def test_a_backend_not_installed_or_unknown_stops_the_runner_in_one_line(backend, message, tmp_path):
    if backend in runtime.installed_backends():
        pytest.skip(f"{backend} is installed here")
    done = subprocess.run([sys.executable, "-m", "digit_recognizer.runner", "--profile", "smoke",
                           "--output-dir", str(tmp_path)], capture_output=True, text=True,
                          env=os.environ | {"KERAS_BACKEND": backend})
    assert done.returncode == 1 and done.stderr.startswith(message), done.stderr[-2000:]
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "reports").exists()


def test_a_notebook_with_an_unknown_backend_stops_at_runs_start():
    done = python("from digit_recognizer import runs; runs.start(profile='smoke')", KERAS_BACKEND="theano")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith(
        "digit_recognizer.plumbing.runtime.BackendUnavailable: KERAS_BACKEND=theano")


def test_mixed_precision_without_a_gpu_is_refused_with_the_setting_named():
    if runtime.gpus():
        pytest.skip("a GPU is visible")
    with pytest.raises(ValueError, match="mixed_precision needs a GPU"):
        runtime.configure(mixed_precision=True)


# What TensorFlow raises on a GPU, with op determinism on, for an op without a deterministic kernel (its
# message as in tensorflow/tensorflow#47174); `fit` is where it surfaces.
NO_DETERMINISTIC_KERNEL = tf.errors.UnimplementedError(
    None, None, "A deterministic GPU implementation of DepthwiseConvBackpropFilter is not currently "
                "available.\n\t [[node gradient_tape/model/depthwise/DepthwiseConv2dNativeBackpropFilter]]")
PROFILE = dataclasses.replace(profiles.get_profile("smoke"), train_epochs=1, ensemble_size=1,
                              tuner="random", max_epochs=1, max_trials=2)


@pytest.fixture()
def fit_without_a_deterministic_kernel(monkeypatch):
    def fit(*args, **kwargs):
        raise NO_DETERMINISTIC_KERNEL
    monkeypatch.setattr(keras.Model, "fit", fit)


def test_training_without_a_deterministic_kernel_stops_with_the_remedy(fit_without_a_deterministic_kernel,
                                                                       tmp_path):
    _, dataset = prepared_sample(tmp_path, max_train_images=50)
    with pytest.raises(runtime.DeterminismUnavailable) as stopped:
        training.train_model(None, dataset, PROFILE, seed=7, verbose=0)
    message = str(stopped.value)
    assert "DepthwiseConvBackpropFilter is not currently available" in message
    assert "set DETERMINISTIC=0 (--no-deterministic" in message and "\n" not in message
    assert stopped.value.__cause__ is None and stopped.value.__suppress_context__


def test_a_search_without_a_deterministic_kernel_stops_at_once(fit_without_a_deterministic_kernel, tmp_path):
    paths, dataset = prepared_sample(tmp_path, max_train_images=200)
    tuner = tuning.make_tuner(PROFILE, paths.tuning_dir, 7, dataset.source)
    with pytest.raises(tuning.SearchStopped, match="set DETERMINISTIC=0"):  # not retried, trial after trial
        tuning.search(tuner, dataset, PROFILE, verbose=0)
    assert len(tuner.oracle.trials) == 1


def test_other_errors_pass_unchanged():
    other = tf.errors.UnimplementedError(None, None, "Conv2D on this dtype is not implemented")
    with pytest.raises(tf.errors.UnimplementedError), runtime.explained_determinism_errors():
        raise other
    with pytest.raises(RuntimeError, match="out of memory"), runtime.explained_determinism_errors():
        raise RuntimeError("CUDA out of memory")
