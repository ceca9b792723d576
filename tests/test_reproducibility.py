"""Same seed and profile on the same machine: the same submission, byte for byte, and the same scores."""

import json

import pandas as pd
import pytest

from digit_recognizer import runner

pytestmark = pytest.mark.e2e

TIMES = {"train_seconds", "trained_at", "started_at", "ended_at", "seconds"}


def without_times(value):
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if k not in TIMES}
    return value


@pytest.fixture(scope="module")
def second_run(smoke_run, tmp_path_factory):
    """The same command as `smoke_run`, run again in this process into a folder of its own."""
    out = tmp_path_factory.mktemp("again")
    assert runner.main(["--profile", "smoke", "--seed", "7", "--tune", "--output-dir", str(out)]) == 0
    return smoke_run[1], out


def test_submission_is_byte_identical(second_run):
    first, second = second_run
    assert (first / "submission.csv").read_bytes() == (second / "submission.csv").read_bytes()


def test_trial_scores_are_identical(second_run):
    first, second = (pd.read_csv(out / "models" / "tuning" / "trials.csv") for out in second_run)
    columns = [c for c in first.columns if c != "seconds"]
    pd.testing.assert_frame_equal(first[columns], second[columns])


def test_metrics_are_identical(second_run):
    first, second = (json.loads((out / "models" / "metrics.json").read_text()) for out in second_run)
    assert without_times(first) == without_times(second)
    history = [pd.read_csv(out / "models" / "history.csv") for out in second_run]
    pd.testing.assert_frame_equal(*history)


def test_manifest_records_the_run(second_run):
    first, second = (json.loads((out / "models" / "run.json").read_text()) for out in second_run)
    assert first["profile"] == "smoke" and first["seed"] == 7
    assert set(first["data"]["sha256"]) == {"train.csv.gz", "test.csv.gz", "test_labels.csv"}
    assert first["started_at"] <= first["ended_at"]
    for name in ["python", "tensorflow", "keras", "keras-tuner", "numpy", "pandas"]:
        assert first["versions"][name][0].isdigit(), name
    assert set(first["git"]) == {"commit", "dirty"}
    assert first["submission"]["sha256"] == second["submission"]["sha256"]
    for key in ["hyperparameters", "data", "test_score", "versions"]:
        assert first[key] == second[key], key
