"""`make submit` (send, wait for the public score, record it) and `make submissions`, offline: Kaggle is
faked at the installed `kaggle` package's boundary (tests/kaggle_fakes.py); the wait's clock is injected."""

import json

import numpy as np
import pytest
from kagglesdk.competitions.types.competition_api_service import ApiListSubmissionsResponse
from kagglesdk.competitions.types.submission_status import SubmissionStatus

from digit_recognizer.kaggle_api import competition
from digit_recognizer.kaggle_api.__main__ import main
from digit_recognizer.kaggle_api.competition import Clock, submission_message
from digit_recognizer.kaggle_api.credentials import KaggleError, NoCredentials
from digit_recognizer.submission import SubmissionError, make_submission
from tests.kaggle_fakes import (
    MANIFEST,
    FakeClient,
    FakeKaggle,
    created,
    finished_run,
    http_error,
    no_network,
    real_api,
    submission,
)

MESSAGE = "digit-recognizer: profile full, seed 42, commit abc1234, local 0.9912 (18,000 labelled)"


@pytest.fixture
def run_root(tmp_path):
    return finished_run(tmp_path)


class FakeClock(Clock):
    """Time passes only when the wait sleeps."""

    def __init__(self):
        self.t, self.slept = 0.0, []
        super().__init__(now=lambda: self.t, sleep=self._sleep)

    def _sleep(self, seconds):
        self.slept.append(seconds)
        self.t += seconds


def test_submit_sends_the_file_waits_for_the_public_score_and_records_it(run_root, capsys):
    pending = submission(1234, MESSAGE, SubmissionStatus.PENDING)
    scored = submission(1234, MESSAGE, SubmissionStatus.COMPLETE, public_score="0.99171")
    api = FakeKaggle(competition_submit=created(1234),
                     competition_submissions=[[], [pending, submission(9, "older")], [scored]])
    clock = FakeClock()
    record = competition.submit(run_root, api=api, wait_s=300, clock=clock)
    assert api.called("competition_submit") == [{
        "file_name": str(run_root.submission_file), "message": MESSAGE, "competition": "digit-recognizer",
        "quiet": False}]
    assert record["public_score"] == 0.99171 and record["status"] == "complete" and record["ref"] == 1234
    assert clock.slept == [10, 10]
    saved = json.loads(run_root.manifest_file.read_text())
    assert saved["kaggle_submission"] == record and saved["test_score"] == MANIFEST["test_score"]
    assert {k: saved[k] for k in MANIFEST} == MANIFEST  # the rest of the record is as it was
    out = capsys.readouterr().out
    assert "waiting for the public score: not listed yet, 0 s of at most 300 s" in out
    assert "waiting for the public score: pending, 10 s" in out
    assert "Public score: 0.99171 (local: 0.9912 on 18,000 labelled digits)" in out


def test_the_wait_is_bounded_and_the_submission_stays_recorded_as_pending(run_root, capsys):
    api = FakeKaggle(competition_submit=created(77),
                     competition_submissions=[[submission(77, MESSAGE, SubmissionStatus.PENDING)]])
    clock = FakeClock()
    record = competition.submit(run_root, api=api, wait_s=35, clock=clock)
    assert record["status"] == "pending" and record["public_score"] is None
    assert clock.slept == [10, 10, 10] and clock.t <= 35
    assert json.loads(run_root.manifest_file.read_text())["kaggle_submission"]["status"] == "pending"
    assert "`make submissions` shows the score later" in capsys.readouterr().out


def test_a_submission_kaggle_cannot_score_is_an_error_and_recorded(run_root):
    failed = submission(5, MESSAGE, SubmissionStatus.ERROR, error="Submission has 27999 rows")
    api = FakeKaggle(competition_submit=created(5), competition_submissions=[[failed]])
    with pytest.raises(KaggleError, match="Kaggle could not score the submission: Submission has 27999 rows"):
        competition.submit(run_root, api=api, wait_s=60, clock=FakeClock())
    saved = json.loads(run_root.manifest_file.read_text())["kaggle_submission"]
    assert saved["status"] == "error" and saved["error"] == "Submission has 27999 rows"


def test_without_a_wait_nothing_is_asked_after_the_upload(run_root):
    api = FakeKaggle(competition_submit=created(8))
    assert competition.submit(run_root, api=api, wait_s=0)["status"] == "pending"
    assert api.called("competition_submissions") == []


def test_message_without_a_local_score_or_a_commit():
    manifest = {"profile": "fast", "seed": 7, "git": {"commit": "0123456789", "dirty": True},
                "test_score": None}
    assert submission_message(manifest) == (
        "digit-recognizer: profile fast, seed 7, commit 0123456 with uncommitted changes")
    assert submission_message({"profile": "full", "seed": 42, "git": {"commit": None}}) == (
        "digit-recognizer: profile full, seed 42, commit unknown")


@pytest.mark.parametrize("manifest", [MANIFEST, {"profile": "fast", "seed": 7, "test_score": None,
                                                 "git": {"commit": "0123456789", "dirty": True}}])
def test_the_message_reads_back_as_the_run_it_came_from(manifest):
    run = competition.run_of(submission_message(manifest))
    assert (run["profile"], run["seed"]) == (manifest["profile"], str(manifest["seed"]))
    assert run["commit"].startswith(manifest["git"]["commit"][:7])
    assert run.get("local") == ("0.9912" if manifest["test_score"] else None)
    assert competition.run_of("my own experiment") is None


def test_without_credentials_nothing_is_sent_and_the_steps_are_given(run_root, monkeypatch, capsys):
    def no_credentials(action):
        raise NoCredentials(f"no Kaggle credentials found, so nothing was {action}. To set them up: ...")

    monkeypatch.setattr(competition, "sign_in", no_credentials)
    assert main(["submit", "--output-dir", str(run_root.root)]) == 1
    assert capsys.readouterr().out.startswith("error: no Kaggle credentials found, so nothing was sent")
    assert "kaggle_submission" not in json.loads(run_root.manifest_file.read_text())


# Kaggle's reply to the upload, the line it becomes
SUBMIT_REPLIES = {
    "bad token": (http_error(401), r"401 Unauthorized\), so nothing was sent: the token is invalid"),
    "rules not accepted": (http_error(403), r"403 Forbidden\), so nothing was sent: accept the competition's "
                                            r"rules at https://www.kaggle.com/competitions/digit-recognizer/rules"),
    "no network": (no_network(), r"could not be reached \(no network\?\), so nothing was sent"),
    "failed upload": (created(0, "Could not submit to competition"), "upload of .*submission.csv failed"),
}


@pytest.mark.parametrize(("reply", "message"), SUBMIT_REPLIES.values(), ids=SUBMIT_REPLIES.keys())
def test_each_refusal_of_the_upload_is_one_clear_line(run_root, reply, message):
    with pytest.raises(KaggleError, match=message):
        competition.submit(run_root, api=FakeKaggle(competition_submit=reply), wait_s=0)
    assert "kaggle_submission" not in json.loads(run_root.manifest_file.read_text())


def test_the_rules_refusal_comes_through_the_installed_package(run_root, tmp_path):
    """The real competition_submit, its first request answered 403 as Kaggle does before the rules."""
    class Competitions:
        def start_submission_upload(self, request):
            assert request.competition_name == "digit-recognizer"
            raise http_error(403)

    api = real_api(tmp_path, FakeClient(competitions__competition_api_client=Competitions()))
    with pytest.raises(KaggleError, match="403 Forbidden.*digit-recognizer/rules"):
        competition.submit(run_root, api=api, wait_s=0)


def another_runs_submission(paths):
    make_submission(np.arange(28_000) % 9).to_csv(paths.submission_file, index=False)  # valid, but new


# how the finished run's outputs are changed, the error and message submit refuses them with
SUBMIT_REFUSALS = {
    "invalid submission": (lambda paths: paths.submission_file.write_text("ImageId,Label\n1,3\n2,11\n"),
                           SubmissionError, r"submission\.csv: 2 rows, expected 28000"),
    "missing manifest": (lambda paths: paths.manifest_file.unlink(),
                         KaggleError, r"models/run\.json: not found.*make submission"),
    "submission from another run": (another_runs_submission,
                                    KaggleError, r"submission\.csv: not the file .*run\.json describes"),
}


@pytest.mark.parametrize(("change", "error", "message"), SUBMIT_REFUSALS.values(), ids=SUBMIT_REFUSALS.keys())
def test_a_submission_that_cannot_be_sent_is_refused_before_any_call(run_root, change, error, message):
    change(run_root)
    api = FakeKaggle()
    with pytest.raises(error, match=message):
        competition.submit(run_root, api=api)
    assert api.calls == []


def test_submissions_lists_each_with_the_run_it_came_from(run_root, tmp_path, capsys, monkeypatch):
    """Through the installed package's competition_submissions, the listing from the (fake) client."""
    manifest = json.loads(run_root.manifest_file.read_text())
    manifest["kaggle_submission"] = {"ref": 1234}
    run_root.manifest_file.write_text(json.dumps(manifest))

    class Competitions:
        def list_submissions(self, request):
            assert request.competition_name == "digit-recognizer"
            reply = ApiListSubmissionsResponse()
            reply.submissions = [
                submission(1234, MESSAGE, public_score="0.99171"),
                submission(1200, "digit-recognizer: profile smoke, seed 7, commit 0123456 with uncommitted "
                                 "changes", SubmissionStatus.PENDING),
                submission(1100, "tried by hand", SubmissionStatus.ERROR, error="bad header")]
            return reply

    api = real_api(tmp_path, FakeClient(competitions__competition_api_client=Competitions()))
    monkeypatch.setattr(competition, "sign_in", lambda action: api)
    assert main(["submissions", "--output-dir", str(run_root.root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert "#1234" in lines[0] and "complete" in lines[0] and "0.99171" in lines[0]
    assert "profile full, seed 42, commit abc1234, local 0.9912" in lines[0]
    assert lines[0].endswith("<- models/run.json")
    assert "pending" in lines[1]
    assert "profile smoke, seed 7, commit 0123456 with uncommitted changes, local none" in lines[1]
    assert "error: bad header" in lines[2] and "not this project's: 'tried by hand'" in lines[2]


def test_submissions_without_any_and_without_network(run_root, capsys):
    assert competition.show_submissions(run_root, api=FakeKaggle(competition_submissions=[[]])).startswith(
        "no submissions to digit-recognizer yet")
    with pytest.raises(KaggleError, match="could not be reached.*nothing was listed"):
        competition.show_submissions(run_root, api=FakeKaggle(competition_submissions=no_network()))
