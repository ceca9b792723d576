"""Prediction: an ensemble member by member, the compiled forward pass, and model files that must load
safely."""

import keras
import keras_tuner as kt
import numpy as np
import pytest

from digit_recognizer.modeling.model import build_model, ensemble
from digit_recognizer.modeling.prediction import (
    ModelFileError,
    ensemble_members,
    forward_pass,
    load_model,
    predict_probabilities,
)
from digit_recognizer.modeling.training import set_determinism


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


def corrupt_file(path):
    path.write_bytes(b"not a zip archive at all")


def model_of_other_inputs(path):
    keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)]).save(path)


def model_with_a_lambda_layer(path):
    inputs = keras.Input((28, 28, 1))
    flat = keras.layers.Flatten()(keras.layers.Lambda(lambda x: x * 2)(inputs))
    keras.Model(inputs, keras.layers.Dense(10)(flat)).save(path)


# how the file is written, the message load_model refuses it with
BAD_MODEL_FILES = {
    "corrupt file": (corrupt_file, r"model\.keras: not a Keras model file that loads safely"),
    "model of other inputs": (model_of_other_inputs, r"inputs \(None, 5\).*expected \(None, 28, 28, 1\)"),
    "unsafe Lambda layer": (model_with_a_lambda_layer, "loads safely"),
}


@pytest.mark.parametrize(("write", "message"), BAD_MODEL_FILES.values(), ids=BAD_MODEL_FILES.keys())
def test_a_model_file_that_does_not_load_safely_gets_a_clear_error(tmp_path, write, message):
    path = tmp_path / "model.keras"
    write(path)
    with pytest.raises(ModelFileError, match=message):
        load_model(path)
