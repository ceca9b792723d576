"""A training-only augmentation Keras lacks for handwriting: random stroke width.

It is a Keras layer that passes images through unchanged at inference, so a saved model predicts
cleanly; it is registered so a saved model loads in safe mode.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers


@keras.saving.register_keras_serializable(package="digit_recognizer")
class RandomStrokeWidth(layers.Layer):
    """Thicken (grey dilation) or thin (grey erosion) each image's strokes, each with probability `rate`;
    MNIST's bold 1s and 0s are rare enough that a model trained on 8,000 digits misreads them."""

    def __init__(self, rate: float = 0.25, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate <= 0.5:
            raise ValueError(f"rate must be in [0, 0.5] (thicken and thin each with it), got {rate}")
        self.rate, self.seed = rate, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training or not self.rate:
            return images
        thick = tf.nn.max_pool2d(images, 2, 1, "SAME")
        thin = -tf.nn.max_pool2d(-images, 2, 1, "SAME")
        draw = keras.random.uniform((tf.shape(images)[0], 1, 1, 1), seed=self.seed_generator)
        return tf.where(draw < self.rate, thick, tf.where(draw < 2 * self.rate, thin, images))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return super().get_config() | {"rate": self.rate, "seed": self.seed}
