"""The benchmark script itself works end to end (a smoke run: no figure here is a measurement)."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from digit_recognizer.config import PROJECT_DIR


def bench(*args):
    return subprocess.run([sys.executable, str(PROJECT_DIR / "benchmarks" / "bench.py"), "--smoke", *args],
                          capture_output=True, text=True)


@pytest.mark.e2e
def test_benchmark_smoke_run_writes_records_and_a_table_and_reruns_only_what_is_missing(tmp_path):
    done = bench("--seeds", "3", "--results-dir", str(tmp_path), "--name", "tiny")
    assert done.returncode == 0, done.stderr[-2000:]
    text = (tmp_path / "RESULTS-tiny.md").read_text()
    assert "smoke run, not a measurement" in text and "Machine: " in text and "Commit: " in text
    rows = [line for line in text.splitlines() if line.startswith(("| reference |", "| fast |", "| full |"))]
    assert len(rows) == 3 and all(len(row.split("|")) == 10 for row in rows)  # with the search column
    assert "| full profile: the 1 members' softmax averaged |" in text  # the step table
    records = json.loads((tmp_path / "results-tiny.json").read_text())
    assert [(r["job"], r["seed"]) for r in records] == [("reference", 3), ("fast", 3), ("full", 3)]
    for record in records:
        assert {"errors", "test_images", "train_seconds", "predict_28000_seconds", "peak_memory_mb",
                "commit", "code", "data"} <= set(record)
    assert records[2]["search_seconds"] > 0 and "search_seconds" not in records[0]

    again = bench("--seeds", "3", "4", "--jobs", "reference", "fast", "--results-dir", str(tmp_path),
                  "--name", "tiny")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "==> reference, seed 3: on record" in again.stdout
    assert "==> fast, seed 3: on record" in again.stdout
    assert "==> reference, seed 4\n" in again.stdout  # only the new seed runs
    rerun = json.loads((tmp_path / "results-tiny.json").read_text())
    assert rerun[:3] == records
    assert [(r["job"], r["seed"]) for r in rerun[3:]] == [("reference", 4), ("fast", 4)]


def test_results_are_named_after_the_data_folder():
    bench_module = load_bench()
    assert bench_module.default_name("../shared/data/mnist-full") == "full"
    assert bench_module.default_name("") == ""
    assert bench_module.results_files("out", "full") == (Path("out/RESULTS-full.md"),
                                                          Path("out/results-full.json"))


def load_bench():
    spec = importlib.util.spec_from_file_location("bench", PROJECT_DIR / "benchmarks" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_reference_recipe_augments_only_as_the_public_recipe_does():
    steps = load_bench().reference_model().get_layer("augmentation").layers
    assert [type(step).__name__ for step in steps] == ["RandomRotation", "RandomZoom", "RandomTranslation"]


def test_step_table_lists_only_the_jobs_that_ran():
    results = [{"job": "reference", "seed": 1, "errors": 30, "train_seconds": 100.0},
               {"job": "fast", "seed": 1, "errors": 20, "train_seconds": 40.0}]
    text = "\n".join(load_bench().step_gains(results))
    assert "| reference recipe (30 epochs) | 30.0 |" in text and "| fast profile" in text
    assert "full profile" not in text and "trains in 40% of the reference" in text
