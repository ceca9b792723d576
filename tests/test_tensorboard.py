"""TensorBoard logs: the final training and the search write event files, and logging changes no weight."""

import dataclasses
import importlib.util

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from digit_recognizer import config, features, profiles
from digit_recognizer.dataset import loading
from digit_recognizer.modeling import training, tuning
from digit_recognizer.plumbing import tensorboard_logs

PROFILE = dataclasses.replace(profiles.get_profile("smoke"), train_epochs=2, ensemble_size=1)


@pytest.fixture(scope="module")
def dataset():
    return features.prepare_dataset(loading.load_data(None), 0.1, 7, max_train_images=200)


def events(folder):
    """`<writer folder>/<tag>` -> values logged, for every event file under `folder`."""
    logged = {}
    for file in folder.rglob("events.out.tfevents.*"):
        accumulator = EventAccumulator(str(file)).Reload()
        for tag in accumulator.Tags()["tensors"]:
            logged.setdefault(f"{file.parent.name}/{tag}", []).extend(
                e.tensor_proto for e in accumulator.Tensors(tag))
    return logged


def test_final_training_writes_event_files_and_the_same_weights(dataset, tmp_path):
    logs = tensorboard_logs.run_dir(config.output_paths(tmp_path).train_logs_dir, "smoke-seed7")
    model, _, _, _ = training.train_ensemble(None, dataset, PROFILE, seed=7, verbose=0, log_dir=logs)
    logged = events(logs / "member-0")
    assert len(logged["train/epoch_loss"]) == 2 and len(logged["validation/epoch_accuracy"]) == 2
    assert len(logged["train/epoch_learning_rate"]) == 2  # the cosine decay, epoch by epoch
    assert logs.parent == tmp_path / "models" / "logs" / "train"
    plain, _, _, _ = training.train_ensemble(None, dataset, PROFILE, seed=7, verbose=0)
    for with_logs, without in zip(model.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_array_equal(with_logs, without)


def test_search_writes_each_trial_with_its_hyperparameters(dataset, tmp_path):
    paths = config.output_paths(tmp_path)
    profile = dataclasses.replace(PROFILE, tuner="random", max_epochs=1, max_trials=2)
    training.set_determinism(7)
    tuner = tuning.make_tuner(profile, paths.tuning_dir, 7, dataset.source)
    logs = tensorboard_logs.run_dir(paths.search_logs_dir, tuning.project_name(profile, dataset.source))
    tuning.search(tuner, dataset, profile, verbose=0, log_dir=logs)
    trials = sorted(p.name for p in logs.iterdir())
    assert trials == sorted(tuner.oracle.trials) and len(trials) == 2
    for trial in trials:
        tags = set(events(logs / trial))
        assert "execution0/_hparams_/session_start_info" in tags, tags  # what the HParams view reads
        assert "validation/epoch_accuracy" in tags, tags


def test_without_tensorflow_there_are_no_logs_and_one_line_says_why(monkeypatch, tmp_path):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "tensorflow" else find_spec(name, *args))
    assert tensorboard_logs.tensorboard_callbacks(tmp_path) == []
    assert tensorboard_logs.describe(tmp_path).startswith("no TensorBoard logs: Keras writes them with "
                                                          "TensorFlow's summary ops")


def test_with_tensorflow_the_logs_and_on_tensorflow_the_hparams_view_are_named(tmp_path):
    assert [type(c).__name__ for c in tensorboard_logs.tensorboard_callbacks(tmp_path)] == ["TensorBoard"]
    assert tensorboard_logs.tensorboard_callbacks(None) == []
    assert "(HParams view)" in tensorboard_logs.describe(tmp_path, search=True)
