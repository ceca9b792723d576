"""Batch-norm statistics measured again once training ends ("precise BN", Wu and Johnson, 2021).

While a model trains, each BatchNormalization layer keeps a moving average of its inputs' mean and
variance over the last few batches, as they were then: augmented digits, dropout on, weights still
moving. A trained model predicts clean digits with dropout off and its final weights, whose statistics
differ (by a third in some layers' variance). Measuring them again on the clean training digits costs a
few seconds and nothing at prediction time.

On TensorFlow the moments come from one `tf.function` (faster than Keras' per-call machinery, and what the
records were made with); on other backends from a Keras model of the same computation, compiled by Keras.
"""

from __future__ import annotations

import keras
import numpy as np


def recompute_statistics(model: keras.Model, images: np.ndarray, batch_size: int = 2000) -> None:
    """Set the moving mean and variance of each of `model`'s own BatchNormalization layers to those of
    its inputs over `images`, in inference mode. Layer by layer from the input, since a layer's inputs
    depend on the statistics of the layers before it."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            mean, variance = input_moments(model, layer, images, batch_size)
            layer.moving_mean.assign(mean.astype(np.float32))
            layer.moving_variance.assign(variance.astype(np.float32))


def input_moments(model: keras.Model, layer, images: np.ndarray, batch_size: int):
    """Per-channel mean and variance of `layer`'s inputs over `images`, combined from batches in
    float64."""
    axes = list(range(len(layer.input.shape) - 1))  # every axis but the channels
    moments = batch_moments(model, layer, axes)
    counts, means, variances = [], [], []
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size]
        mean, variance = moments(batch)
        counts.append(len(batch))
        means.append(keras.ops.convert_to_numpy(mean))
        variances.append(keras.ops.convert_to_numpy(variance))
    weights = np.array(counts, dtype=np.float64) / sum(counts)
    means, variances = np.array(means, dtype=np.float64), np.array(variances, dtype=np.float64)
    mean = weights @ means
    return mean, weights @ (variances + (means - mean) ** 2)


def batch_moments(model: keras.Model, layer, axes: list[int]):
    """batch -> (mean, variance) per channel of `layer`'s inputs, in inference mode, in float32."""
    if keras.config.backend() == "tensorflow":
        import tensorflow as tf

        inputs_of = keras.Model(model.input, layer.input)

        @tf.function(reduce_retracing=True)
        def moments(batch):
            return tf.nn.moments(tf.cast(inputs_of(batch, training=False), tf.float32), axes)

        return moments
    of_inputs = keras.Model(model.input, keras.ops.moments(keras.ops.cast(layer.input, "float32"), axes))
    return of_inputs.predict_on_batch
