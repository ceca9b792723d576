"""Tuning: the search settings and what a search exports; each algorithm runs, a search resumes without
redoing trials, a re-tune keeps the old one, and the same search runs on a chief and two workers over
loopback."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import keras_tuner as kt
import pandas as pd
import pytest

from digit_recognizer import config, profiles
from digit_recognizer.modeling import confirmation, search_record, tuning
from digit_recognizer.modeling.augment import AUGMENTATION
from digit_recognizer.modeling.model import default_values, hyperparameters_from
from digit_recognizer.modeling.training import set_determinism
from digit_recognizer.modeling.tuning import archive_search, tunable_values
from digit_recognizer.plumbing.messages import SettingError
from digit_recognizer.settings import Settings
from tests.helpers import confirmed_on_made_up_errors, prepared_sample


def smoke_search(**settings):
    """The smoke profile with these search settings, as a run given them has it."""
    return Settings(profile="smoke", **settings).run_profile


def build_model_defaults():
    return hyperparameters_from({})


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A root folder holding the smoke profile's prepared dataset, as notebook 02 writes it."""
    return prepared_sample(tmp_path_factory.mktemp("prepared"), max_train_images=300)


def run_search(paths, dataset, profile):
    set_determinism(7)
    tuner = tuning.make_tuner(profile, paths.tuning_dir, 7, dataset.source)
    summary = tuning.search(tuner, dataset, profile, verbose=0)
    return tuner, summary


@pytest.mark.parametrize("algorithm", ["hyperband", "bayesian", "random"])
def test_each_algorithm_runs_and_exports(prepared, tmp_path, algorithm):
    _, dataset = prepared
    paths = config.output_paths(tmp_path)
    profile = smoke_search(tuner=algorithm, max_epochs=2, max_trials=2)
    tuner, summary = run_search(paths, dataset, profile)
    table, best = tuning.export_results(tuner, paths, summary, dataset.source,
                                        confirmed_on_made_up_errors(tuner))
    assert len(table) >= 2 and set(table["status"]) == {"COMPLETED"}
    project = tuning.project_name(profile, dataset.source)
    assert project.startswith(f"smoke-{algorithm}-")
    assert (paths.tuning_dir / project / "oracle.json").is_file()
    saved = pd.read_csv(paths.trials_file)
    for column in ["trial_id", "worker", "val_accuracy", "val_loss", "epochs", "seconds", "status",
                   "conv_style", "learning_rate", "optimizer", "rotation_degrees"]:
        assert column in saved.columns, column
    for name, value in AUGMENTATION.items():  # held at its default: short trials cannot judge it
        assert set(saved[name]) == {value}, name
    assert json.loads(paths.best_hyperparameters_file.read_text()) == best
    first = tuner.oracle.get_trial(min(tuner.oracle.trials, key=int)).hyperparameters
    assert tuning.tunable_values(first) == tuning.tunable_values(build_model_defaults())  # defaults first
    search = json.loads((paths.tuning_dir / "search.json").read_text())
    assert search["tuner"] == algorithm and search["peak_memory_mb"] > 100
    assert search["best_hyperparameters"] == best and search["made_from"]["seed"] == 7
    assert search["best_trial"]["trial_id"] == table.iloc[0]["trial_id"]


def test_the_search_scores_its_trials_on_training_digits_of_its_own(prepared):
    _, dataset = prepared
    x, y, x_valid, y_valid = tuning.search_split(dataset, profiles.get_profile("smoke"), 7)
    assert len(x) + len(x_valid) == len(dataset.x_train) and len(x_valid) == 30  # a tenth of 300
    pixels = {image.tobytes() for image in dataset.x_train}
    assert all(image.tobytes() in pixels for image in x_valid)  # none of the final validation digits
    assert set(y_valid) == set(range(10))  # stratified
    again = tuning.search_split(dataset, profiles.get_profile("smoke"), 7)
    assert (again[2] == x_valid).all()  # seeded


def test_search_on_record_is_used_only_for_the_data_it_was_made_on(prepared, tmp_path):
    _, dataset = prepared
    paths = config.output_paths(tmp_path)
    values, why = search_record.search_on_record(paths, dataset.source)
    assert values is None and why.startswith("the search space's defaults: no search on record")
    tuner, summary = run_search(paths, dataset, smoke_search(tuner="random", max_trials=1))
    _, best = tuning.export_results(tuner, paths, summary, dataset.source,
                                    confirmation.confirm(tuner, dataset, smoke_search(), 7))
    values, why = search_record.search_on_record(paths, dataset.source)
    assert values == best == default_values()
    assert why == (f"the search in models/tuning/{summary['project']} (random, 1 trials), confirmed at 3 "
                   "epochs: the search found no configuration other than the defaults")
    other = dataset.source | {"seed": 8}
    values, why = search_record.search_on_record(paths, other)
    assert values is None
    assert "made on another prepared data set (its data set differs: seed 7, now 8)" in why
    other = 16 if best["filters_0"] != 16 else 24  # another value the search space allows
    paths.best_hyperparameters_file.write_text(json.dumps(best | {"filters_0": other}))
    with pytest.raises(ValueError, match="best_hyperparameters.json is not the choice .*search.json records"):
        search_record.search_on_record(paths, dataset.source)


# search settings, the message the settings check refuses them with
BAD_SEARCH_SETTINGS = {
    "unknown tuner": (dict(tuner="grid"), "unknown tuner 'grid'"),
    "negative max_epochs": (dict(max_epochs=-1), "^max_epochs: -1 is not a whole number >= 1"),
    "zero max_trials": (dict(max_trials=0), "^max_trials: 0 is not a whole number >= 1 [(]None: the profile"),
}


@pytest.mark.parametrize("settings, message", BAD_SEARCH_SETTINGS.values(), ids=BAD_SEARCH_SETTINGS.keys())
def test_search_settings_go_through_the_settings_check(settings, message):
    with pytest.raises(SettingError, match=message):
        smoke_search(**settings)


def test_tuner_bookkeeping_and_unused_knobs_are_not_exported():
    hp = kt.HyperParameters()
    hp.values.update({"conv_style": "two_3x3", "filters_0": 24, "dense_dropout": 0.30000000000000004,
                      "filters_2": 16, "dropout_2": 0.1, "tuner/epochs": 3})
    exported = tunable_values(hp)
    assert exported["filters_0"] == 24 and exported["dense_dropout"] == 0.3
    assert not {"filters_2", "dropout_2", "tuner/epochs"} & set(exported)
    assert hyperparameters_from(exported).values["conv_style"] == "two_3x3"  # notebook 04 can build it


def test_time_budget_stops_new_trials(prepared, tmp_path):
    _, dataset = prepared
    profile = smoke_search(tuner="random", max_trials=50, budget_minutes=0.001)
    tuner, summary = run_search(config.output_paths(tmp_path), dataset, profile)
    assert len(tuner.oracle.trials) <= 1 and summary["trials"] <= 1


def test_a_search_run_again_spends_only_what_is_left_of_its_budget(prepared, tmp_path, capsys):
    _, dataset = prepared
    paths = config.output_paths(tmp_path)
    tuner, _ = run_search(paths, dataset, smoke_search(tuner="random", max_trials=1))
    first = {t.trial_id for t in tuner.oracle.trials.values()}
    assert len(first) == 1 and tuning.seconds_spent(tuner.oracle) > 0
    assert "the search's budget of" not in capsys.readouterr().out  # a budget not yet spent
    spent = tuning.seconds_spent(tuner.oracle) / 60
    again, _ = run_search(paths, dataset,
                          smoke_search(tuner="random", max_trials=3, budget_minutes=spent / 2))
    assert {t.trial_id for t in again.oracle.trials.values()} == first  # spent: nothing new starts
    assert "the search's budget of" in capsys.readouterr().out
    more, _ = run_search(paths, dataset, smoke_search(tuner="random", max_trials=2, budget_minutes=60))
    assert len(more.oracle.trials) == 2 and first < {t.trial_id for t in more.oracle.trials.values()}
    assert "the search's budget of" not in capsys.readouterr().out


INTERRUPTIBLE_SEARCH = textwrap.dedent("""
    import os, sys
    from digit_recognizer import config, features
    from digit_recognizer.modeling import confirmation, tuning
    from digit_recognizer.settings import Settings
    from digit_recognizer.modeling.training import set_determinism
    root, kill_at = sys.argv[1], sys.argv[2]
    paths = config.output_paths(root)
    profile = Settings(profile="smoke", tuner="random", max_epochs=1, max_trials=4).run_profile
    set_determinism(7)
    dataset = features.load_dataset(paths.dataset_file)
    tuner = tuning.make_tuner(profile, paths.tuning_dir, 7, dataset.source)
    original = type(tuner).run_trial
    def run_trial(self, trial, *args, **kwargs):
        if trial.trial_id == kill_at:
            os.kill(os.getpid(), 9)
        return original(self, trial, *args, **kwargs)
    type(tuner).run_trial = run_trial
    summary = tuning.search(tuner, dataset, profile, verbose=0)
    confirmed = confirmation.confirm(tuner, dataset, profile, 7, verbose=0)
    tuning.export_results(tuner, paths, summary, dataset.source, confirmed)
""")


def trial_files(project_dir):
    return {p.parent.name: p.stat().st_mtime_ns for p in project_dir.glob("trial_*/trial.json")}


@pytest.mark.e2e
def test_interrupted_search_resumes_without_redoing_trials(prepared, tmp_path):
    paths, _ = prepared
    root = tmp_path / "root"
    (root / "data").mkdir(parents=True)
    os.symlink(paths.processed_dir, root / "data" / "processed")
    script = tmp_path / "search.py"
    script.write_text(INTERRUPTIBLE_SEARCH)
    killed = subprocess.run([sys.executable, str(script), str(root), "2"], capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL
    (project,) = (root / "models" / "tuning").glob("smoke-random-*")
    finished = {name: mtime for name, mtime in trial_files(project).items()
                if json.loads((project / name / "trial.json").read_text())["status"] == "COMPLETED"}
    assert sorted(finished) == ["trial_0", "trial_1"]
    resumed = subprocess.run([sys.executable, str(script), str(root), "none"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    after = trial_files(project)
    assert {name: after[name] for name in finished} == finished  # not run again, not even rewritten
    table = pd.read_csv(root / "models" / "tuning" / "trials.csv", dtype={"trial_id": str})
    assert sorted(table["trial_id"]) == ["0", "1", "2", "3"] and set(table["status"]) == {"COMPLETED"}


def test_archive_keeps_an_earlier_search(tmp_path):
    assert archive_search(tmp_path, "full") is None
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "oracle.json").write_text("{}")
    (tmp_path / "trials.csv").write_text("trial_id\n")
    archived = archive_search(tmp_path, "full")
    assert archived.parent == tmp_path / "archive"
    assert (archived / "full" / "oracle.json").is_file() and (archived / "trials.csv").is_file()
    assert not (tmp_path / "full").exists()


def test_retune_archives_the_earlier_search(prepared, tmp_path):
    _, dataset = prepared
    paths = config.output_paths(tmp_path)
    profile = smoke_search(tuner="random", max_trials=1)
    tuner, summary = run_search(paths, dataset, profile)
    tuning.export_results(tuner, paths, summary, dataset.source, confirmed_on_made_up_errors(tuner))
    project = tuning.project_name(profile, dataset.source)
    archived = tuning.archive_search(paths.tuning_dir, project)
    assert (archived / project / "oracle.json").is_file()
    assert {p.name for p in archived.iterdir()} == {project, *tuning.EXPORTS}
    tuner, _ = run_search(paths, dataset, profile)  # a fresh search: trial 0 runs again
    assert list(tuner.oracle.trials) == ["0"]
    assert archived.parent == paths.tuning_dir / "archive"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.e2e
def test_chief_and_two_workers_on_loopback(prepared, tmp_path):
    paths, _ = prepared
    common = [sys.executable, "-m", "digit_recognizer.distributed", "--ip", "127.0.0.1",
              "--port", str(free_port()), "--profile", "smoke", "--seed", "7",
              "--output-dir", str(paths.root), "--tuner", "random", "--max-trials", "4", "--max-epochs", "1"]
    roles = [["--role", "chief"], ["--role", "worker", "--worker-id", "w1"],
             ["--role", "worker", "--worker-id", "w2"]]
    logs = [tmp_path / f"process{i}.log" for i in range(3)]
    processes = []
    for role, log in zip(roles, logs, strict=True):
        with open(log, "w") as out:
            processes.append(subprocess.Popen(common + role, stdout=out, stderr=subprocess.STDOUT))
        time.sleep(2)  # the chief listens before workers connect
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and any(p.poll() is None for p in processes):
            if any(p.poll() not in (None, 0) for p in processes):
                break  # one failed: the others would wait for it forever
            time.sleep(1)
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in processes] == [0, 0, 0], "\n".join(
        log.read_text()[-1500:] for log in logs)
    table = pd.read_csv(paths.trials_file)
    assert len(table) == 4 and set(table["status"]) == {"COMPLETED"}
    assert set(table["worker"]) == {"w1", "w2"}
