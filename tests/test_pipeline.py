"""End to end: all five notebooks, smoke profile, on the shipped sample, into a temp folder; a failed run
leaves the earlier outputs, and no Kaggle credential reaches any output."""

import json
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from digit_recognizer import runner
from digit_recognizer.config import PROJECT_DIR
from tests.helpers import FAKE_KAGGLE, train_rows, write_csv

pytestmark = pytest.mark.e2e


def test_all_notebooks_run_and_write_a_valid_submission(smoke_run):
    code, out = smoke_run
    assert code == 0
    submission = pd.read_csv(out / "submission.csv")
    assert list(submission.columns) == ["ImageId", "Label"]
    assert submission["ImageId"].tolist() == list(range(1, 2001))
    assert submission["Label"].between(0, 9).all()
    assert submission["Label"].nunique() > 1  # a trained model, not a constant guess


def test_executed_copies_land_in_reports(smoke_run):
    _, out = smoke_run
    reports = sorted((out / "reports").glob("*.ipynb"))
    assert [r.stem[:2] for r in reports] == ["01", "02", "03", "04", "05"]
    for report in reports:
        book = nbformat.read(report, as_version=4)
        outputs = [o for c in book.cells if c.cell_type == "code" for o in c.outputs]
        assert outputs and not [o for o in outputs if o.output_type == "error"]


def test_tuning_training_and_scoring_outputs(smoke_run):
    _, out = smoke_run
    trials = pd.read_csv(out / "models" / "tuning" / "trials.csv")
    assert len(trials) == 2 and set(trials["status"]) == {"COMPLETED"}
    assert (trials["epochs"] >= 1).all() and (trials["seconds"] > 0).all()
    assert trials["val_accuracy"].is_monotonic_decreasing
    best = json.loads((out / "models" / "tuning" / "best_hyperparameters.json").read_text())
    assert {"conv_style", "filters_0", "learning_rate", "optimizer", "rotation_degrees"} <= set(best)
    confirmed = json.loads((out / "models" / "tuning" / "search.json").read_text())["confirmation"]
    assert [e["name"] for e in confirmed["entries"]] == ["defaults", "trial 1"]  # trial 0: the defaults
    adopted = confirmed["adopted"]  # the search's best only if it beat the defaults at the final schedule
    row = trials[trials["trial_id"] == (0 if adopted == "defaults" else int(adopted.split()[1]))]
    assert row.iloc[0][list(best)].to_dict() == best
    metrics = json.loads((out / "models" / "metrics.json").read_text())
    assert metrics["profile"] == "smoke" and metrics["hyperparameters"] == best
    assert metrics["ensemble_size"] == 1 and len(metrics["members"]) == 1
    assert (out / "models" / "model.keras").is_file()
    score = json.loads((out / "models" / "test_score.json").read_text())
    assert score["images"] == 2000 and 0.2 < score["accuracy"] <= 1  # well above chance (0.1)


def test_tensorboard_logs_of_the_search_and_the_training(smoke_run):
    _, out = smoke_run
    (search,) = (out / "models" / "logs" / "search").iterdir()  # <time>-smoke-random-<data>/<trial>/...
    assert "-smoke-random-" in search.name and len(list(search.iterdir())) == 2
    (train,) = (out / "models" / "logs" / "train").iterdir()  # <time>-smoke-seed7/member-0/{train,validation}
    assert train.name.endswith("-smoke-seed7")
    for folder in (search, train):
        assert list(folder.rglob("events.out.tfevents.*")), folder


def test_failed_run_leaves_the_earlier_submission(smoke_run, tmp_path):
    _, out = smoke_run
    before = (out / "submission.csv").read_bytes()
    bad = tmp_path / "bad"
    bad.mkdir()
    header = ["label", *[f"pixel{i}" for i in range(784)]]
    rows = train_rows(3)
    rows[1][0] = 11
    write_csv(bad / "train.csv", header, rows)
    write_csv(bad / "test.csv", header[1:], [r[1:] for r in rows])
    code = runner.main(["--profile", "smoke", "--output-dir", str(out), "--data-dir", str(bad),
                        "01", "02", "05"])
    assert code == 1
    assert (out / "submission.csv").read_bytes() == before
    report = nbformat.read(out / "reports" / "01_load_data.ipynb", as_version=4)
    errors = [o for c in report.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors and "line 3, column 'label'" in errors[0]["evalue"]


OUTPUTS = ["submission.csv", "models/model.keras", "models/metrics.json", "models/history.csv",
           "models/run.json"]


def test_failure_in_training_leaves_every_earlier_output(smoke_run, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(smoke_run[1], out)
    before = {name: (out / name).read_bytes() for name in OUTPUTS}
    (out / "models" / "tuning" / "best_hyperparameters.json").write_text('{"no_such_knob": 1}')
    code = runner.main(["--profile", "smoke", "--seed", "7", "--output-dir", str(out),
                        "01", "02", "04", "05"])
    assert code == 1
    assert {name: (out / name).read_bytes() for name in OUTPUTS} == before


def test_kaggle_credentials_never_reach_outputs(smoke_run):
    _, out = smoke_run
    written = [p for p in out.rglob("*") if p.is_file()]
    names = {p.name for p in written}
    assert {"run.log", "run.json", "01_load_data.ipynb", "05_submit.ipynb"} <= names
    for path in written:
        content = path.read_bytes()
        for secret in FAKE_KAGGLE.values():
            assert secret.encode() not in content, f"{secret} leaked into {path}"


def test_the_pipeline_runs_on_jax_and_records_it(jax_smoke_run):
    code, out = jax_smoke_run
    log = (out / "run.log").read_text()
    assert code == 0, log[-3000:]
    submission = pd.read_csv(out / "submission.csv")
    assert submission["ImageId"].tolist() == list(range(1, 2001)) and submission["Label"].nunique() > 1
    run = json.loads((out / "models" / "run.json").read_text())
    assert run["backend"] == {"name": "jax", "deterministic": True, "mixed_precision": False}
    assert run["versions"]["jax"][0].isdigit()
    assert "Keras backend jax; CPU only" in log and "JAX promises no byte-identical re-runs" in log
    assert json.loads((out / "models" / "test_score.json").read_text())["accuracy"] > 0.2


GOLDEN = PROJECT_DIR / "tests" / "golden"
OTHER_CPU_ROWS = 0.005  # of the rows: may differ on another kind of CPU, whose float sums round otherwise


def cpu_kind() -> str:
    """The vendor and whether the CPU has AVX-512: what decides how TensorFlow's kernels round."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    vendor = next((line.split(":")[1].strip() for line in info.splitlines() if line.startswith("vendor_id")),
                  "unknown")
    return f"{vendor} avx512={'yes' if ' avx512f' in info else 'no'}"


def test_the_smoke_submission_is_the_one_on_record(smoke_run):
    """What the smoke run computes is what it computed before the last refactor (tests/golden/README.md)."""
    code, out = smoke_run
    assert code == 0, (out / "run.log").read_text()[-3000:]
    made, golden = (out / "submission.csv").read_bytes(), (GOLDEN / "smoke-submission.csv").read_bytes()
    if cpu_kind() == (GOLDEN / "smoke-submission.cpu").read_text().strip():
        assert made == golden, "the smoke run's submission.csv is not the one in tests/golden/"
    else:
        ours, theirs = pd.read_csv(out / "submission.csv"), pd.read_csv(GOLDEN / "smoke-submission.csv")
        assert ours["ImageId"].equals(theirs["ImageId"])
        assert (ours["Label"] != theirs["Label"]).mean() <= OTHER_CPU_ROWS
