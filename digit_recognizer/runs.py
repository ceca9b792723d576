"""A notebook's set-up in one call: `context = runs.start(profile=profile, seed=seed, ...)`.

The call checks the notebook's parameters (`settings.Settings`), applies the backend's switches before
anything is seeded or built, refuses an output folder that another run is writing to, and prints one line
saying what runs where. Every notebook shows the same defaults in its parameters cell, so notebooks run
one by one with "Run all" make one consistent run; a setting changed in one notebook only is refused by
the next, which names it (the prepared data set records the settings it was made with).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from .config import OutputPaths, output_paths
from .plumbing.messages import SettingError
from .plumbing.runlock import refuse_if_busy
from .profiles import Profile
from .settings import NAMES, Settings

# Settings that tests give every notebook of a run, as JSON (e.g. {"profile": "smoke", "output_dir": ...}),
# over the parameters cell's; nothing else sets it.
TEST_SETTINGS_ENV = "DIGIT_RECOGNIZER_TEST_SETTINGS"


@dataclass(frozen=True)
class RunContext:
    """What a notebook needs to know about its run."""

    settings: Settings
    paths: OutputPaths

    @property
    def profile(self) -> Profile:
        """The profile, with the run's search settings (tuner, max_epochs, ...) applied."""
        return self.settings.run_profile

    @property
    def seed(self) -> int:
        return self.settings.seed

    @property
    def data_dir(self) -> str:
        """As given: "" finds the data (see `dataset.locate.locate_data`), "sample" is the embedded sample."""
        return self.settings.data_dir

    @property
    def retune(self) -> bool:
        return self.settings.retune

    @property
    def source(self) -> dict:
        """The settings the prepared data set is made with; notebooks 03-05 refuse one made otherwise."""
        return {"profile": self.settings.profile, "seed": self.seed, "data_dir": self.data_dir}

    def load_dataset(self):
        """The prepared data set (notebook 02's), refused where it was made with other settings or from
        data files that have changed since (a new test.csv, say), with the remedy."""
        from .dataset.checksums import file_hashes
        from .dataset.locate import locate_data
        from .features import load_dataset

        expected = self.source | {"sha256": file_hashes(locate_data(self.data_dir))}
        return load_dataset(self.paths.dataset_file, expected)


def settings_from_environment() -> dict:
    """The settings $DIGIT_RECOGNIZER_TEST_SETTINGS gives, checked by name."""
    text = os.environ.get(TEST_SETTINGS_ENV)
    if not text:
        return {}
    try:
        given = json.loads(text)
    except ValueError as error:
        raise SettingError(TEST_SETTINGS_ENV, f"not JSON ({error})") from None
    if not isinstance(given, dict) or set(given) - set(NAMES):
        raise SettingError(TEST_SETTINGS_ENV, f"expected an object of settings named in {list(NAMES)}")
    return given


def start(**parameters) -> RunContext:
    """The run's context, from a notebook's parameters (each a `Settings` field)."""
    overrides = settings_from_environment()
    settings = Settings(**parameters | overrides)  # a bad one stops here, naming it
    from .plumbing import runtime  # the backend: only once the settings are known to be good

    print(runtime.configure(settings.deterministic, settings.mixed_precision))
    paths = output_paths(settings.output_dir or None)
    refuse_if_busy(paths.root)  # a notebook run by hand while `make run` writes here: stop now
    if overrides:
        print(f"settings from ${TEST_SETTINGS_ENV}: {overrides}")
    print(f"profile {settings.profile}, seed {settings.seed}, outputs under {paths.root}")
    return RunContext(settings, paths)
