"""Kaggle's submission file: build, validate, write atomically, score against known labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .config import NUM_CLASSES
from .modeling.prediction import score
from .plumbing.files import atomic_path

COLUMNS = ["ImageId", "Label"]
KAGGLE_TEST_ROWS = 28_000  # test.csv's images: one row each in a submission Kaggle accepts


class SubmissionError(ValueError):
    """A submission does not have Kaggle's shape; the message says what is wrong."""


def make_submission(labels) -> pd.DataFrame:
    labels = np.asarray(labels)
    return pd.DataFrame({"ImageId": np.arange(1, len(labels) + 1), "Label": labels.astype(np.int64)})


def validate_submission(submission: pd.DataFrame, expected_rows: int) -> None:
    """Header exactly ImageId,Label; ImageId 1..n in order; integer labels 0-9; one row per test image."""
    if list(submission.columns) != COLUMNS:
        raise SubmissionError(f"columns are {list(submission.columns)}, expected exactly {COLUMNS}")
    if len(submission) != expected_rows:
        raise SubmissionError(f"{len(submission)} rows, expected {expected_rows} (one per test image)")
    for column in COLUMNS:
        if not pd.api.types.is_integer_dtype(submission[column]):
            raise SubmissionError(f"column {column!r} holds {submission[column].dtype}, expected integers")
    wrong_ids = np.flatnonzero(submission["ImageId"].to_numpy() != np.arange(1, expected_rows + 1))
    if len(wrong_ids):
        row = int(wrong_ids[0])
        raise SubmissionError(f"row {row + 1}: ImageId {submission['ImageId'].iat[row]}, expected {row + 1}")
    labels = submission["Label"].to_numpy()
    bad = np.flatnonzero((labels < 0) | (labels >= NUM_CLASSES))
    if len(bad):
        row = int(bad[0])
        raise SubmissionError(f"row {row + 1}: Label {labels[row]} is not a digit 0-{NUM_CLASSES - 1}")


def write_submission(submission: pd.DataFrame, path: str | Path, expected_rows: int) -> Path:
    """Validate, then write through a temp file and rename: a failure leaves the old file as it was."""
    validate_submission(submission, expected_rows)
    with atomic_path(path) as tmp:
        submission.to_csv(tmp, index=False)
    return Path(path)


def score_submission(true_labels, submission: pd.DataFrame) -> dict:
    """What the leaderboard would say: the submission's accuracy on the known test labels (the arguments in
    `prediction.score`'s order: truth first)."""
    return score(true_labels, submission["Label"].to_numpy())


def check_file(path: str | Path, expected_rows: int) -> pd.DataFrame:
    """Read a submission CSV and validate it; SubmissionError names the file and what is wrong."""
    path = Path(path)
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise SubmissionError(f"{path}: cannot be read as CSV ({error})") from None
    try:
        validate_submission(frame, expected_rows)
    except SubmissionError as error:
        raise SubmissionError(f"{path}: {error}") from None
    return frame


def main(argv=None) -> int:
    """`python -m digit_recognizer.submission FILE [--rows N]`: check a submission before uploading it."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("file")
    parser.add_argument("--rows", type=int, default=KAGGLE_TEST_ROWS, help="test images (Kaggle: 28,000)")
    args = parser.parse_args(argv)
    try:
        check_file(args.file, args.rows)
    except SubmissionError as error:
        print(f"error: {error}")
        return 1
    print(f"{args.file}: a valid submission of {args.rows:,} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
