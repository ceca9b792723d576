"""The CNN, written as a Keras Tuner `build_model(hp)` so one function serves tuning and training."""

from __future__ import annotations

import keras
import keras_tuner as kt
from keras import layers

from .config import IMAGE_SIZE, NUM_CLASSES

# Augmentation strength: fractions of a full turn / of the image size.
ROTATION = 10 / 360
ZOOM = 0.1
SHIFT = 0.1


def augmentation(rotation: float = ROTATION, zoom: float = ZOOM, shift: float = SHIFT) -> keras.Sequential:
    """Random rotation, zoom and shift; active in training only, so the saved model predicts cleanly."""
    return keras.Sequential([
        layers.RandomRotation(rotation, fill_mode="constant"),
        layers.RandomZoom(zoom, fill_mode="constant"),
        layers.RandomTranslation(shift, shift, fill_mode="constant"),
    ], name="augmentation")


# Faster-moving batch-norm statistics than Keras' 0.99 suit short runs on small data.
BN_MOMENTUM = 0.9


def conv_bn_relu(x, filters: int):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
    return layers.Activation("relu")(x)


def build_model(hp: kt.HyperParameters) -> keras.Model:
    """Two VGG-style blocks (two 3x3 convolutions, max-pool, dropout), a dense layer, softmax."""
    filters = hp.Choice("filters", [24, 32, 48], default=32)
    dense_units = hp.Choice("dense_units", [128, 256], default=128)
    dropout = hp.Float("dropout", 0.2, 0.5, step=0.1, default=0.3)
    learning_rate = hp.Choice("learning_rate", [3e-4, 1e-3, 3e-3], default=1e-3)

    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 1))
    x = augmentation()(inputs)
    for block_filters in (filters, 2 * filters):
        x = conv_bn_relu(x, block_filters)
        x = conv_bn_relu(x, block_filters)
        x = layers.MaxPooling2D()(x)
        x = layers.Dropout(dropout)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(dense_units, use_bias=False)(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)

    model = keras.Model(inputs, outputs, name="digit_cnn")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def hyperparameters_from(values: dict | None) -> kt.HyperParameters:
    """A HyperParameters holding `values`; names absent from `values` take the search space's defaults."""
    hp = kt.HyperParameters()
    build_model(hp)  # registers every hyperparameter with its default
    for name, value in (values or {}).items():
        if name not in hp.values:
            raise ValueError(f"unknown hyperparameter {name!r}; the model has {sorted(hp.values)}")
        hp.values[name] = value
    return hp
