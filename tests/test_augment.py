"""Stroke-width augmentation."""

import keras
import numpy as np
import pytest

from digit_recognizer.modeling.augment import RandomStrokeWidth
from digit_recognizer.modeling.training import set_determinism


def stroke(rows: int = 28) -> np.ndarray:
    image = np.zeros((1, rows, rows, 1), np.float32)
    image[0, 5:20, 10:12] = 1.0  # a vertical bar two pixels wide
    return image


def test_stroke_width_is_off_at_inference():
    images = np.repeat(stroke(), 8, axis=0)
    assert np.array_equal(RandomStrokeWidth(0.5)(images, training=False), images)


def test_stroke_width_thickens_thins_or_keeps_each_image():
    set_determinism(0)
    images = np.repeat(stroke(), 64, axis=0)
    out = np.asarray(RandomStrokeWidth(0.3, seed=1)(images, training=True))
    ink = out.sum(axis=(1, 2, 3))
    original = images[0].sum()
    assert {"thicker", "thinner", "same"} == {
        "thicker" if i > original else "thinner" if i < original else "same" for i in ink}
    assert out.shape == images.shape and out.min() >= 0 and out.max() <= 1


def compiled(function):
    """`function` compiled as the backend compiles a training step: TensorFlow's graph with the batch size
    unknown, JAX's jit."""
    if keras.config.backend() == "tensorflow":
        import tensorflow as tf

        return tf.function(function, input_signature=[tf.TensorSpec((None, 28, 28, 1), tf.float32)])
    import jax

    return jax.jit(function)


def test_stroke_width_runs_compiled():
    layer = RandomStrokeWidth(0.25, seed=2)
    layer.build((None, 28, 28, 1))
    graph = compiled(lambda x: layer(x, training=True))
    assert graph(np.repeat(stroke(), 5, axis=0)).shape == (5, 28, 28, 1)


def test_stroke_width_rate_is_checked():
    with pytest.raises(ValueError, match="rate must be in"):
        RandomStrokeWidth(0.6)
