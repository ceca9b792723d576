"""Side by side, same data, same machine: the public Keras reference recipe against this project's
profiles.

    python benchmarks/bench.py [--seeds 42 43 44] [--jobs reference fast full tuned] [--data-dir DIR]
                               [--hyperparameters FILE] [--name NAME] [--results-dir DIR] [--smoke]

For each seed, every model trains on the same seeded split of the data (the embedded sample, or the
`--data-dir` folder, which needs a test_labels.csv) and is scored on the held-out test labels. Each job
runs in a process of its own, so its peak memory is its own, and does what `make run PROFILE=<job>` does:
fast and full train the search space's defaults; tuned (run only when asked for: `make run TUNE=1`,
profile full) first runs the full profile's search and its confirmation (notebook 03), timed together
apart as search_seconds and resumed by the next run if the job is killed, then trains the ensemble with
what was adopted. With `--hyperparameters
FILE` (a best_hyperparameters.json) every project job trains those instead, with no search. The ensemble
jobs' records also score each member alone and the ensemble with test-time augmentation, so the gain of
each step is measured in the same run, and the tuned job's first member is the full profile's with
adopted hyperparameters: the search's gain at the final training length.

Each record is written to `results[-NAME].json` as soon as its job ends, and the table
`RESULTS[-NAME].md` is generated from the records (never edit it by hand). Run again, a job whose record
was made from the same inputs is skipped: a run cut short loses only the job under way. A record's inputs
(`lineage`) are the data files, the job's profile, the library versions, any hyperparameters file, and
what the job computes: its probe (`jobs.probe`, the job in miniature on the sample), which a refactor
leaves as it was and a change of recipe moves. NAME defaults to the data folder's name without a leading
"mnist-" (`../shared/data/mnist-full` -> `full`), and to none for the embedded sample.

Times compare only within one sitting (one run of this script): machines, and the load on them, differ
between sittings. So whenever a seed's job runs, that seed's reference is timed in the same sitting unless
it already was, and the job's record keeps the reference's time beside it (`reference_train_seconds`),
which is what its time targets are measured against. Where the reference's record stands (same inputs,
same probe), its errors are not made again: only its first REFERENCE_TIMED_EPOCHS epochs are timed, and
scaled to its 30 (`jobs.time_reference`); `reference_timed_epochs` says how many were.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

from digit_recognizer.config import PROJECT_DIR
from digit_recognizer.dataset import checksums, locate
from digit_recognizer.manifest import git_state, library_versions
from digit_recognizer.plumbing import lineage
from digit_recognizer.plumbing.files import atomic_path, now, read_json, write_json

sys.path.insert(0, str(Path(__file__).resolve().parent))  # jobs.py, beside this file, also when imported
import jobs  # noqa: E402
from jobs import JOBS, TTA_SHIFTS  # noqa: E402

COMPUTING_LIBRARIES = ("tensorflow", "keras", "keras-tuner", "numpy", "scikit-learn")
DEFAULT_JOBS = JOBS[:3]  # tuned (the search, then the ensemble) only when asked for


REFERENCE_TIMING = "reference timing"  # a due job: the reference's first epochs timed (`jobs.time_reference`)


def spawn(job: str, seed: int, smoke: bool, data_dir: str, hyperparameters_file: str) -> dict:
    """Run one job (jobs.py) in a fresh process, its output shown as it comes; its last line is the JSON
    result."""
    timing = ["--timed-epochs", str(jobs.REFERENCE_TIMED_EPOCHS)] if job == REFERENCE_TIMING else []
    command = [sys.executable, str(Path(jobs.__file__)), "reference" if timing else job, str(seed),
               "--data-dir", data_dir, "--hyperparameters", hyperparameters_file, *timing]
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


def data_fingerprint(data_dir: str) -> str:
    hashes = checksums.file_hashes(locate.locate_data(data_dir or None))
    return lineage.fingerprint(hashes)[:16]


def probes(args, job_names: list[str]) -> dict[str, list]:
    """Each job's probe (`jobs.probe`), computed now in one fresh process."""
    command = [sys.executable, str(Path(jobs.__file__)), "--probe", *job_names,
               "--hyperparameters", args.hyperparameters] + (["--smoke"] if args.smoke else [])
    print(f"==> probing what {', '.join(job_names)} compute", flush=True)
    done = subprocess.run(command, capture_output=True, text=True,
                          env=os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2"})
    if done.returncode:
        raise SystemExit(f"probing {', '.join(job_names)} failed with exit code {done.returncode}:\n"
                         f"{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_inputs(args, job: str) -> dict:
    """What a record of `job` must have been made from to be reused (`lineage`), but for its probe: the
    data, the job's profile, the libraries that compute, and for the project's jobs any hyperparameters
    file given."""
    given = Path(args.hyperparameters).read_bytes() if args.hyperparameters and job != "reference" else b""
    profile = jobs.job_profile(job, args.smoke)
    versions = library_versions()
    return {"data": data_fingerprint(args.data_dir), "smoke": args.smoke,
            "profile": profile.as_dict() if profile else None,
            "versions": {name: versions[name] for name in COMPUTING_LIBRARIES},
            "hyperparameters_file": hashlib.sha256(given).hexdigest()[:16] if given else ""}


def why_not_reused(record: dict, inputs: dict, probe: list) -> str:
    """Why a record cannot stand for this run; "" if it can."""
    made_from = record.get("made_from")
    if not isinstance(made_from, dict) or not lineage.is_intact(made_from):
        return "it records no inputs, or they were edited"
    if not lineage.matches(made_from, inputs):
        return lineage.differences(made_from, inputs) or "other inputs"
    if not jobs.same_computation(record.get("probe"), probe):
        return "the job computes other results now (its probe moved)"
    return ""


def record_of(records: list[dict], job: str, seed: int) -> dict | None:
    return next((r for r in records if (r["job"], r["seed"]) == (job, seed)), None)


def due_jobs(args, records: list[dict], seed: int, selected: list[str], probed: dict, sitting: str) -> list:
    """The jobs of `seed` to run now: those with no record made from today's inputs, and with them the
    reference, timed again in this sitting if its record is from another, so that every time is compared
    with one measured beside it: its first epochs only (REFERENCE_TIMING) where that record stands."""
    due = []
    for job in selected:
        found = record_of(records, job, seed)
        if found and not (why := why_not_reused(found, run_inputs(args, job), probed[job])):
            print(f"==> {job}, seed {seed}: on record from {found['date']}, skipped", flush=True)
            continue
        if found:
            print(f"==> {job}, seed {seed}: the record from {found.get('date')} is retired ({why})",
                  flush=True)
        due.append(job)
    reference = record_of(records, "reference", seed)
    if due and "reference" not in due and (reference or {}).get("sitting") != sitting:
        stands = reference is not None and not why_not_reused(reference, run_inputs(args, "reference"),
                                                              probed["reference"])
        what = f"its first {jobs.REFERENCE_TIMED_EPOCHS} epochs timed" if stands else "timed again"
        print(f"==> reference, seed {seed}: {what}, beside {', '.join(due)} (its record is from "
              f"{(reference or {}).get('date', 'no run')}, another sitting)", flush=True)
        due.insert(0, REFERENCE_TIMING if stands else "reference")
    return due


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


def machine() -> str:
    return f"{os.cpu_count()} cores, {cpu_model()}, {platform.system()} {platform.machine()}"


def recorded_versions(record: dict) -> str:
    versions = (record.get("made_from") or {}).get("versions")
    return ", ".join(f"{k} {v}" for k, v in versions.items()) if versions else "not in the records"


def summarize(values: list[float], digits: int) -> str:
    mean = f"{np.mean(values):.{digits}f}"
    return mean if len(values) == 1 else f"{mean} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def report(results: list[dict], command: str, smoke: bool) -> str:
    seeds = sorted({r["seed"] for r in results})
    columns = [("accuracy", "held-out accuracy", 4), ("errors", "errors", 1),
               ("train_seconds", "training s", 0), ("train_cpu_seconds", "training CPU s", 0),
               ("search_seconds", "search s", 0),
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
        f"Latest record: {max(r.get('date') or '' for r in results)[:16].replace('T', ' ')} UTC  ",
        f"Commit: {', '.join(commits)}; held-out test images: {test_images}  ",
        f"Machine: {'; '.join(sorted({r.get('machine') or 'not in the records' for r in results}))}  ",
        f"Versions: {'; '.join(sorted({recorded_versions(r) for r in results}))}  ",
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
    from digit_recognizer.profiles import get_profile

    def mean(job, value):
        rows = [value(r) for r in results if r["job"] == job]
        return f"{np.mean(rows):.1f}" if rows else "-"

    def digits(job):  # how many digits the job trained on (a column, since profiles split differently)
        rows = [r["train_images"] for r in results if r["job"] == job and "train_images" in r]
        return f"{round(np.mean(rows)):,}" if rows else "-"

    def row(step, job, value):
        return f"| {step} | {digits(job)} | {mean(job, value)} |"

    fast, full_profile = get_profile("fast"), get_profile("full")
    full = [r for r in results if r["job"] == "full"]
    members = len(full[0]["member_errors"]) if full else 0
    lines = ["What each step gains, in held-out errors (mean over seeds):", "",
             "| step | training digits | errors |", "| --- | --- | --- |"]
    if any(r["job"] == "reference" for r in results):
        lines.append(row("reference recipe (30 epochs)", "reference", lambda r: r["errors"]))
    def second_round(job, profile):  # the first round alone, where a second on pseudo-labels followed
        if any("first_round_errors" in r for r in results if r["job"] == job):
            lines.append(row(f"{job} profile, its first round alone (before {profile.pseudo_label_epochs} "
                             "epochs on pseudo-labelled test digits too)", job,
                             lambda r: r["first_round_errors"]))

    if any(r["job"] == "fast" for r in results):
        second_round("fast", fast)
        lines.append(row(f"fast profile: the project's CNN and augmentation, one model, {fast.train_epochs} "
                         "epochs", "fast", lambda r: r["errors"]))
    if full:
        second_round("full", full_profile)
        lines += [row(f"full profile, one member alone ({full_profile.train_epochs} epochs; mean of its "
                      f"{members})", "full", lambda r: np.mean(r["member_errors"])),
                  row(f"full profile: the {members} members' softmax averaged", "full",
                      lambda r: r["errors"]),
                  row(f"full profile with test-time augmentation ({len(TTA_SHIFTS)} shifted views; not used)",
                      "full", lambda r: r["tta_errors"])]
    if any(r["job"] == "tuned" for r in results):
        lines += [row("tuned job's first member: the adopted hyperparameters, otherwise the full "
                      "profile's first member", "tuned", lambda r: r["member_errors"][0]),
                  row("(the full profile's first member: the search space's defaults)", "full",
                      lambda r: r["member_errors"][0]),
                  row("tuned job: its members averaged", "tuned", lambda r: r["errors"])]
    return lines + ["", *targets(results)]


# (job, figure, bound, the job the bound is a multiple of (None: a number of its own), the figure in words)
TARGETS = (("full", "errors", 45, None, "errors"),
           ("full", "job_seconds", 3.0, "reference", "time (search and training)"),
           ("fast", "errors", 0.7, "reference", "errors"),
           ("fast", "train_seconds", 0.3, "reference", "training time"),
           ("tuned", "errors", 0.95, "full", "errors"))
PREDICT_SECONDS_TARGET = 10.0


def targets(results: list[dict]) -> list[str]:
    """Each target of the project, met or not (means over seeds): most against the reference recipe,
    the search's against the defaults it must beat (full)."""
    def mean(job, key):
        rows = [r["train_seconds"] + r.get("search_seconds", 0) if key == "job_seconds" else r[key]
                for r in results if r["job"] == job]
        return float(np.mean(rows)) if rows else None

    def reference_time(job, key):  # the reference's, timed beside each record of the job where it was
        rows = [r for r in results if r["job"] == job]
        if rows and all(r.get(f"reference_{key}") is not None for r in rows):
            return float(np.mean([r[f"reference_{key}"] for r in rows]))
        return mean("reference", key)

    def cpu_ratio(job, base):  # the same comparison in CPU time, which a busy shared host does not inflate
        rows = [r for r in results if r["job"] in (job, base)]
        if not all("train_cpu_seconds" in r for r in rows):
            return ""
        ratio = mean(job, "train_cpu_seconds") / reference_time(job, "train_cpu_seconds")
        return f"; training CPU time {ratio:.2f} x"

    lines = ["Targets (means over seeds; a bound in x is a multiple of that job's figure):", "",
             "| target | measured | bound | met |", "| --- | --- | --- | --- |"]
    for job, key, factor, base, words in TARGETS:
        measured = mean(job, key)
        against = (mean(base, "errors") if key == "errors" else reference_time(job, "train_seconds")) \
            if base else 1.0
        if against is None or measured is None:
            continue
        digits = 1 if key == "errors" else 0
        bound = factor * against
        if base:
            name = "the reference's" if base == "reference" else f"{base}'s"
            title = f"{job} {words} at most {factor:g} x {name}"
            shown = f"{measured:.{digits}f} ({measured / against:.2f} x" \
                    f"{cpu_ratio(job, base) if key != 'errors' else ''})"
        else:
            title, shown = f"{job} {words} at most {factor:g}", f"{measured:.{digits}f}"
        lines.append(f"| {title} | {shown} | {bound:.{digits}f} | {'yes' if measured <= bound else 'NO'} |")
    if partly := sorted({r["job"] for r in results if r.get("reference_timed_epochs", jobs.REFERENCE_EPOCHS)
                         < jobs.REFERENCE_EPOCHS}, key=JOBS.index):
        lines.append(f"| (the reference's time beside {', '.join(partly)}: its first epochs timed in that "
                     f"sitting, scaled to its {jobs.REFERENCE_EPOCHS}) | | | |")
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
    parser.add_argument("--report-only", action="store_true",
                        help="write RESULTS[-NAME].md from the records on file, run nothing")
    args = parser.parse_args(argv)
    report_file, records_file = results_files(args.results_dir, default_name(args.data_dir)
                                              if args.name is None else args.name)
    given = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--report-only"]
    command = "python benchmarks/bench.py " + " ".join(given)  # the run the records come from
    records = read_json(records_file) if records_file.is_file() else []
    if args.report_only:
        print(write_report(records, command.strip(), args.smoke, report_file))
        return 0
    selected = [j for j in JOBS if j in args.jobs]
    probed = probes(args, sorted({"reference", *selected}, key=JOBS.index))
    sitting = now()  # times compare only within one sitting: machines and their load differ between them
    for seed in args.seeds:
        timed_here = None  # the reference's time in this sitting, where only its first epochs ran
        for job in due_jobs(args, records, seed, selected, probed, sitting):
            record = spawn(job, seed, args.smoke, args.data_dir, args.hyperparameters)
            if job == REFERENCE_TIMING:
                timed_here = record
                continue
            if job != "reference":  # its time beside the reference's of this sitting, the same seed
                beside = timed_here or record_of(records, "reference", seed)
                record |= {"reference_train_seconds": beside["train_seconds"],
                           "reference_train_cpu_seconds": beside.get("train_cpu_seconds"),
                           "reference_timed_epochs": beside.get("timed_epochs", beside.get("epochs"))}
            record |= {"made_from": lineage.record(run_inputs(args, job)), "probe": probed[job],
                       **git_state(), "machine": machine(), "date": now(), "sitting": sitting}
            records = [r for r in records if (r["job"], r["seed"]) != (job, seed)] + [record]
            write_json(records, records_file)  # at once: a run cut short keeps every finished job
            write_report(records, command.strip(), args.smoke, report_file)
    text = write_report(records, command.strip(), args.smoke, report_file)
    print(text)
    return 0


def report_of(records: list[dict], command: str, smoke: bool) -> str:
    """The results table of these records: what RESULTS[-NAME].md holds, all of it from the records."""
    return report(sorted(records, key=lambda r: (r["seed"], JOBS.index(r["job"]))), command, smoke)


def write_report(records: list[dict], command: str, smoke: bool, path: Path) -> str:
    text = report_of(records, command, smoke)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return text


if __name__ == "__main__":
    raise SystemExit(main())
