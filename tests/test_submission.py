"""The submission file: Kaggle's shape, bad frames refused with the old file kept, scoring."""

import numpy as np
import pandas as pd
import pytest

from digit_recognizer.submission import SubmissionError, make_submission, score_submission, write_submission
from digit_recognizer.submission import main as check_submission


def test_submission_has_kaggles_shape(tmp_path):
    path = write_submission(make_submission([3, 1, 4]), tmp_path / "submission.csv", expected_rows=3)
    assert path.read_text() == "ImageId,Label\n1,3\n2,1\n3,4\n"


@pytest.mark.parametrize("frame, expected", [
    (pd.DataFrame({"Id": [1], "Label": [1]}), "expected exactly"),
    (pd.DataFrame({"ImageId": [1, 2], "Label": [1, 2]}), "2 rows, expected 3"),
    (pd.DataFrame({"ImageId": [1, 2, 4], "Label": [1, 2, 3]}), "row 3: ImageId 4, expected 3"),
    (pd.DataFrame({"ImageId": [1, 2, 3], "Label": [1, 12, 3]}), "row 2: Label 12"),
    (pd.DataFrame({"ImageId": [1, 2, 3], "Label": [1.0, 2.5, 3.0]}), "expected integers"),
])
def test_bad_submission_is_rejected_and_old_file_kept(tmp_path, frame, expected):
    path = tmp_path / "submission.csv"
    path.write_text("earlier\n")
    with pytest.raises(SubmissionError, match=expected):
        write_submission(frame, path, expected_rows=3)
    assert path.read_text() == "earlier\n"
    assert [p.name for p in tmp_path.iterdir()] == ["submission.csv"]


def test_score_counts_errors():
    result = score_submission(np.array([1, 2, 0, 4]), make_submission([1, 2, 3, 4]))
    assert result == {"images": 4, "accuracy": 0.75, "errors": 1}


def test_score_refuses_predictions_that_do_not_match_the_labels():
    with pytest.raises(ValueError, match="3 predictions for 4 known labels"):
        score_submission(np.array([1, 2, 0, 4]), make_submission([1, 2, 3]))


def test_wrong_shape_submission_gets_a_message_not_a_traceback(tmp_path, capsys):
    path = tmp_path / "submission.csv"
    path.write_text("ImageId,Label,Extra\n1,2,3\n")
    assert check_submission([str(path), "--rows", "1"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("error: ") and "expected exactly ['ImageId', 'Label']" in out
    assert "Traceback" not in out
