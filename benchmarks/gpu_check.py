"""The GPU check: `fast` and `full` at Kaggle's size on a GPU, on JAX (and PyTorch if time is left), in
float32 and mixed precision, with determinism on and off. `gpu_check.sh` runs it on a machine with the
backends but no TensorFlow; `--dry-run` runs every step on the embedded sample, smoke-sized, on the CPU.

    python benchmarks/gpu_check.py --data-dir DIR --out FILE [--budget-seconds S] [--dry-run]

Each measurement is one `jobs.run_job` (train on the job's split, score on the held-out digits, time a
28,000-digit prediction) in a process of its own, since a backend, its determinism flags and the precision
are chosen once per process. Most telling first; one that would outrun the budget is stopped, and noted.
The figures land in FILE (JSON) and FILE with .md (a table) after each measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

SEED = 42
# (backend, job, deterministic, mixed precision), most telling first
PLAN = [
    ("jax", "fast", True, False),
    ("jax", "full", True, False),
    ("jax", "fast", False, False),  # what determinism costs
    ("jax", "fast", True, True),    # what mixed precision does
    ("jax", "full", False, False),
    ("jax", "full", True, True),
    ("torch", "fast", True, False),
    ("torch", "fast", False, False),
]
COLUMNS = ("backend", "job", "deterministic", "mixed_precision", "errors", "accuracy", "train_seconds",
           "images_per_second", "predict_28000_seconds", "wall_seconds", "status")


def measure(job: str, deterministic: bool, mixed_precision: bool, data_dir: str, smoke: bool) -> None:
    """In this process: the backend's switches, then the job; its figures as the last line."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from digit_recognizer.plumbing import runtime

    print(runtime.configure(deterministic, mixed_precision), flush=True)
    import jobs

    figures = jobs.run_job(job, SEED, smoke, data_dir, "")
    print(json.dumps(figures | {"devices": runtime.device_summary()}), flush=True)


def run_one(step: tuple, data_dir: str, smoke: bool, seconds_left: float) -> dict:
    backend, job, deterministic, mixed = step
    row = {"backend": backend, "job": job, "deterministic": deterministic, "mixed_precision": mixed}
    command = [sys.executable, __file__, "--one", job, str(int(deterministic)), str(int(mixed)),
               "--data-dir", data_dir, *(["--dry-run"] if smoke else [])]
    env = os.environ | {"KERAS_BACKEND": backend}
    start = time.perf_counter()
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds_left)
    except subprocess.TimeoutExpired:
        return row | {"status": f"stopped at the budget after {seconds_left:.0f} s"}
    row["wall_seconds"] = round(time.perf_counter() - start, 1)
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines or not lines[-1].startswith("{"):
        error = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return row | {"status": f"failed: {error[:300]}"}
    setup = next((line for line in lines if line.startswith("Keras backend")), "")
    return row | json.loads(lines[-1]) | {"status": "ok", "setup": setup}


def table(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(column, "")) for column in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="")
    parser.add_argument("--out", default="build/gpu-check.json")
    parser.add_argument("--budget-seconds", type=float, default=480)
    parser.add_argument("--backends", nargs="+", default=["jax", "torch"])
    parser.add_argument("--dry-run", action="store_true", help="the sample, smoke-sized, on any device")
    parser.add_argument("--one", nargs=3, metavar=("JOB", "DETERMINISTIC", "MIXED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    data_dir = "sample" if args.dry_run else args.data_dir
    if args.one:
        job, deterministic, mixed = args.one
        measure(job, deterministic == "1", mixed == "1", data_dir, args.dry_run)
        return 0
    if not args.dry_run and not args.data_dir:
        parser.error("--data-dir: Kaggle's size, e.g. build/gpu-data/mnist-full (or --dry-run)")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + args.budget_seconds
    record = {"machine": platform.node(), "python": platform.python_version(), "data_dir": data_dir,
              "dry_run": args.dry_run, "seed": SEED, "runs": []}
    for step in [s for s in PLAN if s[0] in args.backends]:
        left = deadline - time.monotonic()
        if left < 20:
            skipped = dict(zip(COLUMNS, step, strict=False))
            record["runs"].append(skipped | {"status": "not run: budget spent"})
            continue
        row = run_one(step, data_dir, args.dry_run, left)
        print(json.dumps(row), flush=True)
        record["runs"].append(row)
        out.write_text(json.dumps(record, indent=2) + "\n")
        out.with_suffix(".md").write_text(table(record["runs"]))
    out.write_text(json.dumps(record, indent=2) + "\n")
    out.with_suffix(".md").write_text(table(record["runs"]))
    print(table(record["runs"]), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
