"""A notebook's set-up in one call: `context = runs.start(profile, seed, data_dir, output_dir, ...)`.

The call resolves the parameters left empty to their defaults (in `config`), checks every setting, refuses
an output folder that another run is writing to, and prints one line saying what runs where.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import (
    DEFAULT_DETERMINISTIC,
    DEFAULT_MIXED_PRECISION,
    DEFAULT_PROFILE,
    DEFAULT_SEED,
    SEARCH_PROFILE,
    OutputPaths,
    Profile,
    check_settings,
    output_paths,
    search_settings,
)
from .runlock import refuse_if_busy


@dataclass(frozen=True)
class RunContext:
    """What a notebook needs to know about its run."""

    profile: Profile  # with the run's search settings (tuner, max_epochs, ...) applied
    seed: int
    data_dir: str  # as given: "" finds the data (see `data.locate_data`), "sample" is the embedded sample
    paths: OutputPaths
    retune: bool = False
    deterministic: bool = DEFAULT_DETERMINISTIC
    mixed_precision: bool = DEFAULT_MIXED_PRECISION

    @property
    def source(self) -> dict:
        """The parameters the prepared data set is made with; notebooks 03-05 refuse one made otherwise."""
        return {"profile": self.profile.name, "seed": self.seed, "data_dir": self.data_dir}


def start(profile: str = "", seed: int | None = None, data_dir: str = "", output_dir: str = "", *,
          retune: bool = False, tuner: str = "", max_epochs: int = 0, max_trials: int = 0,
          budget_minutes: float = 0, deterministic: bool | None = None,
          mixed_precision: bool | None = None, searching: bool = False) -> RunContext:
    """The run's context, from a notebook's parameters ("", None or 0: the default; for the tuning
    notebook, `searching`, the default profile is the one that searches)."""
    profile = profile or (SEARCH_PROFILE if searching else DEFAULT_PROFILE)
    seed = DEFAULT_SEED if seed is None else seed
    chosen = check_settings(profile, seed, tuner, max_epochs, max_trials, budget_minutes)  # a bad one: stop
    paths = output_paths(output_dir or None)
    refuse_if_busy(paths.root)  # a notebook run by hand while `make run` writes here: stop now
    context = RunContext(
        profile=search_settings(chosen, tuner, max_epochs, max_trials, budget_minutes),
        seed=seed, data_dir=data_dir or "", paths=paths, retune=retune,
        deterministic=DEFAULT_DETERMINISTIC if deterministic is None else deterministic,
        mixed_precision=DEFAULT_MIXED_PRECISION if mixed_precision is None else mixed_precision)
    print(f"profile {profile}, seed {seed}, outputs under {paths.root}")
    return context
