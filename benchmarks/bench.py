"""Side by side, same data, same machine: the public Keras reference recipe against this project's
profiles.

    python benchmarks/bench.py [--seeds 42 43 44] [--jobs reference fast full tuned] [--data-dir DIR]
                               [--hyperparameters FILE] [--name NAME] [--results-dir DIR] [--smoke]

For each seed, every model trains on the same seeded split of the data (the embedded sample, or the
`--data-dir` folder, which needs a test_labels.csv) and is scored on the held-out test labels. Each job
runs in a process of its own, so its peak memory is its own, and does what `make run PROFILE=<job>` does:
fast and full train the search space's defaults; tuned (run only when asked for) first runs the profile's
search, timed apart as search_seconds, then trains the ensemble with the winner. With `--hyperparameters
FILE` (a best_hyperparameters.json) every project job trains those instead, with no search. The ensemble
jobs' records also score each member alone and the ensemble with test-time augmentation, so the gain of
each step is measured in the same run, and the tuned profile's first member is the full profile's with
searched hyperparameters: the search's gain at the final training length.

Each record is written to `results[-NAME].json` as soon as its job ends, and the table
`RESULTS[-NAME].md` is rewritten from the records. Run again, a job whose record was made by the same
code (the package, this script and the lock file), on the same data and settings, is skipped: a run cut
short loses only the job under way. NAME defaults to the data folder's name without a leading "mnist-"
(`../shared/data/mnist-full` -> `full`), and to none for the embedded sample.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from digit_recognizer.config import PROJECT_DIR
from digit_recognizer.files import atomic_path, read_json, write_json
from digit_recognizer.manifest import git_state, library_versions, now
from digit_recognizer.memory import peak_memory_mb
from digit_recognizer.scoring import score
from digit_recognizer.submission import KAGGLE_TEST_ROWS

JOBS = ("reference", "fast", "full", "tuned")
DEFAULT_JOBS = JOBS[:3]  # tuned (the search, then the ensemble) only when asked for
ENSEMBLE_JOBS = ("full", "tuned")
TTA_SHIFTS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))  # pixels (down, right)


def reference_model():
    """The best-known public Keras recipe for this competition."""
    import keras
    from keras import layers

    from digit_recognizer.augment import augmentation

    inputs = keras.Input((28, 28, 1))
    x = augmentation(rotation_degrees=10, zoom=0.1, shift=0.1,
                     stroke_width_rate=0)(inputs)  # the recipe has no stroke-width augmentation
    for filters, kernel in ((32, 5), (64, 3)):
        x = layers.Conv2D(filters, kernel, padding="same", activation="relu")(x)
        x = layers.Conv2D(filters, kernel, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
        x = layers.Dropout(0.25)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    model = keras.Model(inputs, layers.Dense(10, activation="softmax")(x), name="reference")
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def shifted(images: np.ndarray, down: int, right: int) -> np.ndarray:
    """Images moved by whole pixels, black coming in at the edges."""
    out = np.zeros_like(images)
    rows, cols = images.shape[1], images.shape[2]
    out[:, max(down, 0):rows + min(down, 0), max(right, 0):cols + min(right, 0)] = \
        images[:, max(-down, 0):rows + min(-down, 0), max(-right, 0):cols + min(-right, 0)]
    return out


def run_job(job: str, seed: int, smoke: bool, data_dir: str, hyperparameters_file: str) -> dict:
    """Train one model (or ensemble), score it, time a 28,000-digit prediction; returns the figures."""
    import keras

    from digit_recognizer import config, data, features, prediction, training, tuning

    profile = config.get_profile("smoke" if smoke else "full" if job == "reference" else job)
    raw = data.load_data(data_dir or None)
    if raw.y_test is None:
        raise SystemExit(f"{raw.files.folder} has no test_labels.csv: nothing to score against")
    dataset = features.prepare_dataset(raw, profile.validation_fraction, seed, profile.max_train_images)
    hyperparameters = tuning.load_best_hyperparameters(hyperparameters_file) if hyperparameters_file else None
    extra = {}
    if job in ENSEMBLE_JOBS and profile.tune and not hyperparameters_file:
        hyperparameters, extra["search_seconds"] = search(profile, dataset, seed)
        extra["hyperparameters"] = hyperparameters
    training.set_determinism(seed)
    start = time.perf_counter()
    if job == "reference":
        model = reference_model()
        halve_lr = keras.callbacks.ReduceLROnPlateau(monitor="val_accuracy", patience=3, factor=0.5,
                                                     min_lr=1e-5)
        history = model.fit(dataset.x_train, dataset.y_train, batch_size=86, epochs=1 if smoke else 30,
                            validation_data=(dataset.x_valid, dataset.y_valid), callbacks=[halve_lr],
                            verbose=2)
        epochs = len(history.epoch)
    else:
        model, histories, _, _ = training.train_ensemble(hyperparameters, dataset, profile, seed)
        epochs = sum(len(h) for h in histories)
    train_seconds = time.perf_counter() - start
    held_out = score(dataset.y_test, prediction.predict_probabilities(model, dataset.x_test).argmax(axis=1))
    if job in ENSEMBLE_JOBS:
        members = prediction.ensemble_members(model)
        extra["member_errors"] = [score(dataset.y_test, prediction.predict_probabilities(m, dataset.x_test)
                                        .argmax(axis=1))["errors"] for m in members]
        views = [prediction.predict_probabilities(model, shifted(dataset.x_test, down, right))
                 for down, right in TTA_SHIFTS]
        extra["tta_errors"] = score(dataset.y_test, sum(views).argmax(axis=1))["errors"]
    kaggle_sized = np.resize(dataset.x_test, (KAGGLE_TEST_ROWS, *dataset.x_test.shape[1:]))
    start = time.perf_counter()
    prediction.predict_probabilities(model, kaggle_sized)
    predict_seconds = time.perf_counter() - start
    return {
        "job": job, "seed": seed, "test_images": held_out["images"],
        "accuracy": held_out["accuracy"], "errors": held_out["errors"],
        "train_seconds": round(train_seconds, 1), "epochs": epochs,
        "images_per_second": round(epochs * len(dataset.x_train) / train_seconds, 1),
        "predict_28000_seconds": round(predict_seconds, 2),
        "peak_memory_mb": peak_memory_mb(),
        **extra,
    }


def search(profile, dataset, seed: int) -> tuple[dict, float]:
    """The profile's search, as notebook 03 runs it, in a folder of its own: (best values, seconds)."""
    from digit_recognizer import training, tuning

    training.set_determinism(seed)
    with tempfile.TemporaryDirectory(prefix="bench-search-") as folder:
        tuner = tuning.make_tuner(profile, Path(folder), seed)
        start = time.perf_counter()
        tuning.search(tuner, dataset, profile)
        seconds = time.perf_counter() - start
        return tuning.best_hyperparameters(tuner), round(seconds, 1)


def spawn(job: str, seed: int, smoke: bool, data_dir: str, hyperparameters_file: str) -> dict:
    """Run one job in a fresh process, its output shown as it comes; its last line is the JSON result."""
    command = [sys.executable, __file__, "--job", job, "--seeds", str(seed), "--data-dir", data_dir,
               "--hyperparameters", hyperparameters_file]
    print(f"==> {job}, seed {seed}", flush=True)
    last = ""
    with subprocess.Popen(command + (["--smoke"] if smoke else []), stdout=subprocess.PIPE, text=True,
                          env=os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2"}) as child:
        for line in child.stdout:
            if last:
                print(f"    {last}", end="", flush=True)
            last = line
    if child.returncode:
        raise SystemExit(f"{job} (seed {seed}) failed with exit code {child.returncode}")
    return json.loads(last)


# What makes a record reusable: the code that trains and measures, and the lock file of library versions.
CODE_FILES = ["requirements.txt", "benchmarks/bench.py", "digit_recognizer/*.py"]


def code_fingerprint(root: Path = PROJECT_DIR) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for pattern in CODE_FILES for p in root.glob(pattern)):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def data_fingerprint(data_dir: str) -> str:
    from digit_recognizer import data

    hashes = data.file_hashes(data.locate_data(data_dir or None))
    return hashlib.sha256(json.dumps(hashes, sort_keys=True).encode()).hexdigest()[:16]


def run_identity(args) -> dict:
    """What a record must share with this run to be reused instead of run again."""
    given = Path(args.hyperparameters).read_bytes() if args.hyperparameters else b""
    return {"code": code_fingerprint(), "data": data_fingerprint(args.data_dir), "smoke": args.smoke,
            "hyperparameters_file": hashlib.sha256(given).hexdigest()[:16] if given else ""}


def on_record(records: list[dict], job: str, seed: int, identity: dict) -> dict | None:
    return next((r for r in records if r["job"] == job and r["seed"] == seed
                 and all(r.get(k) == v for k, v in identity.items())), None)


def results_files(results_dir: str | Path, name: str) -> tuple[Path, Path]:
    suffix = f"-{name}" if name else ""
    return Path(results_dir) / f"RESULTS{suffix}.md", Path(results_dir) / f"results{suffix}.json"


def default_name(data_dir: str) -> str:
    return Path(data_dir).resolve().name.removeprefix("mnist-") if data_dir else ""


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def summarize(values: list[float], digits: int) -> str:
    mean = f"{np.mean(values):.{digits}f}"
    return mean if len(values) == 1 else f"{mean} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def report(results: list[dict], command: str, smoke: bool) -> str:
    seeds = sorted({r["seed"] for r in results})
    columns = [("accuracy", "held-out accuracy", 4), ("errors", "errors", 1),
               ("train_seconds", "training s", 0), ("search_seconds", "search s", 0),
               ("images_per_second", "training images/s", 0),
               ("predict_28000_seconds", "predict 28,000 s", 2), ("peak_memory_mb", "peak MB", 0)]
    if not any("search_seconds" in r for r in results):
        columns = [c for c in columns if c[0] != "search_seconds"]
    commits = sorted({(r.get("commit") or "unknown")[:7] + (" + changes" if r.get("dirty") else "")
                      for r in results})
    test_images = ", ".join(sorted({f"{r['test_images']:,}" for r in results}))
    lines = [
        "# Benchmark: reference recipe vs this project"
        + (" (smoke run, not a measurement)" if smoke else ""),
        "",
        f"Command: `{command}`  ",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  ",
        f"Commit: {', '.join(commits)}; held-out test images: {test_images}  ",
        f"Machine: {os.cpu_count()} cores, {cpu_model()}, {platform.system()} {platform.machine()}  ",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in library_versions().items()) + "  ",
        f"Seeds: {', '.join(map(str, seeds))}; figures are the mean, with the range over seeds in brackets.",
        "",
        "| model | " + " | ".join(title for _, title, _ in columns) + " |",
        "| --- |" + " --- |" * len(columns),
    ]
    for job in sorted({r["job"] for r in results}, key=JOBS.index):
        rows = [r for r in results if r["job"] == job]
        lines.append(f"| {job} | " + " | ".join(summarize([r[key] for r in rows if key in r], digits)
                                                 if any(key in r for r in rows) else "-"
                                                 for key, _, digits in columns) + " |")
    lines += ["", *step_gains(results), "", "Per seed:", "", "```",
              *(json.dumps(r, sort_keys=True) for r in results), "```", ""]
    return "\n".join(lines)


def step_gains(results: list[dict]) -> list[str]:
    """Held-out errors as each step is added, all from the runs above (mean over seeds)."""
    from digit_recognizer.config import get_profile

    def mean(job, value):
        rows = [value(r) for r in results if r["job"] == job]
        return f"{np.mean(rows):.1f}" if rows else "-"

    fast, full_profile = get_profile("fast"), get_profile("full")
    full = [r for r in results if r["job"] == "full"]
    members = len(full[0]["member_errors"]) if full else 0
    lines = ["What each step gains, in held-out errors (mean over seeds):", "",
             "| step | errors |", "| --- | --- |"]
    if any(r["job"] == "reference" for r in results):
        lines.append(f"| reference recipe (30 epochs) | {mean('reference', lambda r: r['errors'])} |")
    if any(r["job"] == "fast" for r in results):
        lines.append(f"| fast profile: the project's CNN and augmentation, one model, {fast.train_epochs} "
                     f"epochs | {mean('fast', lambda r: r['errors'])} |")
    if full:
        lines += [f"| full profile, one member alone ({full_profile.train_epochs} epochs; mean of its "
                  f"{members}) | {mean('full', lambda r: np.mean(r['member_errors']))} |",
                  f"| full profile: the {members} members' softmax averaged "
                  f"| {mean('full', lambda r: r['errors'])} |",
                  f"| full profile with test-time augmentation ({len(TTA_SHIFTS)} shifted views; not used) "
                  f"| {mean('full', lambda r: r['tta_errors'])} |"]
    if any(r["job"] == "tuned" for r in results):
        lines += ["| tuned profile's first member: searched hyperparameters, otherwise the full profile's "
                  f"first member | {mean('tuned', lambda r: r['member_errors'][0])} |",
                  "| (the full profile's first member: the search space's defaults) "
                  f"| {mean('full', lambda r: r['member_errors'][0])} |",
                  f"| tuned profile: its members averaged | {mean('tuned', lambda r: r['errors'])} |"]
    return lines + ["", *targets(results)]


# (job, figure, bound relative to the reference, how the figure is named in words)
TARGETS = (("full", "errors", 0.65, "errors"), ("full", "job_seconds", 3.0, "time (search and training)"),
           ("fast", "errors", 1.0, "errors"), ("fast", "train_seconds", 0.5, "training time"))
PREDICT_SECONDS_TARGET = 10.0


def targets(results: list[dict]) -> list[str]:
    """Each target of the project against the reference recipe, met or not (means over seeds)."""
    def mean(job, key):
        rows = [r["train_seconds"] + r.get("search_seconds", 0) if key == "job_seconds" else r[key]
                for r in results if r["job"] == job]
        return float(np.mean(rows)) if rows else None

    lines = ["Targets (means over seeds; the bound is a multiple of the reference recipe's figure):", "",
             "| target | measured | bound | met |", "| --- | --- | --- | --- |"]
    for job, key, factor, words in TARGETS:
        reference = mean("reference", "errors" if key == "errors" else "train_seconds")
        measured = mean(job, key)
        if reference is None or measured is None:
            continue
        digits = 1 if key == "errors" else 0
        lines.append(f"| {job} {words} at most {factor:g} x the reference's | {measured:.{digits}f} "
                     f"({measured / reference:.2f} x) | {factor * reference:.{digits}f} "
                     f"| {'yes' if measured <= factor * reference else 'NO'} |")
    if (predict := mean("full", "predict_28000_seconds")) is not None:
        bound = PREDICT_SECONDS_TARGET
        lines.append(f"| full predicts 28,000 digits in under {bound:g} s | {predict:.2f} s | {bound:g} s "
                     f"| {'yes' if predict < bound else 'NO'} |")
    return lines if len(lines) > 4 else []


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--smoke", action="store_true", help="tiny run that checks the benchmark itself")
    parser.add_argument("--data-dir", default="", help="a Kaggle-layout folder with test_labels.csv")
    parser.add_argument("--hyperparameters", default="",
                        help="a best_hyperparameters.json to train the project's models with, no search; "
                             "default: the tuned job searches, the others train the defaults")
    parser.add_argument("--name", default=None, help="results file suffix; default: from the data folder")
    parser.add_argument("--results-dir", default=str(PROJECT_DIR / "benchmarks"))
    parser.add_argument("--jobs", nargs="+", choices=JOBS, default=list(DEFAULT_JOBS),
                        help=f"default: {' '.join(DEFAULT_JOBS)}")
    parser.add_argument("--job", choices=JOBS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.job:
        print(json.dumps(run_job(args.job, args.seeds[0], args.smoke, args.data_dir, args.hyperparameters)),
              flush=True)
        return 0
    report_file, records_file = results_files(args.results_dir, default_name(args.data_dir)
                                              if args.name is None else args.name)
    command = "python benchmarks/bench.py " + " ".join(argv if argv is not None else sys.argv[1:])
    identity = run_identity(args)
    records = read_json(records_file) if records_file.is_file() else []
    for seed in args.seeds:
        for job in (j for j in JOBS if j in args.jobs):
            if found := on_record(records, job, seed, identity):
                print(f"==> {job}, seed {seed}: on record from {found['date']}, skipped", flush=True)
                continue
            record = spawn(job, seed, args.smoke, args.data_dir, args.hyperparameters)
            record |= identity | git_state() | {"date": now()}
            records = [r for r in records if (r["job"], r["seed"]) != (job, seed)] + [record]
            write_json(records, records_file)  # at once: a run cut short keeps every finished job
            write_report(records, command.strip(), args.smoke, report_file)
    text = write_report(records, command.strip(), args.smoke, report_file)
    print(text)
    return 0


def write_report(records: list[dict], command: str, smoke: bool, path: Path) -> str:
    ordered = sorted(records, key=lambda r: (r["seed"], JOBS.index(r["job"])))
    text = report(ordered, command, smoke)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return text


if __name__ == "__main__":
    raise SystemExit(main())
