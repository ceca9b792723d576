"""The benchmark script itself works end to end (a smoke run: no figure here is a measurement)."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from digit_recognizer.config import PROJECT_DIR
from digit_recognizer.dataset import loading
from tests.helpers import load_benchmark


def bench(*args):
    return subprocess.run([sys.executable, str(PROJECT_DIR / "benchmarks" / "bench.py"), "--smoke", *args],
                          capture_output=True, text=True)


@pytest.mark.e2e
def test_benchmark_smoke_run_writes_records_and_a_table_and_skips_them_when_run_again(tmp_path):
    done = bench("--seeds", "3", "--jobs", "reference", "full", "--results-dir", str(tmp_path),
                 "--name", "tiny")
    assert done.returncode == 0, done.stderr[-2000:]
    text = (tmp_path / "RESULTS-tiny.md").read_text()
    assert "smoke run, not a measurement" in text and "Machine: " in text and "Commit: " in text
    rows = [line for line in text.splitlines() if line.startswith(("| reference |", "| fast |", "| full |"))]
    assert len(rows) == 2 and all(len(row.split("|")) == 10 for row in rows)  # no search: no search column
    assert "| full profile: the 1 members' softmax averaged |" in text  # the step table
    records = json.loads((tmp_path / "results-tiny.json").read_text())
    assert [(r["job"], r["seed"]) for r in records] == [("reference", 3), ("full", 3)]
    for record in records:
        assert {"errors", "test_images", "train_images", "train_seconds", "predict_28000_seconds",
                "peak_memory_mb", "commit", "machine", "made_from", "probe"} <= set(record)
    assert not any("search_seconds" in r for r in records)  # only the tuned job searches

    again = bench("--seeds", "3", "--jobs", "reference", "full", "--results-dir", str(tmp_path),
                  "--name", "tiny")  # the same code again: its probes match, nothing runs
    assert again.returncode == 0, again.stderr[-2000:]
    assert "==> reference, seed 3: on record" in again.stdout
    assert "==> full, seed 3: on record" in again.stdout
    assert json.loads((tmp_path / "results-tiny.json").read_text()) == records


def test_every_results_table_is_what_bench_writes_from_its_records():
    bench_module = load_bench()
    tables = sorted((PROJECT_DIR / "benchmarks").glob("RESULTS*.md"))
    assert tables, "no results table in benchmarks/"
    for table in tables:
        name = table.stem.removeprefix("RESULTS").removeprefix("-")
        records_file = bench_module.results_files(table.parent, name)[1]
        assert records_file.is_file(), f"{table} has no records ({records_file.name}) to be generated from"
        text = table.read_text()
        command = re.search(r"^Command: `(.*)`  $", text, re.M)[1]
        assert text == bench_module.report_of(json.loads(records_file.read_text()), command, False), (
            f"{table} is not what bench.py writes from {records_file.name}: `{command} --report-only`")


def test_results_are_named_after_the_data_folder():
    bench_module = load_bench()
    assert bench_module.default_name("../shared/data/mnist-full") == "full"
    assert bench_module.default_name("") == ""
    assert bench_module.results_files("out", "full") == (Path("out/RESULTS-full.md"),
                                                          Path("out/results-full.json"))


def test_the_step_table_shows_what_the_search_buys_at_the_final_length():
    bench = load_bench()
    assert "tuned" in bench.JOBS and "tuned" not in bench.DEFAULT_JOBS  # an hour per seed: asked for
    timings = {"train_seconds": 2000.0, "predict_28000_seconds": 8.0}
    results = [{"job": "full", "seed": 1, "errors": 50, "member_errors": [60, 62, 64], "tta_errors": 49,
                "train_images": 41160, **timings},
               {"job": "tuned", "seed": 1, "errors": 52, "member_errors": [58, 66, 70], "tta_errors": 51,
                "search_seconds": 600.0, "train_images": 37800, **timings}]
    rows = [line for line in bench.step_gains(results) if line.startswith("| ")]
    assert "| full profile, one member alone (45 epochs; mean of its 3) | 41,160 | 62.0 |" in rows
    assert any(row.startswith("| tuned job's first member: the adopted")
               and row.endswith("| 37,800 | 58.0 |") for row in rows)
    assert "| (the full profile's first member: the search space's defaults) | 41,160 | 60.0 |" in rows
    assert "| tuned job: its members averaged | 37,800 | 52.0 |" in rows


def test_the_targets_table_says_which_targets_are_met():
    def record(job, seed, errors, seconds, **extra):
        return {"job": job, "seed": seed, "errors": errors, "train_seconds": seconds,
                "predict_28000_seconds": 3.0, **extra}
    results = [record("reference", 1, 100, 1000), record("reference", 2, 80, 1200),
               record("fast", 1, 60, 300), record("fast", 2, 65, 350),  # 62.5 errors in 325 s
               record("full", 1, 42, 2000, search_seconds=900), record("full", 2, 47, 2100),
               record("tuned", 1, 40, 2000), record("tuned", 2, 44, 2000)]
    rows = {line.split(" | ")[0]: line for line in load_bench().targets(results) if line.startswith("| ")}
    assert rows["| full errors at most 45"].endswith("| 44.5 | 45.0 | yes |")
    assert rows["| full time (search and training) at most 3 x the reference's"].endswith(
        "| 2500 (2.27 x) | 3300 | yes |")
    assert rows["| fast errors at most 0.7 x the reference's"].endswith("| 62.5 (0.69 x) | 63.0 | yes |")
    assert rows["| fast training time at most 0.3 x the reference's"].endswith("| 325 (0.30 x) | 330 | yes |")
    assert rows["| tuned errors at most 0.95 x full's"].endswith("| 42.0 (0.94 x) | 42.3 | yes |")
    assert rows["| full predicts 28,000 digits in under 10 s"].endswith("| 3.00 s | 10 s | yes |")
    assert load_bench().targets([record("fast", 1, 90, 500)]) == []  # nothing to compare with
    slower = [r | {"errors": 70} if r["job"] == "fast" else r for r in results]
    rows = {line.split(" | ")[0]: line for line in load_bench().targets(slower) if line.startswith("| ")}
    assert rows["| fast errors at most 0.7 x the reference's"].endswith("| 70.0 (0.78 x) | 63.0 | NO |")
    with_cpu = [r | {"train_cpu_seconds": r["train_seconds"] * (1.9 if r["job"] == "reference" else 1.5)}
                for r in results]
    rows = {line.split(" | ")[0]: line for line in load_bench().targets(with_cpu) if line.startswith("| ")}
    assert rows["| fast training time at most 0.3 x the reference's"].endswith(
        "| 325 (0.30 x; training CPU time 0.23 x) | 330 | yes |")


def load_bench():
    return load_benchmark("bench")


def test_a_job_run_in_a_new_sitting_is_timed_beside_a_reference_run_in_it_too(capsys):
    bench_module = load_bench()
    args = bench_module.argparse.Namespace(data_dir="", smoke=True, hyperparameters="")
    probe = [[0.5] * 10]
    probed = {job: probe for job in bench_module.JOBS}

    def record(job, sitting):
        return {"job": job, "seed": 1, "date": sitting, "sitting": sitting, "probe": probe,
                "made_from": bench_module.lineage.record(bench_module.run_inputs(args, job))}

    def due(records, selected, sitting="today"):
        return bench_module.due_jobs(args, records, 1, selected, probed, sitting)

    timing = bench_module.REFERENCE_TIMING
    earlier = [record("reference", "yesterday"), record("fast", "yesterday")]
    assert due(earlier, ["reference", "fast"]) == []  # nothing to run: nothing to time again
    assert due(earlier, ["reference", "fast", "full"]) == [timing, "full"]  # its errors stand: timed only
    assert "reference, seed 1: its first 3 epochs timed, beside full" in capsys.readouterr().out
    assert due(earlier, ["full"]) == [timing, "full"]  # asked for or not
    moved = [{**earlier[0], "probe": [[0.9] * 10]}]
    assert due(moved, ["full"]) == ["reference", "full"]  # the recipe computes otherwise now: run whole
    assert due([record("reference", "today")], ["reference", "full"]) == ["full"]
    assert due([], ["fast"]) == ["reference", "fast"]

    results = [{"job": "reference", "seed": 1, "errors": 100, "train_seconds": 3000.0},  # a slow sitting
               {"job": "fast", "seed": 1, "errors": 60, "train_seconds": 300.0,
                "reference_train_seconds": 1000.0, "reference_timed_epochs": 3}]
    rows = [line for line in bench_module.targets(results) if "fast training time" in line
            or "first epochs" in line]
    assert rows == ["| fast training time at most 0.3 x the reference's | 300 (0.30 x) | 300 | yes |",
                    "| (the reference's time beside fast: its first epochs timed in that sitting, scaled "
                    "to its 30) | | | |"]


def test_a_reference_timed_in_part_counts_its_first_epoch_once_and_its_steady_ones_for_the_rest():
    scaled_time = load_bench().jobs.scaled_time
    stamps = [(0, 0), (12, 20), (17, 29), (22, 40)]  # epochs of 12, 5 and 5 s; 20, 9 and 11 CPU s
    assert scaled_time(stamps, 30) == (12 + 29 * 5, 20 + 29 * 10)
    assert scaled_time(stamps[:2], 30) == (12 * 30, 20 * 30)  # one epoch timed: it stands for each


def test_the_reference_is_timed_from_its_first_epochs_without_being_scored(capsys):
    jobs = load_bench().jobs
    assert jobs.main(["reference", "3", "--timed-epochs", "1", "--smoke"]) == 0
    timed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert timed["timed_epochs"] == timed["epochs"] == 1 and len(timed["epoch_seconds"]) == 1
    assert timed["train_seconds"] > 0 and timed["train_cpu_seconds"] > 0 and "errors" not in timed
    with pytest.raises(SystemExit):
        jobs.main(["fast", "3", "--timed-epochs", "1", "--smoke"])  # only the reference is timed so


def test_reference_recipe_augments_only_as_the_public_recipe_does():
    steps = load_bench().jobs.reference_model().get_layer("augmentation").layers
    assert [type(step).__name__ for step in steps] == ["RandomRotation", "RandomZoom", "RandomTranslation"]


def test_step_table_lists_only_the_jobs_that_ran():
    results = [{"job": "reference", "seed": 1, "errors": 30, "train_seconds": 100.0},
               {"job": "fast", "seed": 1, "errors": 20, "train_seconds": 40.0}]
    text = "\n".join(load_bench().step_gains(results))
    assert "| reference recipe (30 epochs) | - | 30.0 |" in text and "| fast profile" in text
    assert "full profile" not in text and "| full " not in text
    assert "| fast training time at most 0.3 x the reference's | 40 (0.40 x) | 30 | NO |" in text


def test_a_record_outlives_a_refactor_and_is_retired_by_a_change_of_recipe(monkeypatch):
    """The probe is what the job computes: the same after a rewrite that computes the same, other after a
    change of recipe."""
    from digit_recognizer import features

    jobs = load_bench().jobs
    before = jobs.probe("reference", True)
    assert len(before) == jobs.PROBE_TEST_IMAGES

    def to_images_rewritten(pixels):  # the same numbers, another way
        return np.divide(np.asarray(pixels).reshape(-1, 28, 28, 1), 255, dtype=np.float32)

    monkeypatch.setattr(features, "to_images", to_images_rewritten)
    assert jobs.same_computation(before, jobs.probe("reference", True))

    def to_images_scaled_otherwise(pixels):  # a change of recipe: pixels scaled to [0, 2]
        return to_images_rewritten(pixels) * 2

    monkeypatch.setattr(features, "to_images", to_images_scaled_otherwise)
    assert not jobs.same_computation(before, jobs.probe("reference", True))


def test_a_record_is_reused_only_when_made_from_the_same_inputs():
    bench_module = load_bench()
    args = bench_module.argparse.Namespace(data_dir="", smoke=True, hyperparameters="")
    inputs, probe = bench_module.run_inputs(args, "fast"), [[0.5] * 10]
    record = {"made_from": bench_module.lineage.record(inputs), "probe": probe}
    assert bench_module.why_not_reused(record, inputs, probe) == ""
    assert bench_module.why_not_reused(record, inputs, [[0.5] * 9 + [0.502]]) == (
        "the job computes other results now (its probe moved)")
    longer = inputs | {"profile": inputs["profile"] | {"train_epochs": 4}}
    assert bench_module.why_not_reused(record, longer, probe) == "profile.train_epochs 3, now 4"
    edited = {"made_from": record["made_from"] | {"smoke": False}, "probe": probe}
    assert bench_module.why_not_reused(edited, inputs, probe) == "it records no inputs, or they were edited"
    assert bench_module.run_inputs(args, "reference")["profile"] is None  # no profile's change retires it


def test_only_the_tuned_job_searches_and_it_trains_what_the_confirmation_adopted(tmp_path, monkeypatch):
    from digit_recognizer import features

    jobs = load_bench().jobs
    monkeypatch.setattr(jobs, "SEARCH_DIR", tmp_path)
    dataset = features.prepare_dataset(loading.load_data(None), 0.1, 3, max_train_images=300)
    _, epochs, _, extra = jobs.train_project("tuned", dataset, 3, True, "")
    assert extra["search_seconds"] > 0 and extra["hyperparameters"]["conv_style"] in ("one_5x5", "two_3x3")
    confirmed = extra["confirmation"]
    assert {"defaults", confirmed["adopted"]} <= set(confirmed["confirmed_errors"])
    assert not (tmp_path / "seed-3").exists()  # kept only while the job is unfinished
    assert epochs == jobs.job_profile("tuned", True).train_epochs
    assert jobs.job_profile("tuned", False) == jobs.job_profile("full", False)  # full's, searched first
