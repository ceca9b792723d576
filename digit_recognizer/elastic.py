"""Elastic distortion (Simard et al., 2003): each image is resampled along a random, smooth field of
pixel displacements, the augmentation that took CNNs on MNIST from 0.6% to 0.4% errors there.

Keras' own `RandomElasticTransform` draws its horizontal and vertical displacements from the same seed,
so it only ever moves pixels along one diagonal; this layer draws them apart.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from keras import layers

# Displacements from uniform noise in [-1, 1], smoothed by a Gaussian of SIGMA pixels and scaled by the
# layer's `alpha`: at alpha 34 a pixel moves about 1.1 pixels on average (Simard's and Ciresan's range).
SIGMA = 5.0
ELASTIC_ALPHA = 34.0  # the model's default


def gaussian_kernel(sigma: float) -> np.ndarray:
    """A normalized 1-D Gaussian, 2 * ceil(2 sigma) + 1 pixels long, shaped as a column for a depthwise
    convolution of the two displacement channels (transposed, it blurs the rows)."""
    radius = math.ceil(2 * sigma)
    line = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    return np.repeat((line / line.sum())[:, None, None, None], 2, axis=2).astype(np.float32)


def bilinear_sample(images: tf.Tensor, rows: tf.Tensor, cols: tf.Tensor) -> tf.Tensor:
    """`images` (batch, height, width, 1) read at fractional `rows`, `cols` (batch, height, width);
    outside the image reads as 0, the background."""
    height, width = images.shape[1], images.shape[2]
    padded = tf.pad(images[..., 0], [[0, 0], [1, 1], [1, 1]])  # a zero border to read from
    flat = tf.reshape(padded, [tf.shape(images)[0], (height + 2) * (width + 2)])
    rows = tf.clip_by_value(rows + 1.0, 0.0, height + 1.0)
    cols = tf.clip_by_value(cols + 1.0, 0.0, width + 1.0)
    top, left = tf.floor(rows), tf.floor(cols)
    down, right = rows - top, cols - left
    top, left = tf.cast(top, tf.int32), tf.cast(left, tf.int32)
    bottom, far = tf.minimum(top + 1, height + 1), tf.minimum(left + 1, width + 1)

    def read(r, c):
        return tf.gather(flat, r * (width + 2) + c, batch_dims=1)

    upper = read(top, left) * (1 - right) + read(top, far) * right
    lower = read(bottom, left) * (1 - right) + read(bottom, far) * right
    return (upper * (1 - down) + lower * down)[..., None]


@keras.saving.register_keras_serializable(package="digit_recognizer")
class RandomElasticDistortion(layers.Layer):
    """Resample each image along its own random smooth displacement field, `alpha` times uniform noise
    smoothed by a Gaussian of `sigma` pixels; active in training only."""

    def __init__(self, alpha: float = ELASTIC_ALPHA, sigma: float = SIGMA, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if alpha < 0 or sigma <= 0:
            raise ValueError(f"alpha must be >= 0 and sigma > 0, got alpha {alpha}, sigma {sigma}")
        self.alpha, self.sigma, self.seed = alpha, sigma, seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.kernel = gaussian_kernel(sigma)

    def call(self, images, training=None):
        if not training or not self.alpha:
            return images
        dtype = images.dtype
        images = tf.cast(images, tf.float32)
        shape = tf.shape(images)
        noise = keras.random.uniform((shape[0], shape[1], shape[2], 2), -1.0, 1.0, seed=self.seed_generator)
        column = tf.nn.depthwise_conv2d(noise, self.kernel, [1, 1, 1, 1], "SAME")
        field = self.alpha * tf.nn.depthwise_conv2d(column, tf.transpose(self.kernel, [1, 0, 2, 3]),
                                                    [1, 1, 1, 1], "SAME")
        rows = tf.cast(tf.range(shape[1])[None, :, None], tf.float32) + field[..., 0]
        cols = tf.cast(tf.range(shape[2])[None, None, :], tf.float32) + field[..., 1]
        return tf.cast(bilinear_sample(images, rows, cols), dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return super().get_config() | {"alpha": self.alpha, "sigma": self.sigma, "seed": self.seed}
