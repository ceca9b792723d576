"""benchmarks/fidelity.py: the rank correlation between the search's trial scores and the final training's."""

import json

import pytest

from digit_recognizer.modeling import training
from tests.helpers import load_benchmark


def load_fidelity():
    return load_benchmark("fidelity")


def test_configurations_are_spread_over_the_ranking():
    spread = load_fidelity().spread
    assert spread(list(range(10)), 4) == [0, 3, 6, 9] and spread([1, 2], 5) == [1, 2]


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


@pytest.mark.e2e
def test_a_smoke_run_reports_and_resumes(tmp_path, monkeypatch):
    fidelity = load_fidelity()
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
    monkeypatch.setattr(training, "train_model", lambda *a, **k: pytest.fail("trained again"))
    assert fidelity.main(argv) == 0  # the search and every training resumed from --search-dir
    again = json.loads((tmp_path / "fidelity-smoke.json").read_text())
    assert again["entries"] == result["entries"]
