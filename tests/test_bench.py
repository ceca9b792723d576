"""The benchmark script itself works end to end (a smoke run: no figure here is a measurement)."""

import importlib.util
import subprocess
import sys

import pytest

from digit_recognizer.config import PROJECT_DIR


@pytest.mark.e2e
def test_benchmark_smoke_run_writes_a_results_table(tmp_path):
    output = tmp_path / "RESULTS.md"
    done = subprocess.run([sys.executable, str(PROJECT_DIR / "benchmarks" / "bench.py"), "--smoke",
                           "--seeds", "3", "--output", str(output)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    text = output.read_text()
    assert "smoke run, not a measurement" in text and "Machine: " in text
    rows = [line for line in text.splitlines() if line.startswith(("| reference |", "| fast |", "| full |"))]
    assert len(rows) == 3 and all(len(row.split("|")) == 9 for row in rows)
    assert "| full profile: the 1 members' softmax averaged |" in text  # the step table


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
