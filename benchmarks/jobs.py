"""One benchmark job: train one model (or ensemble) on a seeded split, score it on the held-out digits and
time a 28,000-digit prediction. `bench.py` runs each job in a process of its own:

    python benchmarks/jobs.py JOB SEED [--data-dir DIR] [--hyperparameters FILE] [--smoke]
    python benchmarks/jobs.py reference SEED --timed-epochs K [--data-dir DIR] [--smoke]
    python benchmarks/jobs.py --probe JOB [JOB ...] [--hyperparameters FILE] [--smoke]

prints the job's figures (or each job's probe) as one JSON line, last. A record stays valid as long as its
job computes the same thing: `probe(job)` runs the job's own code (loading, split, model, training,
search, prediction) in miniature, seeded, on a few hundred digits of the embedded sample, and returns its
predicted probabilities. A refactor that computes the same leaves them unchanged; a change to what a job
computes moves them far past the float noise between CPUs (`same_computation`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

JOBS = ("reference", "fast", "full", "tuned")
ENSEMBLE_JOBS = ("full", "tuned")
TUNED_PROFILE = {"tuned": "full"}  # the job that searches first, and the profile it runs
TTA_SHIFTS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))  # pixels (down, right)
SEARCH_DIR = Path(__file__).resolve().parent.parent / "build" / "bench-search"  # the tuned job's, by seed
REFERENCE_VALIDATION_FRACTION = 0.1  # the public recipe's split, whatever the project's profiles use
REFERENCE_EPOCHS = 30
# A sitting whose reference record stands times only this many of its epochs (the first, which also builds
# and traces the model, then steady ones) and scales them to all 30 (`time_reference`).
REFERENCE_TIMED_EPOCHS = 3
# The probe: the job in miniature, on the embedded sample. Two epochs, so a schedule's shape counts too.
PROBE_SEED = 0
PROBE_LABELLED_IMAGES = 1000  # the sample's first: split as the job splits, then capped
PROBE_TRAIN_IMAGES = 256
PROBE_TEST_IMAGES = 32
PROBE_EPOCHS = 2
# Probabilities that differ by less are the same computation (float noise between CPUs and instruction sets
# is about 1e-6 after two epochs); a changed recipe moves them by far more.
PROBE_TOLERANCE = 1e-3


def reference_model():
    """The best-known public Keras recipe for this competition."""
    import keras
    from keras import layers

    from digit_recognizer.modeling.augment import augmentation

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


def train_reference(dataset, seed: int, smoke: bool, epochs: int | None = None, callbacks=()):
    """The recipe's training: batch 86, 30 epochs, learning rate halved on a plateau. Returns
    (model, epochs)."""
    import keras

    from digit_recognizer.plumbing.runtime import set_determinism

    set_determinism(seed)
    model = reference_model()
    halve_lr = keras.callbacks.ReduceLROnPlateau(monitor="val_accuracy", patience=3, factor=0.5, min_lr=1e-5)
    history = model.fit(dataset.x_train, dataset.y_train, batch_size=86,
                        epochs=epochs or reference_epochs(smoke),
                        validation_data=(dataset.x_valid, dataset.y_valid), callbacks=[halve_lr, *callbacks],
                        verbose=2)
    return model, len(history.epoch)


def reference_epochs(smoke: bool) -> int:
    return 1 if smoke else REFERENCE_EPOCHS


def scaled_time(stamps: list[tuple[float, float]], epochs: int) -> tuple[float, float]:
    """(wall, CPU) seconds of `epochs` epochs from (wall, CPU) clock readings at the start and at the end
    of each epoch timed: the first epoch (it also builds and traces the model) once, the mean of the
    others for each epoch left."""
    spans = np.diff(np.asarray(stamps, dtype=float), axis=0)  # (wall, CPU) of each epoch timed
    steady = spans[1:] if len(spans) > 1 else spans
    wall, cpu = spans[0] + (epochs - 1) * steady.mean(axis=0)
    return float(wall), float(cpu)


def time_reference(seed: int, smoke: bool, data_dir: str, timed_epochs: int = REFERENCE_TIMED_EPOCHS,
                   epochs: int | None = None) -> dict:
    """The reference's training time in this sitting, on the seed's split, from its first `timed_epochs`
    epochs scaled to all of them (`scaled_time`), for a sitting whose reference record stands: its
    errors are on record, made from the same inputs by the same code (its probe)."""
    import keras

    from digit_recognizer import features
    from digit_recognizer.dataset import loading

    epochs = epochs or reference_epochs(smoke)
    validation_fraction, max_train_images = split_settings("reference", smoke)
    dataset = features.prepare_dataset(loading.load_data(data_dir or None), validation_fraction, seed,
                                       max_train_images)
    stamps = [(time.perf_counter(), time.process_time())]
    clock = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: stamps.append((time.perf_counter(), time.process_time())))
    train_reference(dataset, seed, smoke, epochs=min(timed_epochs, epochs), callbacks=[clock])
    wall, cpu = scaled_time(stamps, epochs)
    return {"job": "reference", "seed": seed, "timed_epochs": len(stamps) - 1, "epochs": epochs,
            "train_seconds": round(wall, 1), "train_cpu_seconds": round(cpu, 1),
            "epoch_seconds": np.diff([wall for wall, _ in stamps]).round(1).tolist()}


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
    from digit_recognizer import features
    from digit_recognizer.dataset import loading
    from digit_recognizer.modeling import prediction
    from digit_recognizer.modeling.prediction import score
    from digit_recognizer.plumbing.memory import peak_memory_mb
    from digit_recognizer.submission import KAGGLE_TEST_ROWS

    raw = loading.load_data(data_dir or None)
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
    }


def train_project(job: str, dataset, seed: int, smoke: bool, hyperparameters_file: str, shrink=None):
    """What `make run PROFILE=<job>` trains: the given hyperparameters, else the tuned job's search, else
    the defaults; `shrink` makes the profile a probe's. Returns (model, epochs, (training seconds, its CPU
    seconds), extra figures)."""
    from digit_recognizer.modeling import prediction, training
    from digit_recognizer.plumbing.files import read_json

    profile = job_profile(job, smoke)
    profile = shrink(profile) if shrink else profile
    hyperparameters = read_json(hyperparameters_file) if hyperparameters_file else None
    extra = {}
    if job in TUNED_PROFILE and not hyperparameters_file:
        with search_folder(seed, shrink is not None) as folder:
            hyperparameters, extra["search_seconds"], extra["confirmation"] = search(profile, dataset, seed,
                                                                                      folder)
        extra["hyperparameters"] = hyperparameters
    scoring = []  # the first round's held-out errors, and the seconds scoring took (not training time)

    def score_first_round(first):
        wall, cpu = time.perf_counter(), time.process_time()
        predicted = prediction.predict_probabilities(first, dataset.x_test).argmax(axis=1)
        scoring.append((prediction.score(dataset.y_test, predicted)["errors"], time.perf_counter() - wall,
                        time.process_time() - cpu))

    scored = score_first_round if dataset.y_test is not None else None
    (model, histories, _, _), (wall, cpu) = timed(training.train_ensemble, hyperparameters, dataset, profile,
                                                  seed, 2, None, None, scored)
    if scoring:
        extra["first_round_errors"] = scoring[0][0]
        wall, cpu = wall - scoring[0][1], cpu - scoring[0][2]
    return model, sum(len(h) for h in histories), (wall, cpu), extra


def timed(function, *args):
    """(function's result, (wall-clock seconds, CPU seconds of this process, every thread)). The CPU time
    shows when the machine, not the job, was slow: on a shared host the wall clock also counts time the
    job waited for a CPU."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return result, (time.perf_counter() - wall, time.process_time() - cpu)


def search(profile, dataset, seed: int, folder: Path) -> tuple[dict, float, dict]:
    """The profile's search and its confirmation, as notebook 03 runs them, in `folder` (a killed search
    or confirmation resumes there): (the adopted values, their seconds, the confirmation's decision)."""
    from digit_recognizer.modeling import confirmation, training, tuning

    training.set_determinism(seed)
    tuner = tuning.make_tuner(profile, folder, seed, dataset.source)
    start = time.perf_counter()
    tuning.search(tuner, dataset, profile)
    confirmed = confirmation.confirm(tuner, dataset, profile, seed)
    seconds = time.perf_counter() - start
    decision = {"adopted": confirmed["adopted"], "p_value": confirmed["p_value"],
                "reason": confirmed["reason"],
                "confirmed_errors": {e["name"]: e["errors"] for e in confirmed["entries"]}}
    return confirmed["adopted_values"], round(seconds, 1), decision


@contextlib.contextmanager
def search_folder(seed: int, probe: bool):
    """Where the tuned job searches: for a job a folder under build/ that outlives a killed job (the next
    run resumes its search and confirmation), removed once the job is done; for a probe a temporary one."""
    if probe:
        with tempfile.TemporaryDirectory(prefix="bench-search-") as folder:
            yield Path(folder)
        return
    folder = Path(SEARCH_DIR) / f"seed-{seed}"
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def probe_profile(profile):
    """A project job's profile shrunk to a probe: the same code paths (ensemble, search), little work."""
    return replace(profile, max_train_images=PROBE_TRAIN_IMAGES, train_epochs=PROBE_EPOCHS, max_epochs=2,
                   max_trials=2, ensemble_size=min(profile.ensemble_size, 2),
                   pseudo_label_epochs=min(profile.pseudo_label_epochs, 1))


def probe(job: str, smoke: bool, hyperparameters_file: str = "") -> list[list[float]]:
    """What the job computes, in miniature: its loading, split, training (its search first, for tuned) and
    prediction, seeded, on the embedded sample; the predicted probabilities of the first test digits."""
    from digit_recognizer import features
    from digit_recognizer.dataset import loading
    from digit_recognizer.modeling import prediction

    raw = loading.load_data("sample")
    labelled = slice(PROBE_LABELLED_IMAGES)
    raw = replace(raw, x_train=raw.x_train[labelled], y_train=raw.y_train[labelled])
    validation_fraction, _ = split_settings(job, smoke)
    dataset = features.prepare_dataset(raw, validation_fraction, PROBE_SEED, PROBE_TRAIN_IMAGES)
    if job == "reference":
        model, _ = train_reference(dataset, PROBE_SEED, smoke, epochs=PROBE_EPOCHS)
    else:
        model, *_ = train_project(job, dataset, PROBE_SEED, smoke, hyperparameters_file, shrink=probe_profile)
    probabilities = prediction.predict_probabilities(model, dataset.x_test[:PROBE_TEST_IMAGES])
    return np.round(probabilities.astype(np.float64), 6).tolist()


def same_computation(recorded, probed) -> bool:
    """Whether two probes are the same computation: every probability within PROBE_TOLERANCE."""
    if not isinstance(recorded, list) or np.shape(recorded) != np.shape(probed):
        return False
    return bool(np.max(np.abs(np.asarray(recorded) - np.asarray(probed))) <= PROBE_TOLERANCE)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("job", nargs="?", choices=JOBS)
    parser.add_argument("seed", nargs="?", type=int)
    parser.add_argument("--probe", nargs="+", choices=JOBS, default=[], help="the jobs to probe, no job run")
    parser.add_argument("--data-dir", default="")
    parser.add_argument("--hyperparameters", default="")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--timed-epochs", type=int, default=None,
                        help="reference only: time its first K epochs and scale them to all, no scoring")
    args = parser.parse_args(argv)
    if args.probe:
        probes = {job: probe(job, args.smoke, args.hyperparameters) for job in args.probe}
        print(json.dumps(probes), flush=True)
        return 0
    if args.job is None or args.seed is None:
        parser.error("JOB and SEED, or --probe JOB ...")
    if args.timed_epochs is not None:
        if args.job != "reference" or args.timed_epochs < 1:
            parser.error("--timed-epochs: at least 1, and only for the reference")
        print(json.dumps(time_reference(args.seed, args.smoke, args.data_dir, args.timed_epochs)), flush=True)
        return 0
    figures = run_job(args.job, args.seed, args.smoke, args.data_dir, args.hyperparameters)
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
