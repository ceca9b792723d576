"""Do the search's short trials rank configurations as the final training would? The trial fidelity, measured.

    python benchmarks/fidelity.py [--data-dir DIR] [--profile full] [--seed 42] [--configurations 6]
                                  [--max-trials N] [--smoke] [--results-dir DIR] [--search-dir DIR]

Runs the profile's search on the seeded split a run of that profile makes (notebook 03's search), then
trains CONFIGURATIONS of its configurations again at the final schedule on the search's training digits,
scored on its validation digits (the confirmation's own step, `modeling/confirmation.py`): the defaults
and others spread evenly over the search's ranking, best to worst, so the correlation is not judged on
the top few alone. For each way of scoring a trial (the best epoch's validation accuracy, which the search
ranks by; the last epoch's; the lowest validation loss; the last validation loss) it reports Spearman's
rank correlation with the confirmed accuracy: 1 when the trials order the configurations as the final
training does, 0 when they tell nothing. Only training digits are used: held-out digits play no part.

On 2 cores the whole takes more than one sitting, so it resumes from what is kept with the results:
benchmarks/fidelity[-NAME]-trainings.json records the configurations the search chose (with their trial
scores) and each training as it ends, so a fresh clone goes on where the last sitting stopped, with the
same configurations, whatever its machine's speed would let a new search of the same minutes reach. The
file keeps the probe of the code that trained (`jobs.probe`, as bench.py's records do); made by code that
computes otherwise, it is set aside and everything runs again. The search itself resumes from
build/fidelity/. The result goes to benchmarks/fidelity[-NAME].json and .md (NAME from the data folder, as
for bench.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jobs  # noqa: E402
from bench import default_name, machine, probes  # noqa: E402

from digit_recognizer.config import PROJECT_DIR  # noqa: E402
from digit_recognizer.manifest import git_state  # noqa: E402
from digit_recognizer.plumbing import lineage  # noqa: E402
from digit_recognizer.plumbing.files import atomic_path, now, read_json_or_none, write_json  # noqa: E402

# How a trial can be scored, and whether higher is better.
TRIAL_SCORES = {"val_accuracy": True, "last_val_accuracy": True, "lowest_val_loss": False,
                "last_val_loss": False}
SEARCH_DIR = PROJECT_DIR / "build" / "fidelity"
SMOKE_TRAIN_IMAGES = 200


def spread(ranked: list, count: int) -> list:
    """`count` items of `ranked`, evenly spaced from the first to the last (all of them if fewer)."""
    if len(ranked) <= count:
        return list(ranked)
    return [ranked[i] for i in np.linspace(0, len(ranked) - 1, count).round().astype(int)]


def configurations(tuner, count: int) -> list[dict]:
    """The defaults, then `count - 1` other configurations spread over the search's ranking, each as the
    confirmation takes it, with its best trial's metrics."""
    from digit_recognizer.modeling import confirmation

    everyone = confirmation.candidates(tuner, len(tuner.oracle.trials))
    defaults, others = everyone[0], everyone[1:]
    chosen = [defaults, *spread(others, count - 1)]
    for entry in chosen:
        trial = tuner.oracle.get_trial(entry["trial_id"]) if entry["trial_id"] is not None else None
        entry["trial_scores"] = {name: trial.metrics.get_last_value(name) if trial else None
                                 for name in TRIAL_SCORES}
        entry["trial_epoch_seconds"] = epoch_seconds(tuner, entry["trial_id"])
    return chosen


def epoch_seconds(tuner, trial_id) -> float | None:
    """A trial's seconds per epoch, as its search measured them; None where the search has no such trial."""
    trial = tuner.oracle.trials.get(trial_id) if trial_id is not None else None
    if trial is None or not trial.metrics.exists("seconds"):
        return None
    epochs = len(trial.metrics.get_history("val_accuracy")) or 1
    return round(trial.metrics.get_last_value("seconds") / epochs, 1)


def cheapest_first(entries: list[dict]) -> list[dict]:
    """The defaults, then the others by their trials' seconds per epoch, cheapest first (unknown last): a
    sitting cut short has then recorded as many trainings as it could. The widest configurations take
    several times the defaults' time."""
    def cost(entry):
        seconds = entry.get("trial_epoch_seconds")
        return float("inf") if seconds is None else seconds
    return [entries[0], *sorted(entries[1:], key=cost)]


def set_aside_unless_made_by(path: Path, probe: list, aside_dir: Path) -> None:
    """Move a trainings file made by code that computes otherwise than `probe` says into `aside_dir`, so
    its errors are not taken for today's code's."""
    found = read_json_or_none(path)
    if found is None or jobs.same_computation(found.get("probe"), probe):
        return
    aside_dir.mkdir(parents=True, exist_ok=True)
    aside = aside_dir / f"{path.name}.set-aside"
    path.replace(aside)
    print(f"{path}: made by code that computes other results (its probe moved); moved to {aside}, "
          "its trainings run again", flush=True)


def chosen_before(trainings: Path, inputs: dict, count: int) -> dict | None:
    """The configurations (and search seconds) a sitting on the same inputs chose, asked for `count`
    (the search may have found fewer), from `trainings`."""
    found = read_json_or_none(trainings)
    chosen = found.get("configurations") if lineage.matches(found, inputs) else None
    well_formed = isinstance(chosen, list) and found.get("configurations_asked") == count and all(
        isinstance(e, dict) and isinstance(e.get("name"), str) and isinstance(e.get("values"), dict)
        and isinstance(e.get("trial_scores"), dict) and set(e["trial_scores"]) == set(TRIAL_SCORES)
        for e in chosen)
    if not well_formed or not isinstance(found.get("search_seconds"), (int, float)):
        return None  # none, or not as this script writes them: the search chooses again
    return {"configurations": chosen, "search_seconds": found["search_seconds"]}


def correlations(entries: list[dict], validation_images: int) -> dict:
    """Spearman's rho between each trial score and the confirmed accuracy, over the configurations the
    search ran (the defaults too, where it ran them)."""
    result = {}
    for name, higher_is_better in TRIAL_SCORES.items():
        rows = [e for e in entries if e["trial_scores"].get(name) is not None]
        if len(rows) < 3:
            result[name] = None
            continue
        scores = [e["trial_scores"][name] * (1 if higher_is_better else -1) for e in rows]
        confirmed = [1 - e["errors"] / validation_images for e in rows]
        rho = spearmanr(scores, confirmed).statistic
        result[name] = None if np.isnan(rho) else round(float(rho), 3)
    return result


def report(result: dict) -> str:
    lines = ["# Trial fidelity: does the search rank as the final training does?", "",
             f"Command: `{result['command']}`  ",
             f"Date: {result['date'][:16].replace('T', ' ')} UTC; commit {(result['commit'] or '?')[:7]}"
             f"{' + changes' if result['dirty'] else ''}; machine: {result['machine']}  ",
             f"Profile {result['profile']}, seed {result['seed']}: {result['configurations']} configurations,"
             " "
             f"each trained {result['epochs']} epochs; scored on {result['validation_images']:,} validation "
             f"digits of the search's own. Search {result['search_seconds']:.0f} s, trainings "
             f"{result['confirmation_seconds']:.0f} s.", "",
             "Spearman's rank correlation between the trial scores and the confirmed accuracy:", "",
             "| trial score | rho |", "| --- | --- |",
             *(f"| {name}{' (what the search ranks by)' if name == 'val_accuracy' else ''} | "
               f"{'-' if rho is None else f'{rho:.3f}'} |" for name, rho in result["spearman"].items()),
             "", "| configuration | " + " | ".join(TRIAL_SCORES) + " | confirmed errors |",
             "| --- |" + " --- |" * (len(TRIAL_SCORES) + 1)]
    for entry in result["entries"]:
        scores = " | ".join("-" if entry["trial_scores"][n] is None else f"{entry['trial_scores'][n]:.4f}"
                            for n in TRIAL_SCORES)
        lines.append(f"| {entry['name']} | {scores} | {entry['errors']} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="", help="a Kaggle-layout folder; default: the sample")
    parser.add_argument("--profile", default="full")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--configurations", type=int, default=6, help="at least 3")
    parser.add_argument("--max-trials", type=int, default=None, help="the search's trials (not Hyperband)")
    parser.add_argument("--budget-minutes", type=float, default=None,
                        help="the search's minutes (default: the profile's); a slow machine may need more to "
                             "reach CONFIGURATIONS trials")
    parser.add_argument("--smoke", action="store_true", help="a tiny run that checks this script")
    parser.add_argument("--results-dir", default=str(PROJECT_DIR / "benchmarks"))
    parser.add_argument("--search-dir", default=str(SEARCH_DIR), help="where the search resumes")
    args = parser.parse_args(argv)
    if args.configurations < 3:
        parser.error("--configurations: at least 3, or no rank correlation can be told")

    from digit_recognizer import features
    from digit_recognizer.dataset import loading
    from digit_recognizer.modeling import confirmation, training, tuning
    from digit_recognizer.profiles import get_profile
    from digit_recognizer.settings import Settings

    name = "smoke" if args.smoke else default_name(args.data_dir)
    stem = Path(args.results_dir) / f"fidelity{f'-{name}' if name else ''}"
    trainings = stem.with_name(f"{stem.name}-trainings.json")
    job = args.profile if args.profile in ("fast", "full") else "full"  # the job that trains as it does
    probe = probes(argparse.Namespace(hyperparameters="", smoke=args.smoke), [job])[job]
    set_aside_unless_made_by(trainings, probe, Path(args.search_dir))
    settings = Settings(profile="smoke" if args.smoke else args.profile, max_trials=args.max_trials,
                        budget_minutes=args.budget_minutes)
    profile = settings.run_profile
    if args.smoke:
        profile = replace(profile, tuner="random", max_trials=max(args.max_trials or 0, args.configurations),
                          max_train_images=SMOKE_TRAIN_IMAGES, train_epochs=1)
    raw = loading.load_data(args.data_dir or None)
    dataset = features.prepare_dataset(raw, get_profile(profile.name).validation_fraction, args.seed,
                                       profile.max_train_images)
    training.set_determinism(args.seed)
    tuner = tuning.make_tuner(profile, Path(args.search_dir) / f"seed-{args.seed}", args.seed, dataset.source)
    earlier = chosen_before(trainings, confirmation.record_inputs(dataset, profile, args.seed),
                            args.configurations)
    if earlier:
        entries, search_seconds = earlier["configurations"], earlier["search_seconds"]
        print(f"{trainings}: the {len(entries)} configurations an earlier sitting's search chose; no search",
              flush=True)
    else:
        start = time.perf_counter()
        tuning.search(tuner, dataset, profile)
        search_seconds = round(time.perf_counter() - start, 1)
        entries = configurations(tuner, args.configurations)
    notes = {"probe": probe, "search_seconds": search_seconds, "configurations_asked": args.configurations,
             "configurations": [dict(e) for e in entries]}
    # Trained in order of cost, the defaults first; scored and reported in the search's order.
    confirmed = confirmation.confirm(tuner, dataset, profile, args.seed, cheapest_first(entries),
                                     record_path=trainings, record_notes=notes)
    given = " ".join(argv if argv is not None else sys.argv[1:])
    result = {"command": f"python benchmarks/fidelity.py {given}".strip(), "date": now(), **git_state(),
              "machine": machine(), "profile": profile.name, "seed": args.seed,
              "configurations": len(entries), "epochs": profile.train_epochs,
              "validation_images": confirmed["validation_images"], "search_seconds": round(search_seconds, 1),
              "confirmation_seconds": round(sum(e.get("seconds", 0) for e in entries), 1),
              "spearman": correlations(entries, confirmed["validation_images"]),
              "entries": [{k: e.get(k) for k in ("name", "trial_id", "trial_scores", "errors", "values")}
                          for e in entries]}
    write_json(result, stem.with_suffix(".json"))
    with atomic_path(stem.with_suffix(".md")) as tmp:
        tmp.write_text(report(result))
    print(report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
