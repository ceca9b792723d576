"""Every run setting, defined once: its name, default, meaning and check.

A setting is a field of `Settings`. The same name is a notebook parameter (`max_epochs`), an option of
the runner and of distributed tuning (`--max-epochs`) and a Makefile variable (`MAX_EPOCHS`); each takes
its default from here, and `Settings(...)` is the one check, made before any work.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field, fields, replace
from numbers import Integral, Real

from .config import MAX_SEED, TUNER_NAMES
from .plumbing.messages import SettingError, quote
from .profiles import DEFAULT_PROFILE, PROFILES, Profile, get_profile


def _whole(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _profile(value):
    try:
        get_profile(value)
    except SettingError as error:  # profiles.get_profile's own check and message
        return error.problem


def _seed(value):
    if not _whole(value):
        return f"{quote(value)} is not a whole number; expected a whole number from 0 to {MAX_SEED}"
    if not 0 <= value <= MAX_SEED:
        return (f"{value} is {'negative' if value < 0 else 'too large'}; expected a whole number from 0 to "
                f"{MAX_SEED}")


def _folder(value):
    if not isinstance(value, str):
        return f"{quote(value)} is not a folder name (a string; \"\" for the default)"


def _tuner(value):
    if value is not None and value not in TUNER_NAMES:
        return f"unknown tuner {quote(value)}; choose one of {sorted(TUNER_NAMES)} (None: the profile's)"


def _count(value):
    if value is not None and not (_whole(value) and value >= 1):
        return f"{quote(value)} is not a whole number >= 1 (None: the profile's)"


def _minutes(value):
    if value is not None and not (isinstance(value, Real) and not isinstance(value, bool)
                                  and 0 < value < math.inf):
        return f"{quote(value)} is not a number of minutes > 0 (None: the profile's)"


def _switch(value):
    if not isinstance(value, bool):
        return f"{quote(value)} is not True or False"


def _setting(default, kind, check, meaning: str):
    return field(default=default, metadata={"kind": kind, "check": check, "help": meaning})


@dataclass(frozen=True)
class Settings:
    """One run's settings, each checked when made: a bad one raises SettingError naming it."""

    profile: str = _setting(DEFAULT_PROFILE, str, _profile,
                            f"how much work a run does: {', '.join(PROFILES)} (profiles.py)")
    seed: int = _setting(42, int, _seed, "the one seed: the split, the search and the training")
    data_dir: str = _setting("", str, _folder, "a folder in Kaggle's layout, or 'sample' for the embedded "
                             "sample; '': Kaggle's input folder on Kaggle, else data/raw/, else the sample")
    output_dir: str = _setting("", str, _folder, "root for data/processed, models/, reports/ and "
                               "submission.csv; '': /kaggle/working on Kaggle, the project folder in a "
                               "clone, else the current folder")
    tune: bool = _setting(False, bool, _switch, "run the search (notebook 03) as part of a whole run; "
                          "naming notebook 03 runs it anyway")
    tuner: str | None = _setting(None, str, _tuner, f"the search algorithm: {', '.join(TUNER_NAMES)} "
                                 "(None: the profile's)")
    max_epochs: int | None = _setting(None, int, _count, "epochs per search trial (None: the profile's)")
    max_trials: int | None = _setting(None, int, _count, "search trials (None: the profile's)")
    budget_minutes: float | None = _setting(None, float, _minutes, "minutes of trials after which no new "
                                            "search trial starts, earlier runs' trials counted (None: the "
                                            "profile's)")
    retune: bool = _setting(False, bool, _switch, "archive the earlier search and start a fresh one")
    deterministic: bool = _setting(True, bool, _switch, "deterministic ops on every Keras backend "
                                   "(byte-identical re-runs on TensorFlow), slower on a GPU")
    mixed_precision: bool = _setting(False, bool, _switch, "float16 compute (needs a GPU)")

    def __post_init__(self):
        for setting in fields(self):
            if problem := setting.metadata["check"](getattr(self, setting.name)):
                raise SettingError(setting.name, problem)

    @property
    def run_profile(self) -> Profile:
        """The profile, with the search settings given here in place of its own."""
        base = PROFILES[self.profile]
        return replace(base, tuner=self.tuner or base.tuner, max_epochs=self.max_epochs or base.max_epochs,
                       max_trials=self.max_trials or base.max_trials,
                       budget_minutes=self.budget_minutes or base.budget_minutes)


NAMES = tuple(setting.name for setting in fields(Settings))
DEFAULTS = {setting.name: setting.default for setting in fields(Settings)}


def add_options(parser: argparse.ArgumentParser, names=NAMES) -> None:
    """An option per setting named (`--max-epochs` for max_epochs), with the setting's default."""
    for setting in fields(Settings):
        if setting.name not in names:
            continue
        kind, meaning, option = setting.metadata["kind"], setting.metadata["help"], \
            f"--{setting.name.replace('_', '-')}"
        if kind is bool:
            parser.add_argument(option, action=argparse.BooleanOptionalAction, default=setting.default,
                                help=meaning)
        else:
            parser.add_argument(option, type=kind, default=setting.default,
                                help=f"{meaning} (default: {setting.default!r})")


def from_options(parser: argparse.ArgumentParser, args: argparse.Namespace, names=NAMES) -> Settings:
    """The parsed options as Settings; a bad one exits with a usage message naming its option."""
    try:
        return Settings(**{name: getattr(args, name) for name in names})
    except SettingError as error:
        parser.error(f"argument --{error.setting.replace('_', '-')}: {error.problem}")
