"""Run settings: each defined once (settings.Settings) with its default, the same for the Makefile, the
runner, distributed tuning and the notebooks' parameters cells; bad settings refused before any work, by
one check, with a message naming the setting."""

import argparse
import dataclasses
import json
import math
import subprocess
import sys

import nbformat
import numpy as np
import papermill as pm
import pytest

from digit_recognizer import config, distributed, profiles, runner, runs, settings
from digit_recognizer.plumbing.messages import SettingError
from digit_recognizer.profiles import PROFILES
from digit_recognizer.settings import Settings
from tests.helpers import train_rows, write_csv

# keyword arguments of Settings, the setting the message names, a fragment of the message
BAD_SETTINGS = {
    "unknown profile": (dict(profile="quick"), "profile", "unknown profile 'quick'; choose one of"),
    "negative seed": (dict(seed=-1), "seed", "-1 is negative; expected a whole number from 0 to 2147483647"),
    "fractional seed": (dict(seed=1.5), "seed", "1.5 is not a whole number"),
    "seed given as text": (dict(seed="42"), "seed", "'42' is not a whole number"),
    "seed given as a boolean": (dict(seed=True), "seed", "True is not a whole number"),
    "seed too large for NumPy": (dict(seed=2**32), "seed", "4294967296 is too large"),
    "unknown tuner": (dict(tuner="grid"), "tuner", "unknown tuner 'grid'; choose one of ['bay"),
    "negative max_epochs": (dict(max_epochs=-3), "max_epochs", "-3 is not a whole number >= 1"),
    "fractional max_trials": (dict(max_trials=2.5), "max_trials", "2.5 is not a whole number >= 1"),
    "negative budget_minutes": (dict(budget_minutes=-1), "budget_minutes", "-1 is not a number of minutes"),
    "NaN budget_minutes": (dict(budget_minutes=math.nan), "budget_minutes", "nan is not a number of minutes"),
    "switch given as text": (dict(deterministic="yes"), "deterministic", "'yes' is not True or False"),
    "switch given as a number": (dict(mixed_precision=1), "mixed_precision", "1 is not True or False"),
    "folder given as a number": (dict(data_dir=3), "data_dir", "3 is not a folder name"),
    "the profile that searched, now gone": (dict(profile="tuned"), "profile", "unknown profile 'tuned'"),
}


@pytest.mark.parametrize(("settings", "setting", "fragment"), BAD_SETTINGS.values(), ids=BAD_SETTINGS.keys())
def test_settings_name_the_bad_setting(settings, setting, fragment):
    with pytest.raises(SettingError) as caught:
        Settings(**{"profile": "smoke"} | settings)
    assert caught.value.setting == setting
    assert str(caught.value).startswith(f"{setting}: ") and fragment in str(caught.value), str(caught.value)


def test_profiles_smoke_fast_and_full():
    assert set(PROFILES) == {"smoke", "fast", "full"} and profiles.DEFAULT_PROFILE == "full"
    assert PROFILES["smoke"].max_train_images and PROFILES["full"].max_train_images is None
    assert PROFILES["full"].ensemble_size > 1 and PROFILES["fast"].ensemble_size == 1
    # the final training keeps 2% as a check (full) or a tenth (fast); a search always scores its trials on
    # a tenth of the training digits, digits of its own
    assert (PROFILES["full"].validation_fraction, PROFILES["fast"].validation_fraction) == (0.02, 0.1)
    assert {p.search_validation_fraction for p in PROFILES.values()} == {0.1}
    assert dataclasses.replace(PROFILES["fast"], name="full", validation_fraction=0.02, ensemble_size=3,
                               train_epochs=45, pseudo_label_epochs=8) == PROFILES["full"]
    assert PROFILES["smoke"].pseudo_label_epochs == 0  # the second round: measured at Kaggle's size only


def test_good_settings_give_the_profile_with_the_search_settings_given():
    chosen = Settings("smoke", np.int64(0), tuner="bayesian", max_epochs=3, max_trials=4, budget_minutes=0.5)
    assert chosen.run_profile == dataclasses.replace(PROFILES["smoke"], tuner="bayesian", max_epochs=3,
                                                     max_trials=4, budget_minutes=0.5)
    assert Settings("full", config.MAX_SEED).run_profile == PROFILES["full"]  # None: the profile's own


def test_every_tuner_name_has_a_tuner():
    from digit_recognizer.modeling import tuning

    assert set(tuning.TUNERS) == set(config.TUNER_NAMES)


# runner options, the message the runner exits with (argparse's where argparse already checks)
BAD_OPTIONS = {
    "negative seed": (["--seed", "-1"], "argument --seed: -1 is negative"),
    "fractional seed": (["--seed", "1.5"], "argument --seed: invalid int value: '1.5'"),
    "unknown profile": (["--profile", "quick"], "argument --profile: unknown profile 'quick'; choose one of"),
    "unknown tuner": (["--tuner", "grid"], "argument --tuner: unknown tuner 'grid'"),
    "negative max-epochs": (["--max-epochs", "-2"], "argument --max-epochs: -2 is not a whole number >= 1"),
    "negative max-trials": (["--max-trials", "-2"], "argument --max-trials: -2 is not a whole number >= 1"),
    "negative budget": (["--budget-minutes", "-0.5"], "argument --budget-minutes: -0.5 is not a number"),
}


@pytest.mark.parametrize(("options", "message"), BAD_OPTIONS.values(), ids=BAD_OPTIONS.keys())
def test_runner_refuses_bad_options_before_any_notebook(tmp_path, capsys, options, message):
    with pytest.raises(SystemExit) as caught:
        runner.main([*options, "--output-dir", str(tmp_path)])
    assert caught.value.code == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # no reports folder, no notebook run


def test_distributed_tuning_refuses_an_unknown_tuner(tmp_path, capsys):
    with pytest.raises(SystemExit):
        distributed.main(["--role", "chief", "--tuner", "grid", "--output-dir", str(tmp_path)])
    assert "argument --tuner: unknown tuner 'grid'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def run_notebook_01(tmp_path, **parameters):
    """Notebook 01 as the runner starts it; returns the error it stopped with."""
    with pytest.raises(pm.PapermillExecutionError) as caught:
        runner.run(runner.select(["01"], runner.notebooks()),
                   {"profile": "smoke", "seed": 7, "output_dir": str(tmp_path)} | parameters,
                   tmp_path / "reports")
    return caught.value


@pytest.mark.e2e
def test_notebook_01_checks_the_settings_in_its_set_up_cell(tmp_path):
    error = run_notebook_01(tmp_path, seed=-1)  # as someone editing the parameters cell by hand would
    assert error.ename == "SettingError" and error.evalue.startswith("seed: -1 is negative")
    assert "runs.start(" in error.source and "load_data" not in error.source


@pytest.mark.e2e
def test_notebook_01_refuses_a_train_file_notebook_02_could_not_split(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    rows = [*(r for r in train_rows(30) if r[0] != 7), train_rows(30)[7]]  # digit 7 only once, last
    header = ["label", *[f"pixel{i}" for i in range(784)]]
    write_csv(folder / "train.csv", header, rows)
    write_csv(folder / "test.csv", header[1:], [r[1:] for r in rows[:2]])
    error = run_notebook_01(tmp_path, data_dir=str(folder))
    assert error.ename == "DataError" and "features.check_splittable(" in error.source
    assert error.evalue.startswith(f"{folder / 'train.csv'}, column 'label': digit 7 has 1 image (line 29)")


def test_a_notebook_sets_up_its_run_in_one_call(tmp_path, capsys):
    context = runs.start(output_dir=str(tmp_path), tuner="bayesian", max_epochs=2)
    assert context.settings == Settings(output_dir=str(tmp_path), tuner="bayesian", max_epochs=2)
    assert context.profile == dataclasses.replace(PROFILES["full"], tuner="bayesian", max_epochs=2)
    assert context.seed == 42 and context.paths == config.output_paths(tmp_path)
    assert context.source == {"profile": "full", "seed": 42, "data_dir": ""}
    assert capsys.readouterr().out.splitlines() == [
        "Keras backend tensorflow; CPU only (no GPU visible); determinism on (byte-identical re-runs on "
        "one machine; an op without a deterministic kernel stops the run); float32",
        f"profile full, seed 42, outputs under {tmp_path.resolve()}"]
    with pytest.raises(SettingError, match="^max_trials: -1 is not a whole number"):
        runs.start(profile="smoke", seed=0, output_dir=str(tmp_path), max_trials=-1)


def test_tests_give_every_notebook_settings_through_one_environment_variable(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(runs.TEST_SETTINGS_ENV, json.dumps({"profile": "smoke", "output_dir": str(tmp_path)}))
    context = runs.start(profile="full", seed=7)
    assert (context.settings.profile, context.seed, context.paths.root) == ("smoke", 7, tmp_path.resolve())
    assert f"settings from ${runs.TEST_SETTINGS_ENV}: " in capsys.readouterr().out
    for bad in ("{", '{"profil": "smoke"}', "[]"):
        monkeypatch.setenv(runs.TEST_SETTINGS_ENV, bad)
        with pytest.raises(SettingError, match=f"^{runs.TEST_SETTINGS_ENV}: "):
            runs.start()


# Turning op determinism off in a notebook: the switch takes effect before the notebook seeds anything.
DETERMINISM_OFF = """
from tensorflow.python.framework import config as tf_config
from digit_recognizer import runs
from digit_recognizer.modeling import training
runs.start(output_dir={root!r}, deterministic=False)
training.set_determinism(7)
print("op determinism", tf_config.is_op_determinism_enabled())
"""


def test_determinism_turned_off_stays_off_after_seeding(tmp_path):
    done = subprocess.run([sys.executable, "-c", DETERMINISM_OFF.format(root=str(tmp_path))],
                          capture_output=True, text=True, check=True)
    printed = done.stdout.splitlines()
    assert "Keras backend tensorflow; CPU only (no GPU visible); determinism off; float32" in printed
    assert printed[-1] == "op determinism False"


def parameters_cell(notebook) -> dict:
    """The parameters cell's assignments, as a person reading it sees them."""
    cells = nbformat.read(notebook, as_version=4).cells
    cell = next(c for c in cells if "parameters" in c.metadata.get("tags", []))
    values = {}
    exec(cell.source, {}, values)
    return values


def test_every_parameters_cell_shows_the_real_defaults():
    shown = {nb.stem: parameters_cell(nb) for nb in runner.notebooks()}
    for notebook, values in shown.items():
        assert values == {name: settings.DEFAULTS[name] for name in values}, notebook
    common = {"profile", "seed", "data_dir", "output_dir", "deterministic", "mixed_precision"}
    assert all(set(values) >= common for values in shown.values())
    search = {"retune", "tuner", "max_epochs", "max_trials", "budget_minutes"}
    assert set(shown["03_tune"]) == common | search
    assert all(set(values) == common for name, values in shown.items() if name != "03_tune")


def make_command(target: str, variables: dict) -> str:
    done = subprocess.run(["make", "-n", "-s", target, *(f"{k}={v}" for k, v in variables.items())],
                          cwd=config.PROJECT_DIR, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()[-1].replace('"', "")


def test_one_name_per_setting_from_the_makefile_to_the_notebooks():
    declared = set().union(*(runner.declared_parameters(nb) for nb in runner.notebooks()))
    assert declared == set(settings.NAMES) - {"tune"}  # tune: the runner's, whether a whole run searches
    switches = {"deterministic", "mixed_precision", "tune", "retune"}
    values = {s: f"value-of-{s}" for s in set(settings.NAMES) - switches - {"output_dir"}}
    command = make_command("tune", {s.upper(): v for s, v in values.items()} |
                           {"DETERMINISTIC": "0", "MIXED_PRECISION": "1", "TUNE": "1"})
    for setting, value in values.items():  # MAX_EPOCHS=x gives --max-epochs x, notebook 03's max_epochs
        assert f"--{setting.replace('_', '-')} {value}" in command, (setting, command)
    assert "--no-deterministic" in command and "--mixed-precision" in command and "--tune" in command


def test_the_makefile_refuses_a_switch_that_is_not_1_or_0():
    done = subprocess.run(["make", "-n", "-s", "run", "DETERMINISTIC=yes"], cwd=config.PROJECT_DIR,
                          capture_output=True, text=True)
    assert done.returncode != 0 and "DETERMINISTIC=yes: use 1 or 0" in done.stderr


def test_the_makefile_leaves_unset_settings_to_the_package():
    assert make_command("tune", {}).split("digit_recognizer.runner")[1].split() == ["03"]
    assert make_command("run", {}).split("digit_recognizer.runner")[1].split() == []
    assert make_command("train", {}).split()[-1] == "04"
    assert make_command("submission", {}).split()[-1] == "05"


def test_runner_and_distributed_tuning_share_one_option_set():
    def options_of(main):
        parsers = []
        real = argparse.ArgumentParser.parse_args

        def capture(self, *args, **kwargs):
            parsers.append(self)
            raise SystemExit(0)

        argparse.ArgumentParser.parse_args = capture
        try:
            with pytest.raises(SystemExit):
                main([])
        finally:
            argparse.ArgumentParser.parse_args = real
        return {(a.dest, a.default) for a in parsers[0]._actions}

    runner_options, distributed_options = options_of(runner.main), options_of(distributed.main)
    assert {(name, settings.DEFAULTS[name]) for name in settings.NAMES} <= runner_options
    assert {(name, settings.DEFAULTS[name]) for name in distributed.SETTINGS} <= distributed_options
