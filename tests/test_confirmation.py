"""Confirm before adopting: the search's candidates and the defaults trained at the final schedule, and a
candidate adopted only where it beats the defaults beyond chance; both ways at smoke size, and a
confirmation cut short resumes without training again what it finished."""

import json

import pytest

from digit_recognizer import config, profiles
from digit_recognizer.modeling import confirmation, search_record, training, tuning
from digit_recognizer.modeling.model import default_values
from tests.helpers import prepared_sample

# A model that learns little in a smoke run's three epochs: no batch norm, a slow optimizer, heavy dropout.
WEAK = {"batch_norm": False, "optimizer": "rmsprop", "learning_rate": 0.0003, "filters_0": 16,
        "filters_1": 32, "dense_units": 64, "dropout_0": 0.5, "dropout_1": 0.5, "dense_dropout": 0.5}


def entry(name, errors=0, wrong=(), values=None):
    return {"name": name, "trial_id": None, "search_score": None, "values": values or {"name": name},
            "errors": errors if errors else len(wrong), "wrong": list(wrong)}


def test_a_candidate_is_adopted_only_beyond_chance():
    defaults = entry("defaults", wrong=range(20))
    clear_win = entry("trial 1", wrong=range(5))  # fixes 15, breaks none: p = 0.5 ** 15
    decided = confirmation.decide([defaults, clear_win])
    assert decided["adopted"] == "trial 1" and decided["adopted_values"] == {"name": "trial 1"}
    assert decided["p_value"] == pytest.approx(0.5 ** 15) and decided["reason"].endswith("adopted")
    lucky = entry("trial 2", wrong=[*range(3, 20), 100])  # fixes 3, breaks 1: chance does as well
    decided = confirmation.decide([defaults, lucky])
    assert decided["adopted"] == "defaults" and decided["adopted_values"] == {"name": "defaults"}
    assert decided["reason"].endswith("> 0.05): within chance, the defaults stay")
    worse = entry("trial 3", wrong=range(30))
    decided = confirmation.decide([defaults, worse])
    assert decided["adopted"] == "defaults" and decided["reason"].endswith("no candidate beat them, the "
                                                                          "defaults stay")
    assert confirmation.decide([defaults])["adopted"] == "defaults"


def test_the_bound_is_shared_among_the_candidates():
    defaults = entry("defaults", wrong=range(6))
    win = entry("trial 1", wrong=())  # fixes 6, breaks none: p = 1/64, under 0.05 but not under 0.05 / 4
    assert confirmation.decide([defaults, win])["adopted"] == "trial 1"
    others = [entry(f"trial {n}", wrong=range(10)) for n in (2, 3, 4)]
    assert confirmation.decide([defaults, win, *others])["adopted"] == "defaults"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    return prepared_sample(tmp_path_factory.mktemp("prepared"), max_train_images=500)


def smoke_entries(defaults: dict, candidate: dict) -> list[dict]:
    return [{"name": "defaults", "trial_id": None, "search_score": None, "values": defaults},
            {"name": "trial 1", "trial_id": "1", "search_score": 0.5, "values": candidate}]


def test_at_smoke_size_a_loser_is_not_adopted_and_a_winner_is(prepared, tmp_path, monkeypatch):
    _, dataset = prepared
    profile = profiles.get_profile("smoke")
    tuner = tuning.make_tuner(profile, tmp_path, 7, dataset.source)
    strong, weak = default_values(), default_values() | WEAK
    loses = confirmation.confirm(tuner, dataset, profile, 7, smoke_entries(strong, weak), verbose=0)
    assert loses["adopted"] == "defaults" and loses["adopted_values"] == strong
    defaults, candidate = loses["entries"]
    assert candidate["errors"] > defaults["errors"] and loses["validation_images"] == 50
    assert loses["epochs"] == profile.train_epochs
    # The same two the other way round: a strong candidate against weak defaults is adopted.
    wins = confirmation.confirm(tuner, dataset, profile, 7, smoke_entries(weak, strong), verbose=0)
    assert wins["adopted"] == "trial 1" and wins["adopted_values"] == strong, wins["reason"]
    # Neither trained again: the same trainings, under the other names.
    assert [e["errors"] for e in wins["entries"]] == [candidate["errors"], defaults["errors"]]
    table = confirmation.table(wins)
    assert list(table["candidate"]) == ["defaults", "trial 1"] and list(table["adopted"]) == [False, True]
    # Cut short and started again: what was recorded is not trained again.
    monkeypatch.setattr(training, "train_model", lambda *a, **k: pytest.fail("trained again"))
    again = confirmation.confirm(tuner, dataset, profile, 7, smoke_entries(strong, weak), verbose=0)
    assert again["entries"] == loses["entries"]
    # Another seed is another confirmation: nothing on record is reused for it.
    with pytest.raises(pytest.fail.Exception, match="trained again"):
        confirmation.confirm(tuner, dataset, profile, 8, smoke_entries(strong, weak), verbose=0)


def test_what_is_adopted_is_what_notebook_04_trains(prepared, tmp_path):
    _, dataset = prepared
    paths = config.output_paths(tmp_path)
    profile = profiles.get_profile("smoke")
    tuner = tuning.make_tuner(profile, paths.tuning_dir, 7, dataset.source)
    summary = tuning.search(tuner, dataset, profile, verbose=0)
    candidates = confirmation.candidates(tuner, profile.confirm_candidates)
    assert candidates[0]["name"] == "defaults" and candidates[0]["trial_id"] == "0"  # tried first
    assert len(candidates) == 2 and candidates[1]["values"] != candidates[0]["values"]
    decided = confirmation.decide([entry("defaults", wrong=range(9), values=candidates[0]["values"]),
                                   entry(candidates[1]["name"], wrong=(), values=candidates[1]["values"])])
    _, adopted = tuning.export_results(tuner, paths, summary, dataset.source, decided)
    assert adopted == candidates[1]["values"] == json.loads(paths.best_hyperparameters_file.read_text())
    values, why = search_record.search_on_record(paths, dataset.source)
    assert values == adopted and "confirmed at" in why and why.endswith("adopted")
    record = json.loads(paths.search_summary_file.read_text())
    assert record["confirmation"]["adopted"] == candidates[1]["name"]
    assert [e["errors"] for e in record["confirmation"]["entries"]] == [9, 0]
    del record["confirmation"]  # a search exported before confirmations existed: not trusted
    paths.search_summary_file.write_text(json.dumps(record))
    values, why = search_record.search_on_record(paths, dataset.source)
    assert values is None and "never confirmed at the final training's schedule" in why
