"""The run profiles: how much work a run does. The one place that defines them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from .plumbing.messages import SettingError, quote

DEFAULT_PROFILE = "full"


@dataclass(frozen=True)
class Profile:
    """How much work a run does: the search's budget (notebook 03) and the final training's (04).
    `smoke` proves the pipeline quickly on a slice of the data; `fast` trains one CNN, aiming at the
    public reference recipe's accuracy in half its time; `full` (the default) trains an ensemble of CNNs
    on all but 2% of the labelled digits, then a second round on the test digits they are sure of
    (`pseudo_labels`). Its fixed schedule needs no validation set to stop or adjust it, so it keeps only
    a small one, as a check, and learns from the rest; `fast` keeps a tenth. A
    search judges its trials on digits of its own, `search_validation_fraction` of the training digits,
    whatever the final training keeps aside; the search's best `confirm_candidates` are then trained again
    at the final schedule beside the defaults before one is adopted (`confirmation`). Whether a run
    searches is a setting of its own (`tune`), not the profile's."""

    name: str
    validation_fraction: float
    max_train_images: int | None  # None: every training image
    search_validation_fraction: float  # of the training digits: the search's trials are scored on them
    tuner: str  # one of TUNER_NAMES
    max_epochs: int  # per search trial
    max_trials: int  # ignored by Hyperband, which sizes itself from max_epochs
    budget_minutes: float  # no new search trial starts after this
    tuning_patience: int
    confirm_candidates: int  # the search's best, each trained at the final schedule beside the defaults
    ensemble_size: int  # CNNs trained with different seeds; their softmax outputs are averaged
    train_epochs: int  # the learning rate follows a cosine from its initial value down over these
    batch_size: int
    # A second round on the test digits the first is sure of (`modeling/pseudo_labels.py`); 0: none.
    pseudo_label_epochs: int = 0
    pseudo_label_confidence: float = 0.995

    def as_dict(self) -> dict:
        return asdict(self)


_FULL = Profile(
    name="full",
    validation_fraction=0.02,  # 840 of Kaggle's 42,000 digits
    max_train_images=None,
    search_validation_fraction=0.1,  # 4,116 digits: enough to tell trials apart
    tuner="hyperband",
    max_epochs=9,
    max_trials=20,
    budget_minutes=10,
    tuning_patience=3,
    confirm_candidates=2,  # three trainings of 45 epochs on 37,044 digits: about 50 minutes on 2 CPU cores
    ensemble_size=3,  # a fourth member would take predicting Kaggle's 28,000 digits past 10 s on 2 cores
    train_epochs=45,
    batch_size=128,
    # Then 8 epochs on the test digits it is sure of too: on fast's 4,200 validation digits (seed 42) 8 such
    # epochs took one CNN from 28 errors to 21, where 8 more epochs on the labelled digits alone gave 25.
    pseudo_label_epochs=8,
)

PROFILES = {
    "smoke": Profile(
        name="smoke",
        validation_fraction=0.1,
        max_train_images=1000,
        search_validation_fraction=0.1,
        tuner="random",
        max_epochs=1,
        max_trials=2,
        budget_minutes=5,
        tuning_patience=1,
        confirm_candidates=1,
        ensemble_size=1,
        train_epochs=3,
        batch_size=64,
    ),
    "fast": replace(_FULL, name="fast", validation_fraction=0.1, ensemble_size=1, train_epochs=24,
                    pseudo_label_epochs=0),
    "full": _FULL,
}


def get_profile(name: str) -> Profile:
    if isinstance(name, str) and name in PROFILES:
        return PROFILES[name]
    raise SettingError("profile", f"unknown profile {quote(name)}; choose one of {sorted(PROFILES)}")


