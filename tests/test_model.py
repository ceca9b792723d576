import keras_tuner as kt
import numpy as np
import pytest

from digit_recognizer.model import build_model, hyperparameters_from
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
    hp = hyperparameters_from({"filters": 24})
    assert hp.values["filters"] == 24 and hp.values["dense_units"] == 128
    with pytest.raises(ValueError, match="unknown hyperparameter 'filterz'"):
        hyperparameters_from({"filterz": 1})


def test_tuner_bookkeeping_is_not_exported():
    hp = kt.HyperParameters()
    hp.Fixed("filters", 32)
    hp.Fixed("tuner/epochs", 3)
    assert tunable_values(hp) == {"filters": 32}


def test_archive_keeps_an_earlier_search(tmp_path):
    assert archive_search(tmp_path, "full") is None
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "oracle.json").write_text("{}")
    (tmp_path / "trials.csv").write_text("trial_id\n")
    archived = archive_search(tmp_path, "full")
    assert archived.parent == tmp_path / "archive"
    assert (archived / "full" / "oracle.json").is_file() and (archived / "trials.csv").is_file()
    assert not (tmp_path / "full").exists()
