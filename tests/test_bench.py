"""The benchmark script itself works end to end (a smoke run: no figure here is a measurement)."""

import importlib.util
import json
import subprocess
import sys
from dataclasses import replace
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
    assert len(rows) == 3 and all(len(row.split("|")) == 10 for row in rows)  # no search: no search column
    assert "| full profile: the 1 members' softmax averaged |" in text  # the step table
    records = json.loads((tmp_path / "results-tiny.json").read_text())
    assert [(r["job"], r["seed"]) for r in records] == [("reference", 3), ("fast", 3), ("full", 3)]
    for record in records:
        assert {"errors", "test_images", "train_images", "train_seconds", "predict_28000_seconds",
                "peak_memory_mb", "commit", "code", "data"} <= set(record) and "modules" not in record
    assert not any("search_seconds" in r for r in records)  # only the tuned job searches

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
    assert any(row.startswith("| tuned job's first member: searched")
               and row.endswith("| 37,800 | 58.0 |") for row in rows)
    assert "| (the full profile's first member: the search space's defaults) | 41,160 | 60.0 |" in rows
    assert "| tuned job: its members averaged | 37,800 | 52.0 |" in rows


def test_the_targets_table_says_which_targets_are_met():
    def record(job, seed, errors, seconds, **extra):
        return {"job": job, "seed": seed, "errors": errors, "train_seconds": seconds,
                "predict_28000_seconds": 3.0, **extra}
    results = [record("reference", 1, 100, 1000), record("reference", 2, 80, 1200),
               record("fast", 1, 90, 500), record("fast", 2, 92, 560),  # 91 errors in 530 s
               record("full", 1, 55, 2000, search_seconds=900), record("full", 2, 61, 2100)]
    rows = {line.split(" | ")[0]: line for line in load_bench().targets(results) if line.startswith("| ")}
    assert rows["| full errors at most 0.65 x the reference's"].endswith("| 58.0 (0.64 x) | 58.5 | yes |")
    assert rows["| full time (search and training) at most 3 x the reference's"].endswith(
        "| 2500 (2.27 x) | 3300 | yes |")
    assert rows["| fast errors at most 1 x the reference's"].endswith("| 91.0 (1.01 x) | 90.0 | NO |")
    assert rows["| fast training time at most 0.5 x the reference's"].endswith("| 530 (0.48 x) | 550 | yes |")
    assert rows["| full predicts 28,000 digits in under 10 s"].endswith("| 3.00 s | 10 s | yes |")
    assert load_bench().targets([record("fast", 1, 90, 500)]) == []  # nothing to compare with
    with_cpu = [r | {"train_cpu_seconds": r["train_seconds"] * (1.9 if r["job"] == "reference" else 1.5)}
                for r in results]
    rows = {line.split(" | ")[0]: line for line in load_bench().targets(with_cpu) if line.startswith("| ")}
    assert rows["| fast training time at most 0.5 x the reference's"].endswith(
        "| 530 (0.48 x; training CPU time 0.38 x) | 550 | yes |")


def load_bench():
    spec = importlib.util.spec_from_file_location("bench", PROJECT_DIR / "benchmarks" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_reference_recipe_augments_only_as_the_public_recipe_does():
    steps = load_bench().jobs.reference_model().get_layer("augmentation").layers
    assert [type(step).__name__ for step in steps] == ["RandomRotation", "RandomZoom", "RandomTranslation"]


def test_step_table_lists_only_the_jobs_that_ran():
    results = [{"job": "reference", "seed": 1, "errors": 30, "train_seconds": 100.0},
               {"job": "fast", "seed": 1, "errors": 20, "train_seconds": 40.0}]
    text = "\n".join(load_bench().step_gains(results))
    assert "| reference recipe (30 epochs) | - | 30.0 |" in text and "| fast profile" in text
    assert "full profile" not in text and "| full " not in text
    assert "| fast training time at most 0.5 x the reference's | 40 (0.40 x) | 50 | yes |" in text


def copy_of_the_code(root: Path) -> Path:
    for pattern in ("requirements.txt", "benchmarks/jobs.py", "digit_recognizer/*.py"):
        for path in PROJECT_DIR.glob(pattern):
            (root / path.relative_to(PROJECT_DIR)).parent.mkdir(parents=True, exist_ok=True)
            (root / path.relative_to(PROJECT_DIR)).write_bytes(path.read_bytes())
    return root


def test_a_record_is_kept_until_the_code_its_job_runs_changes(tmp_path, monkeypatch):
    jobs = load_bench().jobs
    root = copy_of_the_code(tmp_path)

    def fingerprints():
        return {job: jobs.fingerprint(job, False, root) for job in jobs.JOBS}

    before = fingerprints()
    assert len(set(before.values())) == len(jobs.JOBS)
    assert "model" in jobs.fingerprint_modules("fast", root) and "model" not in jobs.fingerprint_modules(
        "reference", root)
    (root / "digit_recognizer" / "profiles.py").write_text("# another profile\n")  # stands as the profile
    monkeypatch.setitem(jobs_profiles(), "full", replace(jobs_profiles()["full"], train_epochs=46))
    after = fingerprints()
    assert after["full"] != before["full"] and after["tuned"] != before["tuned"]  # tuned runs full's profile
    assert after["reference"] == before["reference"] and after["fast"] == before["fast"]
    with (root / "digit_recognizer" / "model.py").open("a") as model_source:
        model_source.write("# a change to the CNN\n")
    after_model = fingerprints()
    assert after_model["reference"] == before["reference"] and after_model["fast"] != before["fast"]
    with (root / "digit_recognizer" / "data.py").open("a") as data_source:
        data_source.write("# a change to loading\n")
    assert jobs.fingerprint("reference", False, root) != before["reference"]
    assert jobs.fingerprint("fast", True, root) != jobs.fingerprint("fast", False, root)  # the smoke profile


def jobs_profiles() -> dict:
    from digit_recognizer import profiles

    return profiles.PROFILES


def test_the_fingerprint_follows_imports_anywhere_in_a_module(tmp_path):
    jobs = load_bench().jobs
    package = tmp_path / "digit_recognizer"
    package.mkdir()
    (package / "a.py").write_text("from .b import x\n\ndef f():\n    from digit_recognizer import c\n")
    (package / "b.py").write_text("import digit_recognizer.d\nfrom . import e\nimport numpy\n")
    for name in "cde":
        (package / f"{name}.py").write_text("")
    assert jobs.module_closure(["a"], tmp_path) == set("abcde")
    assert jobs.package_imports("b", tmp_path) == {"d", "e"}


def test_only_the_tuned_job_searches_and_it_trains_the_searchs_choice():
    from digit_recognizer import data, features

    jobs = load_bench().jobs
    dataset = features.prepare_dataset(data.load_data(None), 0.1, 3, max_train_images=300)
    _, epochs, _, extra = jobs.train_project("tuned", dataset, 3, True, "")
    assert extra["search_seconds"] > 0 and extra["hyperparameters"]["conv_style"] in ("one_5x5", "two_3x3")
    assert epochs == jobs.job_profile("tuned", True).train_epochs
    assert jobs.job_profile("tuned", False) == jobs.job_profile("full", False)  # full's, searched first
