"""The final training: its cosine learning-rate schedule, and the second round on pseudo-labelled test
digits."""

import dataclasses

import numpy as np
import pytest

from digit_recognizer import features, profiles
from digit_recognizer.dataset import loading
from digit_recognizer.modeling import pseudo_labels, training
from digit_recognizer.modeling.prediction import predict_probabilities
from digit_recognizer.modeling.training import cosine_learning_rate


def test_cosine_schedule_decays_from_the_start_to_one_percent():
    rate = cosine_learning_rate(1e-3, epochs=10)
    rates = [rate(epoch) for epoch in range(10)]
    assert rates[0] == pytest.approx(1e-3) and rates[-1] == pytest.approx(1e-5)
    assert all(a > b for a, b in zip(rates, rates[1:], strict=False))


def test_only_test_digits_the_model_is_sure_of_are_pseudo_labelled():
    probabilities = np.array([[0.996, 0.004, 0], [0.5, 0.5, 0], [0, 0.001, 0.999], [0.2, 0.795, 0.005]])
    indices, labels = pseudo_labels.sure_digits(probabilities, 0.995)
    assert indices.tolist() == [0, 2] and labels.tolist() == [0, 2]
    images = np.arange(6 * 4, dtype=np.float32).reshape(6, 2, 2, 1)
    dataset = features.Dataset(images[:2], np.array([5, 6]), images[2:3], np.array([7]), images[2:], None)
    widened = pseudo_labels.with_pseudo_labels(dataset, indices, labels)
    assert (widened.x_train == images[[0, 1, 2, 4]]).all() and widened.y_train.tolist() == [5, 6, 0, 2]
    assert widened.y_train.dtype == dataset.y_train.dtype and widened.x_test is dataset.x_test


def test_a_second_round_trains_on_the_sure_test_digits_and_a_stopped_one_goes_on(tmp_path, monkeypatch,
                                                                                  capsys):
    raw = loading.load_data(None)
    dataset = features.prepare_dataset(raw, 0.1, 7, max_train_images=200)
    dataset = dataclasses.replace(dataset, x_test=dataset.x_test[:100])
    profile = dataclasses.replace(profiles.get_profile("smoke"), ensemble_size=2, train_epochs=1,
                                  pseudo_label_epochs=1, pseudo_label_confidence=0.3)
    seen = []
    straight, histories, members, _ = training.train_ensemble(None, dataset, profile, 7, verbose=0,
                                                              after_first_round=seen.append)
    assert len(seen) == 1 and seen[0].count_params() == straight.count_params()
    added = members[0]["pseudo_labelled"]
    assert 0 < added <= 100 and f"{added} of 100 test digits pseudo-labelled" in capsys.readouterr().out
    assert [h.index.tolist() for h in histories] == [[1, 2], [1, 2]]  # one epoch, then one more
    assert all(m["images"] == len(dataset.x_valid) and "first_round_errors" in m for m in members)
    # Stopped in the second member's second round, then started again:
    backup, real = tmp_path / "backup", training.continue_training
    rounds = []

    def stopped_in_the_second_members_second_round(*args, **kwargs):
        rounds.append(1)
        if len(rounds) == 2:
            raise KeyboardInterrupt  # the run killed there
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "continue_training", stopped_in_the_second_members_second_round)
    with pytest.raises(KeyboardInterrupt):
        training.train_ensemble(None, dataset, profile, 7, verbose=0, backup_dir=backup)
    finished = sorted(p.relative_to(backup).as_posix() for p in backup.rglob("*.keras"))
    assert finished == ["member-0/round-1.keras", "member-0/round-2.keras", "member-1/round-1.keras"]
    monkeypatch.setattr(training, "train_model", lambda *a, **k: pytest.fail("a first round again"))
    rounds.clear()
    resumed, histories, _, _ = training.train_ensemble(None, dataset, profile, 7, verbose=0,
                                                       backup_dir=backup)
    assert len(rounds) == 1 and not backup.exists()  # only the unfinished round ran; done, the backup goes
    assert [h.index.tolist() for h in histories] == [[1, 2], [1, 2]]
    images = dataset.x_test[:50]
    np.testing.assert_allclose(predict_probabilities(resumed, images),  # as if it had never stopped
                               predict_probabilities(straight, images), atol=1e-5)
