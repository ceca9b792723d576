"""The model's training-only augmentation: Keras' random rotation, zoom and shift, and random stroke
width, which Keras lacks for handwriting.

Every step passes images through unchanged at inference, so a saved model predicts cleanly;
`RandomStrokeWidth` is registered so a saved model loads in safe mode.
"""

from __future__ import annotations

import keras
from keras import layers, ops

# The default augmentation strength, shared by `augmentation()` and the search space.
AUGMENTATION = {"rotation_degrees": 10.0, "zoom": 0.1, "shift": 0.1, "stroke_width_rate": 0.25}


def augmentation(rotation_degrees: float = AUGMENTATION["rotation_degrees"],
                 zoom: float = AUGMENTATION["zoom"], shift: float = AUGMENTATION["shift"],
                 stroke_width_rate: float = AUGMENTATION["stroke_width_rate"]) -> keras.Sequential:
    """Random rotation, zoom, shift and stroke width; active in training only, so the saved model
    predicts cleanly."""
    steps = []
    if rotation_degrees:
        steps.append(layers.RandomRotation(rotation_degrees / 360, fill_mode="constant"))
    if zoom:
        steps.append(layers.RandomZoom(zoom, fill_mode="constant"))
    if shift:
        steps.append(layers.RandomTranslation(shift, shift, fill_mode="constant"))
    if stroke_width_rate:
        steps.append(RandomStrokeWidth(stroke_width_rate))
    return keras.Sequential(steps or [layers.Identity()], name="augmentation")


@keras.saving.register_keras_serializable(package="digit_recognizer")
class RandomStrokeWidth(layers.Layer):
    """Thicken (grey dilation) or thin (grey erosion) each image's strokes, each with probability `rate`;
    MNIST's bold 1s and 0s are rare enough that a model trained on a part of the data misreads them."""

    def __init__(self, rate: float = 0.25, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate <= 0.5:
            raise ValueError(f"rate must be in [0, 0.5] (thicken and thin each with it), got {rate}")
        self.rate, self.seed = rate, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training or not self.rate:
            return images
        thick = ops.max_pool(images, 2, 1, "same")
        thin = -ops.max_pool(-images, 2, 1, "same")
        draw = keras.random.uniform((ops.shape(images)[0], 1, 1, 1), seed=self.seed_generator)
        return ops.where(draw < self.rate, thick, ops.where(draw < 2 * self.rate, thin, images))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return super().get_config() | {"rate": self.rate, "seed": self.seed}
