"""Prediction: an ensemble member by member, the compiled forward pass, and model files that must load
safely."""

import keras
import keras_tuner as kt
import numpy as np
import pytest

from digit_recognizer.model import build_model, ensemble
from digit_recognizer.training import (
    ModelFileError,
    ensemble_members,
    forward_pass,
    load_model,
    predict_probabilities,
    set_determinism,
)


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


def test_corrupt_model_file_gets_a_clear_error(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"not a zip archive at all")
    with pytest.raises(ModelFileError, match=r"model\.keras: not a Keras model file that loads safely"):
        load_model(path)


def test_foreign_model_file_gets_a_clear_error(tmp_path):
    path = tmp_path / "model.keras"
    keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)]).save(path)
    with pytest.raises(ModelFileError, match=r"inputs \(None, 5\).*expected \(None, 28, 28, 1\)"):
        load_model(path)


def test_unsafe_lambda_model_is_refused(tmp_path):
    path = tmp_path / "model.keras"
    inputs = keras.Input((28, 28, 1))
    flat = keras.layers.Flatten()(keras.layers.Lambda(lambda x: x * 2)(inputs))
    keras.Model(inputs, keras.layers.Dense(10)(flat)).save(path)
    with pytest.raises(ModelFileError, match="loads safely"):
        load_model(path)
