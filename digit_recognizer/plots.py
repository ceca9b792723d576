"""The figures the notebooks show. Each function returns a matplotlib Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import ConfusionMatrixDisplay

from .config import IMAGE_SIZE, NUM_CLASSES


def _image(pixels) -> np.ndarray:
    return np.asarray(pixels).reshape(IMAGE_SIZE, IMAGE_SIZE)


def class_counts(labels, title: str = "Images per class"):
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=NUM_CLASSES)
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.bar(range(NUM_CLASSES), counts, color="tab:blue")
    ax.set(xticks=range(NUM_CLASSES), xlabel="digit", ylabel="images", title=title)
    for digit, count in enumerate(counts):
        ax.annotate(str(count), (digit, count), ha="center", va="bottom", fontsize=8)
    return fig


def digits_per_class(images, labels, per_class: int = 8, seed: int = 0):
    """A grid: one row per digit, `per_class` random examples of it."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(NUM_CLASSES, per_class, figsize=(per_class * 0.8, NUM_CLASSES * 0.8))
    for digit in range(NUM_CLASSES):
        choices = np.flatnonzero(labels == digit)
        picked = rng.choice(choices, size=min(per_class, len(choices)), replace=False)
        for column, ax in enumerate(axes[digit]):
            ax.axis("off")
            if column < len(picked):
                ax.imshow(_image(images[picked[column]]), cmap="gray_r")
        axes[digit][0].set_title(str(digit), loc="left", fontsize=8)
    fig.tight_layout()
    return fig


def pixel_histogram(images):
    values = np.asarray(images).ravel()
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.hist(values, bins=50, color="tab:gray", log=True)
    ax.set(xlabel="pixel intensity (scaled)", ylabel="pixels (log scale)",
           title=f"Pixel intensities: {np.mean(values == 0):.0%} exactly 0 (background)")
    return fig


def augmented_examples(images, augment, copies: int = 6, seed: int = 0):
    """Each row: an original digit, then `copies` random augmentations of it."""
    rng = np.random.default_rng(seed)
    picked = np.asarray(images)[rng.choice(len(images), size=4, replace=False)]
    fig, axes = plt.subplots(len(picked), copies + 1, figsize=((copies + 1) * 0.9, len(picked) * 0.9))
    for row, image in enumerate(picked):
        batch = np.repeat(image[None], copies, axis=0)
        variants = np.asarray(augment(batch, training=True))
        for column, shown in enumerate([image, *variants]):
            axes[row][column].imshow(_image(shown), cmap="gray_r")
            axes[row][column].axis("off")
    axes[0][0].set_title("original", fontsize=8)
    fig.tight_layout()
    return fig


def trials_chart(table: pd.DataFrame):
    """Validation accuracy of each trial, in the order they ran."""
    ordered = table.sort_values("trial_id")
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot(range(len(ordered)), ordered["val_accuracy"], "o-")
    ax.set(xlabel="trial (in order run)", ylabel="best val_accuracy", title="Tuning trials")
    return fig


def _effect(column: pd.Series, score: pd.Series) -> float:
    """How much a hyperparameter explains the score: |Spearman| for numbers, eta squared for categories."""
    known = column.notna() & score.notna()
    column, score = column[known], score[known]
    if column.nunique() < 2 or score.var() == 0:
        return 0.0
    if pd.api.types.is_numeric_dtype(column) and column.nunique() > 2:
        return abs(column.rank().corr(score.rank()))
    groups = score.groupby(column.astype(str))
    between = (groups.count() * (groups.mean() - score.mean()) ** 2).sum()
    return float(between / ((score - score.mean()) ** 2).sum())


def hyperparameter_effects(table: pd.DataFrame, hyperparameters: list[str], top: int = 3):
    """Validation accuracy against the `top` hyperparameters that explain it best."""
    done = table[table["val_accuracy"].notna()]
    effects = {name: _effect(done[name], done["val_accuracy"]) for name in hyperparameters}
    ranked = sorted(hyperparameters, key=lambda name: -effects[name])[:top]
    fig, axes = plt.subplots(1, len(ranked), figsize=(4 * len(ranked), 3), squeeze=False)
    for ax, name in zip(axes[0], ranked, strict=True):
        values = done[name]
        if pd.api.types.is_numeric_dtype(values) and values.nunique() > 2:
            ax.scatter(values, done["val_accuracy"], alpha=0.7)
        else:
            labels = sorted(values.dropna().astype(str).unique())
            positions = values.astype(str).map({label: i for i, label in enumerate(labels)})
            ax.scatter(positions, done["val_accuracy"], alpha=0.7)
            ax.set_xticks(range(len(labels)), labels)
        ax.set(xlabel=name, ylabel="best val_accuracy",
               title=f"{name} (effect {effects[name]:.2f})")
    fig.tight_layout()
    return fig


def learning_curves(histories: list[pd.DataFrame]):
    """Training (dashed) and validation (solid) loss and accuracy per epoch, one colour per member."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, metric in ((left, "loss"), (right, "accuracy")):
        for member, history in enumerate(histories):
            color = f"C{member}"
            ax.plot(history.index, history[metric], "--", color=color, alpha=0.6)
            ax.plot(history.index, history[f"val_{metric}"], color=color, label=f"member {member + 1}")
        ax.set(xlabel="epoch", ylabel=metric, title=f"{metric} (dashed: training, solid: validation)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def confusion(matrix):
    fig, ax = plt.subplots(figsize=(6, 6))
    ConfusionMatrixDisplay(np.asarray(matrix), display_labels=range(NUM_CLASSES)).plot(
        ax=ax, colorbar=False, cmap="Blues")
    ax.set_title("Confusion matrix (validation)")
    return fig


def confident_mistakes(images, labels, probabilities, count: int = 12):
    """The wrong predictions the model was surest of: predicted digit, its probability, true digit."""
    labels = np.asarray(labels)
    predicted = probabilities.argmax(axis=1)
    mistakes = np.flatnonzero(predicted != labels)
    wrong = mistakes[np.argsort(-probabilities[mistakes, predicted[mistakes]])][:count]
    columns = 6
    rows = max(1, -(-len(wrong) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.4, rows * 1.6), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, index in zip(axes.ravel(), wrong, strict=False):
        ax.imshow(_image(images[index]), cmap="gray_r")
        ax.set_title(f"said {predicted[index]} ({probabilities[index, predicted[index]]:.2f})\n"
                     f"is {labels[index]}", fontsize=8)
    fig.suptitle(f"Most confident mistakes ({len(mistakes)} in all)")
    fig.tight_layout()
    return fig
