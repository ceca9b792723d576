"""benchmarks/fidelity.py: the rank correlation between the search's trial scores and the final training's."""

import json
import shutil

import pytest

from digit_recognizer.modeling import training, tuning
from tests.helpers import load_benchmark


def load_fidelity():
    return load_benchmark("fidelity")


def test_configurations_are_spread_over_the_ranking():
    spread = load_fidelity().spread
    assert spread(list(range(10)), 4) == [0, 3, 6, 9] and spread([1, 2], 5) == [1, 2]


def test_the_cheapest_configurations_train_first_after_the_defaults():
    entries = [{"name": "defaults", "trial_epoch_seconds": 58}, {"name": "wide", "trial_epoch_seconds": 191},
               {"name": "unknown"}, {"name": "narrow", "trial_epoch_seconds": 26}]
    assert [e["name"] for e in load_fidelity().cheapest_first(entries)] == ["defaults", "narrow", "wide",
                                                                           "unknown"]


def test_the_correlation_says_whether_trials_rank_as_the_final_training_does():
    fidelity = load_fidelity()

    def entry(accuracy, loss, errors):
        return {"trial_scores": {"val_accuracy": accuracy, "last_val_accuracy": accuracy,
                                 "lowest_val_loss": loss, "last_val_loss": None}, "errors": errors}
    agreeing = [entry(0.99, 0.03, 10), entry(0.98, 0.05, 20), entry(0.97, 0.04, 30)]
    rho = fidelity.correlations(agreeing, 1000)
    assert rho["val_accuracy"] == rho["last_val_accuracy"] == 1.0  # the best trial confirmed best
    assert rho["lowest_val_loss"] == 0.5 and rho["last_val_loss"] is None  # too few scores to tell
    reversed_ = [entry(0.99, 0.03, 30), entry(0.98, 0.05, 20), entry(0.97, 0.04, 10)]
    assert fidelity.correlations(reversed_, 1000)["val_accuracy"] == -1.0


def test_trainings_made_by_code_that_computes_otherwise_are_set_aside(tmp_path, capsys):
    fidelity = load_fidelity()
    trainings = tmp_path / "fidelity-trainings.json"
    trainings.write_text(json.dumps({"probe": [[0.5, 0.5]], "confirmed": {}}))
    fidelity.set_aside_unless_made_by(trainings, [[0.5, 0.5]], tmp_path / "aside")
    assert trainings.is_file()  # the same code: kept
    fidelity.set_aside_unless_made_by(trainings, [[0.9, 0.1]], tmp_path / "aside")
    assert not trainings.exists() and (tmp_path / "aside" / "fidelity-trainings.json.set-aside").is_file()
    assert "its probe moved" in capsys.readouterr().out


@pytest.mark.e2e
def test_a_smoke_run_reports_and_resumes_in_a_fresh_clone(tmp_path, monkeypatch):
    fidelity = load_fidelity()
    # What bench.py's tests check, in a process of its own; here the same code's probe is the same each run.
    monkeypatch.setattr(fidelity, "probes", lambda args, job_names: {job: [[0.1] * 10] for job in job_names})
    argv = ["--smoke", "--configurations", "3", "--seed", "7", "--results-dir", str(tmp_path),
            "--search-dir", str(tmp_path / "search")]
    assert fidelity.main(argv) == 0
    result = json.loads((tmp_path / "fidelity-smoke.json").read_text())
    assert result["configurations"] == 3 and result["entries"][0]["name"] == "defaults"
    assert all(isinstance(e["errors"], int) for e in result["entries"])
    assert set(result["spearman"]) == set(fidelity.TRIAL_SCORES)
    assert all(rho is None or -1 <= rho <= 1 for rho in result["spearman"].values())
    text = (tmp_path / "fidelity-smoke.md").read_text()
    assert "| val_accuracy (what the search ranks by) |" in text and "| defaults |" in text
    shutil.rmtree(tmp_path / "search")  # a fresh clone: no build/, the results kept in benchmarks/
    monkeypatch.setattr(tuning, "search", lambda *a, **k: pytest.fail("searched again"))
    monkeypatch.setattr(training, "train_model", lambda *a, **k: pytest.fail("trained again"))
    assert fidelity.main(argv) == 0  # the configurations and every training resumed from the results
    again = json.loads((tmp_path / "fidelity-smoke.json").read_text())
    assert again["entries"] == result["entries"]
