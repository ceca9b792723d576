"""Every Keras backend the dev lock installs besides TensorFlow (JAX): the model's own tests run on it, on
the CPU, in a process of its own (a process has one backend)."""

import os
import subprocess
import sys

from digit_recognizer.config import PROJECT_DIR

# What depends on the backend: the model, augmentation, batch-norm statistics and prediction.
MODEL_TESTS = ["tests/test_model.py", "tests/test_augment.py", "tests/test_batch_norm.py",
               "tests/test_prediction.py"]


def test_the_model_tests_pass_on_jax():
    # not -q: the header, which names the backend (conftest.pytest_report_header), is then left out
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider",
                           *MODEL_TESTS], cwd=PROJECT_DIR, capture_output=True, text=True,
                          env=os.environ | {"KERAS_BACKEND": "jax"})
    assert "keras backend: jax" in done.stdout, done.stdout[-3000:]
    assert done.returncode == 0 and " passed" in done.stdout and "skipped" not in done.stdout, \
        (done.stdout + done.stderr)[-3000:]
