import os
import subprocess
import sys

import pytest
from filelock import FileLock

from tests.helpers import FAKE_KAGGLE


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """All five notebooks (the search too), smoke profile, on the sample, in a process of its own as
    `make run TUNE=1` starts it, with fake Kaggle credentials in its environment; all it prints goes to
    run.log beside its outputs. Made once for the whole test session: the test processes (pytest-xdist)
    share it, the first to need it runs it while the others wait. Tests read it, never change it (copy it
    to change it). A test that uses it is an end-to-end test: mark it `e2e`."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # pytest-N/, above popen-gwK/
    out, finished = shared / "smoke-run", shared / "smoke-run.returncode"
    with FileLock(shared / "smoke-run.lock"):
        if not finished.is_file():
            out.mkdir()
            command = [sys.executable, "-m", "digit_recognizer.runner", "--profile", "smoke", "--seed", "7",
                       "--tune", "--output-dir", str(out)]
            with open(out / "run.log", "w") as log:
                done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT,
                                      env=os.environ | FAKE_KAGGLE)
            finished.write_text(str(done.returncode))
    return int(finished.read_text()), out


@pytest.fixture(scope="session")
def jax_smoke_run(tmp_path_factory):
    """`make run PROFILE=smoke` (no search) on the JAX backend, on the CPU, in a process of its own; its
    output in run.log. JAX on a CPU trains this CNN several times slower than TensorFlow: one run only."""
    out = tmp_path_factory.mktemp("jax-run")
    command = [sys.executable, "-m", "digit_recognizer.runner", "--profile", "smoke", "--seed", "7",
               "--output-dir", str(out)]
    with open(out / "run.log", "w") as log:
        done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT,
                              env=os.environ | {"KERAS_BACKEND": "jax"})
    return done.returncode, out


def pytest_report_header():
    """The Keras backend the suite runs on (KERAS_BACKEND): tests/test_backends.py reads it."""
    import keras

    return f"keras backend: {keras.config.backend()}"


def pytest_collection_modifyitems(items):
    """A test on a whole run's outputs or on the built wheel carries `e2e`: `make test-quick` stays quick."""
    for item in items:
        slow = {"smoke_run", "jax_smoke_run", "wheel"} & set(item.fixturenames)
        if slow and not item.get_closest_marker("e2e"):
            raise pytest.UsageError(f"{item.nodeid} uses {', '.join(sorted(slow))}: mark it @pytest.mark.e2e")
