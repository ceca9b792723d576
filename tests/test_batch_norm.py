"""Batch-norm statistics measured again after training: each layer normalizes the given images."""

import keras
import numpy as np

from digit_recognizer.modeling.batch_norm import recompute_statistics
from digit_recognizer.modeling.model import build_model, hyperparameters_from
from digit_recognizer.modeling.training import set_determinism


def model_with_stale_statistics(values=None) -> keras.Model:
    set_determinism(3)
    model = build_model(hyperparameters_from(values))
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(np.full(layer.moving_mean.shape, 5.0))
            layer.moving_variance.assign(np.full(layer.moving_variance.shape, 9.0))
            layer.gamma.assign(np.linspace(0.5, 2.0, layer.gamma.shape[0]))
            layer.beta.assign(np.linspace(-1.0, 1.0, layer.beta.shape[0]))
    return model


def images(count=60):
    return np.random.default_rng(0).random((count, 28, 28, 1), dtype=np.float32)


def test_every_batch_norm_layer_normalizes_the_images_in_inference_mode():
    model, digits = model_with_stale_statistics(), images()
    recompute_statistics(model, digits, batch_size=25)  # batches of 25, 25 and 10
    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(layers) == 5
    for layer in layers:  # the later layers too: their inputs came through the recomputed earlier ones
        outputs = keras.ops.convert_to_numpy(keras.Model(model.input, layer.output)(digits, training=False))
        outputs = outputs.reshape(-1, outputs.shape[-1])
        variance = np.asarray(layer.moving_variance)
        scale = np.asarray(layer.gamma) * np.sqrt(variance / (variance + layer.epsilon))
        assert np.allclose(outputs.mean(axis=0), np.asarray(layer.beta), atol=1e-4), layer.name
        assert np.allclose(outputs.std(axis=0), np.abs(scale), rtol=1e-3, atol=1e-5), layer.name


def test_batches_combine_into_the_whole_sets_statistics():
    by_batch, whole = model_with_stale_statistics(), model_with_stale_statistics()
    recompute_statistics(by_batch, images(), batch_size=7)
    recompute_statistics(whole, images(), batch_size=1000)
    for a, b in zip(by_batch.non_trainable_weights, whole.non_trainable_weights, strict=True):
        assert np.allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def test_a_model_without_batch_norm_is_left_as_it_was():
    model = model_with_stale_statistics({"batch_norm": False})
    before = model.predict(images(), verbose=0)
    recompute_statistics(model, images())
    assert np.array_equal(model.predict(images(), verbose=0), before)
