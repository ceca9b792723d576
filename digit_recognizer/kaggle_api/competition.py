"""`make submit` and `make submissions`: send submission.csv with a message naming its run, wait for
Kaggle's public score and keep it in models/run.json; list the competition's submissions with the runs
they came from. Every call goes through an `api` (the `kaggle` package's KaggleApi by default)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from ..plumbing.files import read_record, record_field, write_json
from .credentials import COMPETITION, COMPETITION_URL, KaggleError, refusal, sign_in

SUBMISSIONS_URL = f"{COMPETITION_URL}/submissions"
DEFAULT_WAIT_S = 300
POLL_S = 10
RECORD_KEY = "kaggle_submission"  # the field of models/run.json that keeps what Kaggle said
MESSAGE = re.compile(rf"{COMPETITION}: profile (?P<profile>\S+), seed (?P<seed>\S+), "
                     r"commit (?P<commit>\w+(?: with uncommitted changes)?)"
                     r"(?:, local (?P<local>[0-9.]+) \((?P<images>[0-9,]+) labelled\))?")


def submission_message(manifest: dict) -> str:
    """One line from the run manifest: profile, seed, commit and the local score where there is one."""
    git = manifest.get("git") or {}
    commit = (git.get("commit") or "")[:7] or "unknown"
    if git.get("dirty"):
        commit += " with uncommitted changes"
    parts = [f"profile {manifest.get('profile')}", f"seed {manifest.get('seed')}", f"commit {commit}"]
    score = manifest.get("test_score")
    if score:
        parts.append(f"local {score['accuracy']:.4f} ({score['images']:,} labelled)")
    return f"{COMPETITION}: " + ", ".join(parts)


def run_of(message: str) -> dict | None:
    """The run a submission message names (profile, seed, commit, local score), None for another's."""
    found = MESSAGE.fullmatch((message or "").strip())
    return {k: v for k, v in found.groupdict().items() if v} if found else None


def check_submission_run(paths) -> dict:
    """The run manifest of `paths.submission_file`, after checking the file is a valid Kaggle submission
    and the one `paths.manifest_file` describes; SubmissionError or KaggleError say what is wrong."""
    from ..plumbing.files import sha256
    from ..submission import KAGGLE_TEST_ROWS, check_file

    if not paths.manifest_file.is_file():
        raise KaggleError(f"{paths.manifest_file}: not found; it describes the run in the submission "
                          "message: run notebook 05 (`make submission`) first")
    check_file(paths.submission_file, KAGGLE_TEST_ROWS)
    remedy = "run notebook 05 (`make submission`) again"
    manifest = read_record(paths.manifest_file, remedy)
    recorded = record_field(manifest, "submission", dict, paths.manifest_file, remedy).get("sha256")
    if recorded != sha256(paths.submission_file):
        raise KaggleError(f"{paths.submission_file}: not the file {paths.manifest_file} describes (its "
                          "SHA-256 differs): run notebook 05 (`make submission`) again")
    return manifest


@dataclass
class Clock:
    """How the wait for a score tells time: injected, so tests never sleep."""
    now: object = time.monotonic
    sleep: object = time.sleep


def submit(paths, api=None, wait_s: float = DEFAULT_WAIT_S, clock: Clock | None = None) -> dict:
    """Send `submission.csv` with a message from the run manifest, wait up to `wait_s` seconds for its
    public score and record what Kaggle said in models/run.json; returns that record."""
    manifest = check_submission_run(paths)
    message = submission_message(manifest)
    api = api or sign_in("sent")
    print(f"Submitting {paths.submission_file} to {COMPETITION}: {message!r}")
    try:
        response = api.competition_submit(str(paths.submission_file), message, COMPETITION, quiet=False)
    except Exception as error:
        raise refusal(error, "sent") from error
    reply = getattr(response, "message", "") or ""
    if reply == "Could not submit to competition":  # what the kaggle package returns for a failed upload
        raise KaggleError(f"the upload of {paths.submission_file} failed: {reply}")
    print(reply or "Submitted.")
    record = {"ref": getattr(response, "ref", 0) or None, "message": message, "status": "pending",
              "public_score": None, "submitted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    _record(paths, manifest, record)
    if wait_s > 0:
        record |= wait_for_score(api, record["ref"], message, wait_s, clock or Clock())
        _record(paths, manifest, record)
    if record["status"] == "error":
        raise KaggleError(f"Kaggle could not score the submission: {record['error']} (see "
                          f"{SUBMISSIONS_URL}); {paths.manifest_file} records it")
    if record["public_score"] is not None:
        print(f"Public score: {record['public_score']} (local: {_local(manifest)}); kept in "
              f"{paths.manifest_file}")
    elif record["status"] == "pending":
        print(f"Kaggle has not scored it yet: `make submissions` shows the score later ({SUBMISSIONS_URL})")
    return record


def _local(manifest: dict) -> str:
    score = manifest.get("test_score")
    return f"{score['accuracy']:.4f} on {score['images']:,} labelled digits" if score else "no labels"


def _record(paths, manifest: dict, record: dict) -> None:
    """models/run.json with the submission's record beside the local score (temp file, then rename)."""
    manifest[RECORD_KEY] = dict(record)
    write_json(manifest, paths.manifest_file)


def wait_for_score(api, ref, message: str, wait_s: float, clock: Clock) -> dict:
    """Ask Kaggle every POLL_S seconds, at most `wait_s`, for the submission `ref` (or the newest one
    with `message`): its status, and the public score or Kaggle's error."""
    from kagglesdk.competitions.types.submission_status import SubmissionStatus

    start = clock.now()
    while True:
        found = find_submission(api, ref, message)
        status = getattr(found, "status", None)
        if status == SubmissionStatus.COMPLETE:
            return {"status": "complete", "public_score": _score(found.public_score)}
        if status == SubmissionStatus.ERROR:
            return {"status": "error", "error": found.error_description or "no reason given"}
        waited = clock.now() - start
        if waited + POLL_S > wait_s:
            print(f"no score after {waited:.0f} s (the limit is {wait_s:g} s)")
            return {"status": "pending"}
        print(f"waiting for the public score: {'not listed yet' if found is None else 'pending'}, "
              f"{waited:.0f} s of at most {wait_s:g} s ...", flush=True)
        clock.sleep(POLL_S)


def find_submission(api, ref, message: str):
    """This competition's submission `ref`, else the newest with `message` as its description; None if
    not listed (yet)."""
    listed = list_submissions(api)
    return next((s for s in listed if ref and s.ref == ref), None) or (
        None if ref else next((s for s in listed if s.description == message), None))


def list_submissions(api) -> list:
    """The signed-in account's submissions to this competition, newest first (the kaggle package's
    ApiSubmission objects)."""
    try:
        return [s for s in api.competition_submissions(COMPETITION) or [] if s is not None]
    except Exception as error:
        raise refusal(error, "listed") from error


def _score(text: str):
    try:
        return float(text)
    except (TypeError, ValueError):
        return text or None


def submissions_table(submissions: list, recorded_ref=None) -> str:
    """A line per submission: date, status, public score, and the run it came from (this project's message
    read back), marked where it is the one models/run.json records."""
    if not submissions:
        return f"no submissions to {COMPETITION} yet (`make submit` sends one)"
    lines = []
    for s in submissions:
        status = getattr(s.status, "name", str(s.status)).lower()
        score = s.public_score or ("-" if status != "error" else f"error: {s.error_description}")
        run = run_of(s.description)
        origin = (f"profile {run['profile']}, seed {run['seed']}, commit {run['commit']}, local "
                  f"{run.get('local', 'none')}" if run else f"not this project's: {s.description!r}")
        mark = "  <- models/run.json" if recorded_ref and s.ref == recorded_ref else ""
        date = s.date.strftime("%Y-%m-%d %H:%M") if s.date else "?"
        lines.append(f"{date}  #{s.ref}  {status:<8} public {score:<8}  {origin}{mark}")
    return "\n".join(lines)


def show_submissions(paths, api=None) -> str:
    """`make submissions`: the table, printed and returned."""
    recorded = None
    if paths.manifest_file.is_file():
        manifest = read_record(paths.manifest_file, "run notebook 05 (`make submission`) again")
        recorded = (manifest.get(RECORD_KEY) or {}).get("ref")
    table = submissions_table(list_submissions(api or sign_in("listed")), recorded)
    print(table)
    return table
