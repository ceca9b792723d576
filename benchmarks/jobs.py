"""One benchmark job: train one model (or ensemble) on a seeded split, score it on the held-out digits and
time a 28,000-digit prediction. `bench.py` runs each job in a process of its own:

    python benchmarks/jobs.py JOB SEED [--data-dir DIR] [--hyperparameters FILE] [--smoke]

prints the job's figures as one JSON line, last. `fingerprint(job)` names the code a job runs, so a record
stays reusable until that code changes: the reference recipe's record survives a change of the project's
profiles, and a profile's record a change of another profile.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PROJECT_DIR = Path(__file__).resolve().parent.parent
PACKAGE = "digit_recognizer"
JOBS = ("reference", "fast", "full", "tuned")
ENSEMBLE_JOBS = ("full", "tuned")
TUNED_PROFILE = {"tuned": "full"}  # the job that searches first, and the profile it runs
TTA_SHIFTS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))  # pixels (down, right)
REFERENCE_VALIDATION_FRACTION = 0.1  # the public recipe's split, whatever the project's profiles use
# The package modules each kind of job imports; the fingerprint follows their imports from there.
REFERENCE_MODULES = ("config", "data", "features", "augment", "prediction", "scoring", "memory", "runtime",
                     "submission")
PROJECT_MODULES = (*REFERENCE_MODULES, "training", "tuning")
# Stands in the fingerprint as the job's own profile, not as source: a change to one profile leaves the
# other jobs' records valid.
PROFILES_MODULE = "profiles"


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


def train_reference(dataset, seed: int, smoke: bool):
    """The recipe's training: batch 86, 30 epochs, learning rate halved on a plateau. Returns
    (model, epochs)."""
    import keras

    from digit_recognizer.runtime import set_determinism

    set_determinism(seed)
    model = reference_model()
    halve_lr = keras.callbacks.ReduceLROnPlateau(monitor="val_accuracy", patience=3, factor=0.5, min_lr=1e-5)
    history = model.fit(dataset.x_train, dataset.y_train, batch_size=86, epochs=1 if smoke else 30,
                        validation_data=(dataset.x_valid, dataset.y_valid), callbacks=[halve_lr], verbose=2)
    return model, len(history.epoch)


def job_profile(job: str, smoke: bool):
    """The profile a project job runs (`make run PROFILE=<job>`; tuned: `make run TUNE=1`, profile full);
    None for the reference recipe."""
    from digit_recognizer.profiles import get_profile

    return None if job == "reference" else get_profile("smoke" if smoke else TUNED_PROFILE.get(job, job))


def split_settings(job: str, smoke: bool) -> tuple[float, int | None]:
    """(validation fraction, training images) of the job's split of the labelled digits."""
    from digit_recognizer.profiles import get_profile

    smoke_images = get_profile("smoke").max_train_images if smoke else None
    if job == "reference":
        return REFERENCE_VALIDATION_FRACTION, smoke_images
    profile = job_profile(job, smoke)
    return profile.validation_fraction, profile.max_train_images


def shifted(images: np.ndarray, down: int, right: int) -> np.ndarray:
    """Images moved by whole pixels, black coming in at the edges."""
    out = np.zeros_like(images)
    rows, cols = images.shape[1], images.shape[2]
    out[:, max(down, 0):rows + min(down, 0), max(right, 0):cols + min(right, 0)] = \
        images[:, max(-down, 0):rows + min(-down, 0), max(-right, 0):cols + min(-right, 0)]
    return out


def run_job(job: str, seed: int, smoke: bool, data_dir: str, hyperparameters_file: str) -> dict:
    """Train, score, time a 28,000-digit prediction; returns the figures."""
    from digit_recognizer import data, features, prediction
    from digit_recognizer.memory import peak_memory_mb
    from digit_recognizer.scoring import score
    from digit_recognizer.submission import KAGGLE_TEST_ROWS

    raw = data.load_data(data_dir or None)
    if raw.y_test is None:
        raise SystemExit(f"{raw.files.folder} has no test_labels.csv: nothing to score against")
    validation_fraction, max_train_images = split_settings(job, smoke)
    dataset = features.prepare_dataset(raw, validation_fraction, seed, max_train_images)
    if job == "reference":
        (model, epochs), (train_seconds, train_cpu_seconds) = timed(train_reference, dataset, seed, smoke)
        extra = {}
    else:
        model, epochs, (train_seconds, train_cpu_seconds), extra = train_project(job, dataset, seed, smoke,
                                                                                hyperparameters_file)
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
        "job": job, "seed": seed, "test_images": held_out["images"], "train_images": len(dataset.x_train),
        "accuracy": held_out["accuracy"], "errors": held_out["errors"],
        "train_seconds": round(train_seconds, 1), "train_cpu_seconds": round(train_cpu_seconds, 1),
        "epochs": epochs,
        "images_per_second": round(epochs * len(dataset.x_train) / train_seconds, 1),
        "predict_28000_seconds": round(predict_seconds, 2),
        "peak_memory_mb": peak_memory_mb(),
        **extra,
        "modules": loaded_modules(),
    }


def train_project(job: str, dataset, seed: int, smoke: bool, hyperparameters_file: str):
    """What `make run PROFILE=<job>` trains: the given hyperparameters, else the tuned job's search, else
    the defaults. Returns (model, epochs, (training seconds, its CPU seconds), extra figures)."""
    from digit_recognizer import training
    from digit_recognizer.files import read_json

    profile = job_profile(job, smoke)
    hyperparameters = read_json(hyperparameters_file) if hyperparameters_file else None
    extra = {}
    if job in TUNED_PROFILE and not hyperparameters_file:
        hyperparameters, extra["search_seconds"] = search(profile, dataset, seed)
        extra["hyperparameters"] = hyperparameters
    (model, histories, _, _), seconds = timed(training.train_ensemble, hyperparameters, dataset, profile,
                                              seed)
    return model, sum(len(h) for h in histories), seconds, extra


def timed(function, *args):
    """(function's result, (wall-clock seconds, CPU seconds of this process, every thread)). The CPU time
    shows when the machine, not the job, was slow: on a shared host the wall clock also counts time the
    job waited for a CPU."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return result, (time.perf_counter() - wall, time.process_time() - cpu)


def search(profile, dataset, seed: int) -> tuple[dict, float]:
    """The profile's search, as notebook 03 runs it, in a folder of its own: (best values, seconds)."""
    from digit_recognizer import training, tuning

    training.set_determinism(seed)
    with tempfile.TemporaryDirectory(prefix="bench-search-") as folder:
        tuner = tuning.make_tuner(profile, Path(folder), seed, dataset.source)
        start = time.perf_counter()
        tuning.search(tuner, dataset, profile)
        seconds = time.perf_counter() - start
        return tuning.best_hyperparameters(tuner), round(seconds, 1)


def loaded_modules() -> list[str]:
    """The package's modules this process imported: `bench.py` checks the fingerprint covered them."""
    return sorted(name.removeprefix(f"{PACKAGE}.") for name in sys.modules if name.startswith(f"{PACKAGE}."))


def package_imports(module: str, root: Path = PROJECT_DIR) -> set[str]:
    """The package modules `module`'s source imports, anywhere in it (function-level imports too)."""
    imported = set()
    for node in ast.walk(ast.parse((root / PACKAGE / f"{module}.py").read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level == 1 or base == PACKAGE:
                names = [base] if node.level == 1 and base else [alias.name for alias in node.names]
                imported.update(names)
            elif base.startswith(f"{PACKAGE}."):
                imported.add(base.removeprefix(f"{PACKAGE}."))
        elif isinstance(node, ast.Import):
            imported.update(a.name.removeprefix(f"{PACKAGE}.") for a in node.names
                            if a.name.startswith(f"{PACKAGE}."))
    return {name for name in imported if (root / PACKAGE / f"{name}.py").is_file()}


def module_closure(modules, root: Path = PROJECT_DIR) -> set[str]:
    """`modules` and everything they import from the package, directly or not."""
    found, todo = set(), list(modules)
    while todo:
        module = todo.pop()
        if module not in found:
            found.add(module)
            todo.extend(package_imports(module, root))
    return found


def fingerprint_modules(job: str, root: Path = PROJECT_DIR) -> set[str]:
    return module_closure(REFERENCE_MODULES if job == "reference" else PROJECT_MODULES, root)


def fingerprint(job: str, smoke: bool, root: Path = PROJECT_DIR) -> str:
    """The code a job runs: the lock file, this script, the package modules it imports (but profiles.py)
    and, for a project job, its name (tuned searches first) and its profile's settings."""
    files = [root / "requirements.txt", root / "benchmarks" / "jobs.py", root / PACKAGE / "__init__.py"]
    files += [root / PACKAGE / f"{m}.py" for m in sorted(fingerprint_modules(job, root) - {PROFILES_MODULE})]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    if (profile := job_profile(job, smoke)) is not None:
        digest.update(job.encode() + json.dumps(profile.as_dict(), sort_keys=True).encode())
    return digest.hexdigest()[:16]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("job", choices=JOBS)
    parser.add_argument("seed", type=int)
    parser.add_argument("--data-dir", default="")
    parser.add_argument("--hyperparameters", default="")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    figures = run_job(args.job, args.seed, args.smoke, args.data_dir, args.hyperparameters)
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
