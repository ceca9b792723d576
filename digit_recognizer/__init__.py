"""Helpers for the Kaggle Digit Recognizer notebooks: data, features, model, tuning, training, submission."""

__version__ = "0.1.0"
