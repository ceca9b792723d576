"""The command-line options of a run, shared by the runner and the distributed tuner.

Each option is a notebook parameter of the same name (`--max-epochs` is `max_epochs`), and a Makefile
variable in upper case (`MAX_EPOCHS`); its default comes from `config`.
"""

from __future__ import annotations

import argparse

from .config import (
    DEFAULT_DETERMINISTIC,
    DEFAULT_MIXED_PRECISION,
    DEFAULT_PROFILE,
    DEFAULT_SEED,
    PROFILES,
    TUNER_NAMES,
    SettingError,
    check_settings,
)

# The settings every run takes, as notebook parameters, in the order the options are declared.
SETTINGS = ("profile", "seed", "output_dir", "tuner", "max_epochs", "max_trials", "budget_minutes",
            "deterministic", "mixed_precision")


def add_run_options(parser: argparse.ArgumentParser, output_help: str,
                    default_profile: str | None = DEFAULT_PROFILE, profile_help: str = "") -> None:
    parser.add_argument("--profile", choices=sorted(PROFILES), default=default_profile,
                        help=f"how much work the run does (default: {profile_help or default_profile})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"default: {DEFAULT_SEED}")
    parser.add_argument("--output-dir", default="", help=output_help)
    parser.add_argument("--tuner", default="",
                        help=f"one of {', '.join(TUNER_NAMES)} (default: the profile's)")
    parser.add_argument("--max-epochs", type=int, default=0, help="per search trial (default: the profile's)")
    parser.add_argument("--max-trials", type=int, default=0, help="default: the profile's")
    parser.add_argument("--budget-minutes", type=float, default=0,
                        help="no new search trial after this (default: the profile's)")
    parser.add_argument("--deterministic", action=argparse.BooleanOptionalAction,
                        default=DEFAULT_DETERMINISTIC,
                        help="deterministic TensorFlow ops: byte-identical re-runs, slower on a GPU")
    parser.add_argument("--mixed-precision", action=argparse.BooleanOptionalAction,
                        default=DEFAULT_MIXED_PRECISION, help="float16 compute (needs a GPU)")


def check_run_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Every setting checked before any work; a bad one exits with a usage message naming its option."""
    try:
        check_settings(args.profile, args.seed, args.tuner, args.max_epochs, args.max_trials,
                       args.budget_minutes)
    except SettingError as error:
        parser.error(f"argument --{error.setting.replace('_', '-')}: {error.problem}")


def run_settings(args: argparse.Namespace) -> dict:
    """The options as notebook parameters, by name."""
    return {name: getattr(args, name) for name in SETTINGS}
