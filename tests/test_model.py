"""The model: built from hyperparameters, every branch of the search space, ensembles."""

import keras_tuner as kt
import numpy as np
import pytest

from digit_recognizer.modeling.model import build_model, ensemble, hyperparameters_from
from digit_recognizer.modeling.training import set_determinism


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


def test_weight_decay_is_off_by_default_and_reaches_the_optimizer_when_chosen():
    assert build_model(kt.HyperParameters()).optimizer.weight_decay is None  # the default model as before
    model = build_model(hyperparameters_from({"weight_decay": 1e-3, "optimizer": "nadam"}))
    assert model.optimizer.weight_decay == 1e-3


def test_ensemble_averages_its_members():
    set_determinism(1)
    members = [build_model(kt.HyperParameters()) for _ in range(2)]
    images = np.random.default_rng(1).random((3, 28, 28, 1), dtype=np.float32)
    expected = sum(m.predict(images, verbose=0) for m in members) / 2
    assert np.allclose(ensemble(members).predict(images, verbose=0), expected, atol=1e-6)
    assert ensemble(members[:1]) is members[0]
