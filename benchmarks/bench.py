"""Side by side, same data, same machine: the public Keras reference recipe against this project's
fast and full profiles.

    python benchmarks/bench.py [--seeds 42 43 44] [--jobs reference fast full] [--hyperparameters FILE]
                               [--smoke] [--output benchmarks/RESULTS.md]

For each seed, every model trains on the same seeded split of the data (the embedded sample, or the
`--data-dir` folder, which needs a test_labels.csv) and is scored on the held-out test labels. Each
training runs in a process of its own, so its peak memory is its own. The project's models use the
search space's defaults, or the hyperparameters in FILE (a search's best_hyperparameters.json).
The full profile's record also scores each ensemble member alone and the ensemble with test-time
augmentation, so the gain of each step is measured on the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from digit_recognizer.config import PROJECT_DIR
from digit_recognizer.files import atomic_path
from digit_recognizer.manifest import library_versions
from digit_recognizer.memory import peak_memory_mb
from digit_recognizer.scoring import score
from digit_recognizer.submission import KAGGLE_TEST_ROWS

JOBS = ("reference", "fast", "full")
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
    training.set_determinism(seed)
    extra = {}
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
    if job == "full":
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


def spawn(job: str, seed: int, smoke: bool, data_dir: str, hyperparameters_file: str) -> dict:
    """Run one job in a fresh process; its last output line is the JSON result."""
    command = [sys.executable, __file__, "--job", job, "--seeds", str(seed), "--data-dir", data_dir,
               "--hyperparameters", hyperparameters_file]
    print(f"==> {job}, seed {seed}", flush=True)
    done = subprocess.run(command + (["--smoke"] if smoke else []), stdout=subprocess.PIPE, text=True,
                          env=os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2"})
    if done.returncode:
        raise SystemExit(f"{job} (seed {seed}) failed with exit code {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


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
               ("train_seconds", "training s", 0), ("images_per_second", "training images/s", 0),
               ("predict_28000_seconds", "predict 28,000 s", 2), ("peak_memory_mb", "peak MB", 0)]
    lines = [
        "# Benchmark: reference recipe vs this project"
        + (" (smoke run, not a measurement)" if smoke else ""),
        "",
        f"Command: `{command}`  ",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {os.cpu_count()} cores, {cpu_model()}, {platform.system()} {platform.machine()}  ",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in library_versions().items()) + "  ",
        f"Seeds: {', '.join(map(str, seeds))}; figures are the mean, with the range over seeds in brackets.",
        "",
        "| model | " + " | ".join(title for _, title, _ in columns) + " |",
        "| --- |" + " --- |" * len(columns),
    ]
    for job in sorted({r["job"] for r in results}, key=JOBS.index):
        rows = [r for r in results if r["job"] == job]
        lines.append(f"| {job} | " + " | ".join(summarize([r[key] for r in rows], digits)
                                                 for key, _, digits in columns) + " |")
    lines += ["", *step_gains(results), "", "Per seed:", "", "```",
              *(json.dumps(r, sort_keys=True) for r in results), "```", ""]
    return "\n".join(lines)


def step_gains(results: list[dict]) -> list[str]:
    """Held-out errors as each step is added, all from the runs above (mean over seeds)."""
    def mean(job, value):
        rows = [value(r) for r in results if r["job"] == job]
        return f"{np.mean(rows):.1f}" if rows else "-"

    full = [r for r in results if r["job"] == "full"]
    members = len(full[0]["member_errors"]) if full else 0
    reference_seconds = [r["train_seconds"] for r in results if r["job"] == "reference"]
    fast_seconds = [r["train_seconds"] for r in results if r["job"] == "fast"]
    lines = ["What each step gains, in held-out errors (mean over seeds):", "",
             "| step | errors |", "| --- | --- |"]
    if reference_seconds:
        lines.append(f"| reference recipe (30 epochs) | {mean('reference', lambda r: r['errors'])} |")
    if fast_seconds:
        lines.append("| fast profile: the project's CNN and augmentation, one model "
                     f"| {mean('fast', lambda r: r['errors'])} |")
    if full:
        lines += [f"| full profile, one member alone (mean of its {members}) "
                  f"| {mean('full', lambda r: np.mean(r['member_errors']))} |",
                  f"| full profile: the {members} members' softmax averaged "
                  f"| {mean('full', lambda r: r['errors'])} |",
                  f"| full profile with test-time augmentation ({len(TTA_SHIFTS)} shifted views; not used) "
                  f"| {mean('full', lambda r: r['tta_errors'])} |"]
    if reference_seconds and fast_seconds:
        lines += ["", f"The fast profile trains in {np.mean(fast_seconds) / np.mean(reference_seconds):.0%} "
                      "of the reference recipe's time."]
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--smoke", action="store_true", help="tiny run that checks the benchmark itself")
    parser.add_argument("--data-dir", default="", help="a Kaggle-layout folder with test_labels.csv")
    parser.add_argument("--hyperparameters", default="",
                        help="a best_hyperparameters.json to train the project's models with; "
                             "default: the search space's defaults")
    parser.add_argument("--output", default=str(PROJECT_DIR / "benchmarks" / "RESULTS.md"))
    parser.add_argument("--jobs", nargs="+", choices=JOBS, default=list(JOBS), help="default: all three")
    parser.add_argument("--job", choices=JOBS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.job:
        print(json.dumps(run_job(args.job, args.seeds[0], args.smoke, args.data_dir, args.hyperparameters)),
              flush=True)
        return 0
    results = [spawn(job, seed, args.smoke, args.data_dir, args.hyperparameters)
               for seed in args.seeds for job in JOBS if job in args.jobs]
    command = "python benchmarks/bench.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = report(results, command.strip(), args.smoke)
    with atomic_path(args.output) as tmp:
        tmp.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
