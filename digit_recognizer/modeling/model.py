"""The CNN, written as a Keras Tuner `build_model(hp)` so one function serves tuning and training.

Each `hp` call names a knob known to matter for MNIST CNNs; its `default` is a strong untuned model.
"""

from __future__ import annotations

import keras
import keras_tuner as kt
from keras import layers

from ..config import IMAGE_SIZE, NUM_CLASSES
from .augment import AUGMENTATION, augmentation

ENSEMBLE_NAME = "digit_cnn_ensemble"  # `ensemble`'s averaging model
# Faster-moving batch-norm statistics than Keras' 0.99 suit short runs on small data.
BN_MOMENTUM = 0.9
# Filter choices per block; the middle one is the default (32 then 64, as in Deotte's MNIST CNNs).
FILTERS = ((16, 24, 32, 48, 64), (32, 48, 64, 96, 128))
OPTIMIZERS = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop,
              "nadam": keras.optimizers.Nadam}


def conv(x, filters: int, kernel: int, batch_norm: bool, strides: int = 1, padding: str = "same"):
    x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=not batch_norm)(x)
    if batch_norm:
        x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
    return layers.Activation("relu")(x)


def conv_block(x, hp: kt.HyperParameters, block: int, batch_norm: bool):
    """Two 3x3 convolutions or one 5x5 (unpadded: 28 -> 24 pixels, 12 -> 8), then down-sampling by a
    strided 5x5 convolution or max-pooling, then dropout."""
    filters = hp.Choice(f"filters_{block}", FILTERS[block], default=FILTERS[block][2])
    if hp.Choice("conv_style", ["one_5x5", "two_3x3"], default="one_5x5") == "two_3x3":
        x = conv(conv(x, filters, 3, batch_norm, padding="valid"), filters, 3, batch_norm, padding="valid")
    else:
        x = conv(x, filters, 5, batch_norm, padding="valid")
    if hp.Choice("downsample", ["strided", "maxpool"], default="strided") == "strided":
        x = conv(x, filters, 5, batch_norm, strides=2)
    else:
        x = layers.MaxPooling2D()(x)
    return layers.Dropout(hp.Float(f"dropout_{block}", 0.0, 0.5, step=0.1, default=0.4))(x)


def build_model(hp: kt.HyperParameters) -> keras.Model:
    """Augmentation, two convolution blocks, a dense layer, softmax."""
    batch_norm = hp.Boolean("batch_norm", default=True)
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 1))
    x = augmentation(hp.Float("rotation_degrees", 0, 15, step=5, default=AUGMENTATION["rotation_degrees"]),
                     hp.Float("zoom", 0.0, 0.15, step=0.05, default=AUGMENTATION["zoom"]),
                     hp.Float("shift", 0.0, 0.15, step=0.05, default=AUGMENTATION["shift"]),
                     hp.Choice("stroke_width_rate", [0.0, 0.125, 0.25],
                               default=AUGMENTATION["stroke_width_rate"]))(inputs)
    for block in range(2):
        x = conv_block(x, hp, block, batch_norm)
    x = layers.Flatten()(x)
    x = layers.Dense(hp.Choice("dense_units", [64, 128, 256], default=128), use_bias=not batch_norm)(x)
    if batch_norm:
        x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(hp.Float("dense_dropout", 0.0, 0.5, step=0.1, default=0.4))(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32")(x)  # also in mixed precision

    model = keras.Model(inputs, outputs, name="digit_cnn")
    optimizer = OPTIMIZERS[hp.Choice("optimizer", sorted(OPTIMIZERS), default="adam")]
    learning_rate = hp.Float("learning_rate", 3e-4, 3e-3, sampling="log", default=2e-3)  # for batches of 128
    # Decoupled weight decay: each step shrinks every weight by learning rate x this; 0 (none) as before.
    weight_decay = hp.Choice("weight_decay", [0.0, 1e-4, 1e-3, 1e-2], default=0.0)
    model.compile(optimizer=optimizer(learning_rate, weight_decay=weight_decay or None),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _registered(values: dict | None) -> kt.HyperParameters:
    """`values` preset, then a model built: the space holds every knob that model uses, with defaults
    for the ones `values` leaves out."""
    hp = kt.HyperParameters()
    hp.values.update(values or {})
    build_model(hp)
    return hp


def active_values(values: dict) -> dict:
    """Only the values a model built from `values` uses: a 2-block trial keeps no third block's knobs,
    which Keras Tuner carries along once any trial has used them."""
    hp = _registered(values)
    return {p.name: hp.values[p.name] for p in hp.space}


def default_values() -> dict:
    """The search space's default value of every hyperparameter the default model uses."""
    return active_values({})


def hyperparameters_from(values: dict | None) -> kt.HyperParameters:
    """A HyperParameters holding `values`; names absent from `values` take the search space's defaults."""
    hp = _registered(values)
    unknown = set(values or {}) - {p.name for p in hp.space}
    if unknown:
        raise ValueError(f"unknown hyperparameters {sorted(unknown)}; the model has "
                         f"{sorted(p.name for p in hp.space)}")
    return hp


def value_problem(values: dict) -> str | None:
    """What is wrong with hyperparameter `values` against the search space (an unknown name, a value out
    of range or not among the choices, a wrong type); None when a model can be built from them."""
    hp = kt.HyperParameters()
    build_model(hp)  # registers the space, every knob at its default
    knobs = {knob.name: knob for knob in hp.space}
    for name, value in values.items():
        knob = knobs.get(name)
        if knob is None:
            return f"{name!r} is no hyperparameter of the model (it has {sorted(knobs)})"
        if isinstance(knob, kt.engine.hyperparameters.Boolean):
            allowed = isinstance(value, bool)
        elif isinstance(knob, kt.engine.hyperparameters.Choice):
            allowed = any(value == choice and type(value) is type(choice)
                          or isinstance(value, float) and isinstance(choice, float) and value == choice
                          for choice in knob.values)
        else:
            allowed = (isinstance(value, (int, float)) and not isinstance(value, bool)
                       and knob.min_value <= value <= knob.max_value)
        if not allowed:
            space = knob.values if isinstance(knob, kt.engine.hyperparameters.Choice) else \
                "True or False" if isinstance(knob, kt.engine.hyperparameters.Boolean) else \
                f"from {knob.min_value} to {knob.max_value}"
            return f"{name!r} is {value!r}; the search space allows {space}"
    return None


def ensemble(members: list[keras.Model]) -> keras.Model:
    """One model that averages its members' softmax outputs (a single member is returned as is)."""
    if len(members) == 1:
        return members[0]
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 1))
    outputs = layers.Average()([
        keras.Model(m.input, m.output, name=f"member_{i}")(inputs) for i, m in enumerate(members)])
    return keras.Model(inputs, outputs, name=ENSEMBLE_NAME)
