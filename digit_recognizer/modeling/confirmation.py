"""Confirm before adopting (notebook 03, after the search).

A search scores trials of a few epochs by their best epoch, which flatters noisy trials and favours what
learns fast. So the search's best few candidates and the defaults are each trained again at the final
training's schedule (the profile's epochs and batch size), with one seed, on the search's training digits,
and scored on its validation digits, which none of them trained on. The best candidate replaces the
defaults only where it makes fewer errors there than chance explains: a one-sided exact McNemar test on
the digits exactly one of the two got wrong, at ADOPTION_P_VALUE shared among the candidates (Bonferroni).
Otherwise the defaults stay. Each training is recorded as it ends (CONFIRMATION_FILE, in the search's
folder), so a confirmation cut short resumes where it stopped.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
from scipy.stats import binomtest

from ..features import Dataset, dataset_identity
from ..plumbing.files import read_json_or_none, write_json
from ..plumbing.lineage import fingerprint, matches, record
from ..profiles import Profile
from . import training, tuning
from .model import default_values
from .prediction import predict_probabilities
from .search_record import OBJECTIVE

ADOPTION_P_VALUE = 0.05
CONFIRMATION_FILE = "confirmation.json"
DEFAULTS = "defaults"


def candidates(tuner, count: int) -> list[dict]:
    """The defaults, then the search's best `count` distinct other configurations, best first: each
    {"name", "trial_id", "search_score", "values"} (the defaults' trial and score where the search ran them).
    """
    defaults = default_values()
    found = {"name": DEFAULTS, "trial_id": None, "search_score": None, "values": defaults}
    chosen, seen = [], {fingerprint(defaults)}
    completed = [t for t in tuner.oracle.trials.values() if t.status == "COMPLETED"]
    sign = -1 if tuner.oracle.objective.direction == "max" else 1
    ranked = sorted(completed, key=lambda t: (sign * t.score, len(t.trial_id), t.trial_id))  # ties: earlier
    for trial in ranked:
        values = tuning.tunable_values(trial.hyperparameters)
        key = fingerprint(values)
        if key == fingerprint(defaults) and found["trial_id"] is None:
            found |= {"trial_id": trial.trial_id, "search_score": trial.score}
        if key in seen:
            continue
        seen.add(key)
        if len(chosen) < count:
            chosen.append({"name": f"trial {trial.trial_id}", "trial_id": trial.trial_id,
                           "search_score": trial.score, "values": values})
    return [found, *chosen]


def confirm(tuner, dataset: Dataset, profile: Profile, seed: int, entries: list[dict] | None = None,
            verbose: int = 2, record_path: str | Path | None = None,
            record_notes: dict | None = None) -> dict:
    """Train each of `entries` (default: `candidates(tuner, profile.confirm_candidates)`, the defaults
    first) at the final schedule on the search's split, score it, and decide (`decide`). Returns the
    confirmation record. Each training is recorded as it ends in `record_path` (default: CONFIRMATION_FILE
    in the search's folder), with `record_notes` beside the trainings; those already recorded there for the
    same data, profile and seed are not run again."""
    entries = entries if entries is not None else candidates(tuner, profile.confirm_candidates)
    x, y, x_valid, y_valid = tuning.search_split(dataset, profile, seed)
    split = Dataset(x, y, x_valid, y_valid, x_valid[:0], None, dataset.source)
    folder = Path(tuner.project_dir)
    record_path = Path(record_path) if record_path else folder / CONFIRMATION_FILE
    inputs = record_inputs(dataset, profile, seed)
    confirmed = _confirmed_so_far(record_path, inputs)
    for entry in entries if len(entries) > 1 else ():  # the defaults alone: nothing to compare
        key = fingerprint(entry["values"])
        if key not in confirmed:
            print(f"--- confirming {entry['name']}: {profile.train_epochs} epochs on {len(x)} digits",
                  flush=True)
            start = time.perf_counter()
            model, _, _ = training.train_model(entry["values"], split, profile, seed, verbose=verbose,
                                               backup_dir=folder / "confirmation-backup")
            wrong = (predict_probabilities(model, x_valid).argmax(axis=1) != y_valid).nonzero()[0]
            confirmed[key] = {"errors": len(wrong), "wrong": wrong.tolist(),
                              "seconds": round(time.perf_counter() - start, 1)}
            write_json({**record(inputs), **(record_notes or {}), "confirmed": confirmed}, record_path)
        entry |= confirmed[key]
    return {"validation_images": len(x_valid), "epochs": profile.train_epochs, "seed": seed,
            **decide(entries)}


def record_inputs(dataset: Dataset, profile: Profile, seed: int) -> dict:
    """What a confirmation's trainings are made from (`lineage`): the data, the profile and the seed."""
    return {"data": dataset_identity(dataset.source), "profile": profile.as_dict(), "seed": seed}


def _confirmed_so_far(path: Path, inputs: dict) -> dict:
    """The trainings recorded in `path` for exactly these inputs, by their values' fingerprint."""
    found = read_json_or_none(path)
    if not matches(found, inputs):  # a record's fingerprint is of its inputs alone
        return {}
    confirmed = found.get("confirmed") if isinstance(found.get("confirmed"), dict) else {}
    return {key: value | {"errors": len(value["wrong"])} for key, value in confirmed.items()  # as recorded
            if isinstance(value, dict) and isinstance(value.get("wrong"), list)
            and all(isinstance(i, int) for i in value["wrong"])}


def decide(entries: list[dict]) -> dict:
    """Adopt the candidate with the fewest confirmed errors only if it beats the defaults (`entries[0]`)
    beyond chance: {"entries", "adopted", "adopted_values", "p_value", "reason"}."""
    defaults, challengers = entries[0], entries[1:]
    if not challengers:
        return {"entries": entries, "adopted": DEFAULTS, "adopted_values": defaults["values"],
                "p_value": None, "reason": "the search found no configuration other than the defaults"}
    best = min(challengers, key=lambda e: e["errors"])  # the first of equals: the search's better
    fixed = len(set(defaults["wrong"]) - set(best["wrong"]))  # the defaults got wrong, the candidate right
    broken = len(set(best["wrong"]) - set(defaults["wrong"]))
    p_value = binomtest(fixed, fixed + broken, 0.5, alternative="greater").pvalue if fixed + broken else 1.0
    bound = ADOPTION_P_VALUE / len(challengers)
    versus = (f"{best['name']} makes {best['errors']} errors, the defaults {defaults['errors']}, on "
              f"validation digits none trained on ({fixed} fixed, {broken} new; p = {p_value:.3g}")
    if p_value <= bound:
        return {"entries": entries, "adopted": best["name"], "adopted_values": best["values"],
                "p_value": p_value, "reason": f"{versus} <= {bound:.3g}): adopted"}
    verdict = "within chance" if best["errors"] < defaults["errors"] else "no candidate beat them"
    return {"entries": entries, "adopted": DEFAULTS, "adopted_values": defaults["values"], "p_value": p_value,
            "reason": f"{versus} > {bound:.3g}): {verdict}, the defaults stay"}


def table(confirmation: dict) -> pd.DataFrame:
    """One row per configuration: its search score, confirmed errors and accuracy, adopted or not."""
    images = confirmation["validation_images"]
    return pd.DataFrame([{
        "candidate": e["name"], f"search {OBJECTIVE}": e["search_score"],
        "confirmed errors": e.get("errors"),
        "confirmed accuracy": None if e.get("errors") is None else round(1 - e["errors"] / images, 4),
        "adopted": e["name"] == confirmation["adopted"]} for e in confirmation["entries"]])
