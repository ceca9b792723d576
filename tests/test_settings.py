"""Run settings: the profiles, and bad settings refused before any work, by one check, with a message naming
the setting."""

import argparse
import dataclasses
import math
import subprocess

import numpy as np
import papermill as pm
import pytest

from digit_recognizer import config, distributed, options, runner, runs, tuning
from digit_recognizer.config import PROFILES, SettingError, check_settings
from tests.helpers import train_rows, write_csv

# keyword arguments of check_settings, the setting the message names, a fragment of the message
BAD_SETTINGS = {
    "unknown profile": (dict(profile="quick"), "profile", "unknown profile 'quick'; choose one of"),
    "negative seed": (dict(seed=-1), "seed", "-1 is negative; expected a whole number from 0 to 2147483647"),
    "fractional seed": (dict(seed=1.5), "seed", "1.5 is not a whole number"),
    "seed given as text": (dict(seed="42"), "seed", "'42' is not a whole number"),
    "seed given as a boolean": (dict(seed=True), "seed", "True is not a whole number"),
    "seed too large for NumPy": (dict(seed=2**32), "seed", "4294967296 is too large"),
    "unknown tuner": (dict(tuner="grid"), "tuner", "unknown tuner 'grid'; choose one of ['bay"),
    "negative max_epochs": (dict(max_epochs=-3), "max_epochs", "-3 is not a whole number >= 0"),
    "fractional max_trials": (dict(max_trials=2.5), "max_trials", "2.5 is not a whole number >= 0"),
    "negative budget_minutes": (dict(budget_minutes=-1), "budget_minutes", "-1 is not a number of minutes"),
    "NaN budget_minutes": (dict(budget_minutes=math.nan), "budget_minutes", "nan is not a number of minutes"),
}


@pytest.mark.parametrize(("settings", "setting", "fragment"), BAD_SETTINGS.values(), ids=BAD_SETTINGS.keys())
def test_check_settings_names_the_bad_setting(settings, setting, fragment):
    with pytest.raises(SettingError) as caught:
        check_settings(**{"profile": "smoke"} | settings)
    assert caught.value.setting == setting
    assert str(caught.value).startswith(f"{setting}: ") and fragment in str(caught.value), str(caught.value)


def test_profiles_smoke_fast_full_and_tuned():
    assert {"smoke", "fast", "full", "tuned"} <= set(PROFILES)
    assert PROFILES["smoke"].max_train_images and PROFILES["full"].max_train_images is None
    assert not PROFILES["fast"].tune and not PROFILES["full"].tune and PROFILES["tuned"].tune
    assert PROFILES["full"].ensemble_size > 1 and PROFILES["fast"].ensemble_size == 1
    # tuned is full with a search, which compares trials on a tenth of the digits; full keeps 2% as a check
    assert dataclasses.replace(PROFILES["tuned"], name="full", tune=False, validation_fraction=0.02) \
        == PROFILES["full"]
    assert PROFILES["tuned"].validation_fraction == PROFILES["fast"].validation_fraction == 0.1
    assert config.SEARCH_PROFILE == "tuned" and config.DEFAULT_PROFILE == "full"


def test_good_settings_give_the_profile():
    assert check_settings("smoke", np.int64(0), "bayesian", 3, 4, 0.5) is config.PROFILES["smoke"]
    assert check_settings("full", config.MAX_SEED) is config.PROFILES["full"]


def test_every_tuner_name_has_a_tuner():
    assert set(tuning.TUNERS) == set(config.TUNER_NAMES)


# runner options, the message the runner exits with (argparse's where argparse already checks)
BAD_OPTIONS = {
    "negative seed": (["--seed", "-1"], "argument --seed: -1 is negative"),
    "fractional seed": (["--seed", "1.5"], "argument --seed: invalid int value: '1.5'"),
    "unknown profile": (["--profile", "quick"], "argument --profile: invalid choice: 'quick'"),
    "unknown tuner": (["--tuner", "grid"], "argument --tuner: unknown tuner 'grid'"),
    "negative max-epochs": (["--max-epochs", "-2"], "argument --max-epochs: -2 is not a whole number >= 0"),
    "negative max-trials": (["--max-trials", "-2"], "argument --max-trials: -2 is not a whole number >= 0"),
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
    context = runs.start("", None, "", str(tmp_path), tuner="bayesian", max_epochs=2)  # "" / None: defaults
    default = config.PROFILES[config.DEFAULT_PROFILE]
    assert context.profile == config.search_settings(default, "bayesian", max_epochs=2)
    assert context.profile.tuner == "bayesian" and context.profile.max_trials == default.max_trials
    assert context.seed == config.DEFAULT_SEED and context.paths == config.output_paths(tmp_path)
    assert context.source == {"profile": config.DEFAULT_PROFILE, "seed": config.DEFAULT_SEED, "data_dir": ""}
    assert (context.deterministic, context.mixed_precision) == (config.DEFAULT_DETERMINISTIC,
                                                                config.DEFAULT_MIXED_PRECISION)
    assert capsys.readouterr().out == (f"profile {config.DEFAULT_PROFILE}, seed {config.DEFAULT_SEED}, "
                                       f"outputs under {tmp_path.resolve()}\n")
    with pytest.raises(SettingError, match="^max_trials: -1 is not a whole number"):
        runs.start("smoke", 0, output_dir=str(tmp_path), max_trials=-1)


def test_the_tuning_notebook_defaults_to_the_profile_that_searches(tmp_path):
    assert runs.start("", output_dir=str(tmp_path), searching=True).profile.name == config.SEARCH_PROFILE
    assert runs.start("fast", output_dir=str(tmp_path), searching=True).profile.name == "fast"


@pytest.mark.parametrize("profile", ["fast", "full"])
def test_a_profile_that_does_not_search_refuses_a_tuner(tmp_path, profile):
    with pytest.raises(SettingError, match=f"^profile: profile '{profile}' trains the search space's"):
        tuning.make_tuner(config.get_profile(profile), tmp_path, 42)


def make_command(target: str, variables: dict) -> str:
    done = subprocess.run(["make", "-n", "-s", target, *(f"{k}={v}" for k, v in variables.items())],
                          cwd=config.PROJECT_DIR, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()[-1].replace('"', "")


def test_one_name_per_setting_from_the_makefile_to_the_notebooks():
    declared = set().union(*(runner.declared_parameters(nb) for nb in runner.notebooks()))
    assert declared == {*options.SETTINGS, "data_dir", "retune"}
    switches = {"deterministic", "mixed_precision"}
    values = {s: f"value-of-{s}" for s in declared - switches - {"output_dir", "retune"}}
    command = make_command("tune", {s.upper(): v for s, v in values.items()} |
                           {"DETERMINISTIC": "0", "MIXED_PRECISION": "1"})
    for setting, value in values.items():  # MAX_EPOCHS=x gives --max-epochs x, notebook 03's max_epochs
        assert f"--{setting.replace('_', '-')} {value}" in command, (setting, command)
    assert "--no-deterministic" in command and "--mixed-precision" in command


def test_the_makefile_leaves_unset_settings_to_the_package():
    assert make_command("tune", {}).split("digit_recognizer.runner")[1].split() == ["03"]
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
    shared = runner_options & distributed_options  # same name, same default
    assert {dest for dest, _ in shared} >= set(options.SETTINGS) - {"profile"}
    assert ("profile", config.SEARCH_PROFILE) in distributed_options  # it only searches
    assert ("profile", None) in runner_options  # resolved by runner.default_profile
