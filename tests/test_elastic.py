"""Elastic distortion."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from digit_recognizer.elastic import RandomElasticDistortion, bilinear_sample
from digit_recognizer.prediction import load_model
from digit_recognizer.training import set_determinism


def digits(count: int = 16) -> np.ndarray:
    images = np.zeros((count, 28, 28, 1), np.float32)
    images[:, 6:22, 12:15] = 1.0  # a vertical bar
    images[:, 6:9, 8:20] = 1.0  # and a bar across its top
    return images


def test_bilinear_sample_reads_between_pixels_and_zero_outside():
    image = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    rows, cols = np.meshgrid(np.arange(4, dtype=np.float32), np.arange(4, dtype=np.float32), indexing="ij")
    same = bilinear_sample(tf.constant(image), tf.constant(rows[None]), tf.constant(cols[None]))
    assert np.allclose(same, image)
    half_right = bilinear_sample(tf.constant(image), tf.constant(rows[None]), tf.constant(cols[None] + 0.5))
    assert np.allclose(half_right[0, :, :3, 0], image[0, :, :3, 0] + 0.5)  # between two columns
    assert np.allclose(half_right[0, :, 3, 0], image[0, :, 3, 0] / 2)  # half of it past the edge, zero
    far = bilinear_sample(tf.constant(image), tf.constant(rows[None] + 10), tf.constant(cols[None]))
    assert not np.any(far)


def test_elastic_is_off_at_inference_and_at_alpha_zero():
    images = digits()
    assert np.array_equal(RandomElasticDistortion()(images, training=False), images)
    assert np.array_equal(RandomElasticDistortion(0.0)(images, training=True), images)


def displacements(seed: int, count: int = 32) -> np.ndarray:
    """Each pixel's (row, column) displacement, read off distorted ramps (value = row, value = column)
    in the middle of the image, where no pixel is read from outside it."""
    rows, cols = np.meshgrid(np.arange(28, dtype=np.float32), np.arange(28, dtype=np.float32), indexing="ij")
    moved = [np.asarray(RandomElasticDistortion(seed=seed)(np.repeat(ramp[None, :, :, None], count, 0),
                                                           training=True))[..., 0] - ramp
             for ramp in (rows, cols)]
    return np.stack(moved, axis=-1)[:, 8:20, 8:20]


def test_elastic_moves_pixels_about_a_pixel_each_image_its_own_way():
    set_determinism(0)
    images = digits()
    out = np.asarray(RandomElasticDistortion(seed=1)(images, training=True))
    assert out.shape == images.shape and out.min() >= 0 and out.max() <= 1
    assert all(not np.allclose(out[i], images[i]) for i in range(len(images)))
    assert not np.allclose(out[0], out[1])
    assert abs(out.sum() / images.sum() - 1) < 0.05  # the strokes bend; the ink stays
    field = displacements(seed=1)
    assert 0.5 < np.abs(field).mean() < 2  # pixels in the middle move about one pixel
    assert not np.allclose(field[0], field[1])


def test_elastic_draws_rows_and_columns_apart():
    """Keras' RandomElasticTransform draws both from one seed, so pixels only move along a diagonal."""
    field = displacements(seed=3).reshape(-1, 2)
    assert abs(np.corrcoef(field.T)[0, 1]) < 0.2


def test_elastic_is_seeded():
    images = digits()
    first, second = (np.asarray(RandomElasticDistortion(seed=7)(images, training=True)) for _ in range(2))
    assert np.array_equal(first, second)


def test_elastic_strength_is_checked():
    with pytest.raises(ValueError, match="alpha"):
        RandomElasticDistortion(-1.0)


def test_a_model_with_elastic_distortion_saves_and_loads_safely(tmp_path):
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Flatten()(RandomElasticDistortion(17.0, seed=2)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))
    model.save(path := tmp_path / "model.keras")
    loaded = load_model(path)
    layer = next(layer for layer in loaded.layers if isinstance(layer, RandomElasticDistortion))
    assert (layer.alpha, layer.seed) == (17.0, 2)
    assert np.allclose(loaded.predict(digits(2), verbose=0), model.predict(digits(2), verbose=0))
