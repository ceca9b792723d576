import keras_tuner as kt
import numpy as np
import pytest

from digit_recognizer.model import build_model, ensemble, hyperparameters_from
from digit_recognizer.prediction import ensemble_members, forward_pass, predict_probabilities
from digit_recognizer.training import set_determinism
from digit_recognizer.tuning import archive_search, tunable_values


def test_default_model_maps_images_to_class_probabilities():
    set_determinism(0)
    model = build_model(kt.HyperParameters())
    images = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    probabilities = model.predict(images, verbose=0)
    assert probabilities.shape == (4, 10)
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    # augmentation is off at inference: the same input gives the same output
    assert np.array_equal(probabilities, model.predict(images, verbose=0))


def test_hyperparameters_fill_in_defaults_and_reject_unknown_names():
    hp = hyperparameters_from({"filters_0": 24})
    assert hp.values["filters_0"] == 24 and hp.values["dense_units"] == 128
    with pytest.raises(ValueError, match=r"unknown hyperparameters \['filterz'\]"):
        hyperparameters_from({"filterz": 1})


@pytest.mark.parametrize("values", [
    {"conv_style": "two_3x3", "downsample": "maxpool", "batch_norm": False, "filters_1": 128},
    {"optimizer": "rmsprop", "rotation_degrees": 0.0, "zoom": 0.0, "shift": 0.0, "stroke_width_rate": 0.0},
])
def test_every_branch_of_the_search_space_builds(values):
    model = build_model(hyperparameters_from(values))
    assert model.output_shape == (None, 10)


def test_ensemble_averages_its_members():
    set_determinism(1)
    members = [build_model(kt.HyperParameters()) for _ in range(2)]
    images = np.random.default_rng(1).random((3, 28, 28, 1), dtype=np.float32)
    expected = sum(m.predict(images, verbose=0) for m in members) / 2
    assert np.allclose(ensemble(members).predict(images, verbose=0), expected, atol=1e-6)
    assert ensemble(members[:1]) is members[0]


def test_tuner_bookkeeping_and_unused_knobs_are_not_exported():
    hp = kt.HyperParameters()
    hp.values.update({"conv_style": "two_3x3", "filters_0": 24, "dense_dropout": 0.30000000000000004,
                      "filters_2": 16, "dropout_2": 0.1, "tuner/epochs": 3})
    exported = tunable_values(hp)
    assert exported["filters_0"] == 24 and exported["dense_dropout"] == 0.3
    assert not {"filters_2", "dropout_2", "tuner/epochs"} & set(exported)
    assert hyperparameters_from(exported).values["conv_style"] == "two_3x3"  # notebook 04 can build it


def test_archive_keeps_an_earlier_search(tmp_path):
    assert archive_search(tmp_path, "full") is None
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "oracle.json").write_text("{}")
    (tmp_path / "trials.csv").write_text("trial_id\n")
    archived = archive_search(tmp_path, "full")
    assert archived.parent == tmp_path / "archive"
    assert (archived / "full" / "oracle.json").is_file() and (archived / "trials.csv").is_file()
    assert not (tmp_path / "full").exists()


def test_an_ensemble_predicts_member_by_member_with_the_same_result():
    set_determinism(2)
    members = [build_model(kt.HyperParameters()) for _ in range(3)]
    model = ensemble(members)
    assert len(ensemble_members(model)) == 3 and ensemble_members(members[0]) == [members[0]]
    images = np.random.default_rng(2).random((5, 28, 28, 1), dtype=np.float32)
    assert np.allclose(predict_probabilities(model, images), model.predict(images, verbose=0), atol=1e-6)


def test_the_compiled_forward_pass_matches_keras_predict_across_batches():
    set_determinism(3)
    model = build_model(kt.HyperParameters())
    images = np.random.default_rng(3).random((7, 28, 28, 1), dtype=np.float32)
    assert np.allclose(forward_pass(model, images, batch_size=3), model.predict(images, verbose=0), atol=1e-6)
    assert forward_pass(model, images[:0]).shape == (0, 10)
