"""Kaggle from the command line: credentials, `make submit`, and the kernel folder `make kaggle-push` sends.

    python -m digit_recognizer.kaggle_api submit [--output-dir DIR]
    python -m digit_recognizer.kaggle_api kernel [--folder DIR] [--repo-url URL] [--ref REF] [--profile P]
    python -m digit_recognizer.kaggle_api push [--folder DIR]

Every call to Kaggle goes through an `api` object (the `kaggle` package's KaggleApi by default), so tests
pass a fake one; nothing is sent before the local checks pass.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
from pathlib import Path

from .config import PROJECT_DIR, on_kaggle, output_paths
from .plumbing.files import RecordError, atomic_path, read_record, record_field
from .profiles import DEFAULT_PROFILE, PROFILES

COMPETITION = "digit-recognizer"
COMPETITION_URL = f"https://www.kaggle.com/competitions/{COMPETITION}"
KERNEL_SLUG = "digit-recognizer-pipeline"
KERNEL_TITLE = "Digit Recognizer Pipeline"  # Kaggle derives the slug from the title: keep them matching
KERNEL_NOTEBOOK = f"{KERNEL_SLUG}.ipynb"
KERNEL_METADATA = "kernel-metadata.json"
DEFAULT_KERNEL_DIR = PROJECT_DIR / "build" / "kaggle-kernel"
CLONE_DIR = "/tmp/digit-recognizer"

TOKEN_STEPS = f"""  1. Sign in at kaggle.com, open {COMPETITION_URL} and accept its rules.
  2. Create an API token (kaggle.com > Settings > API) and either save it as ~/.kaggle/kaggle.json
     (chmod 600) or export KAGGLE_USERNAME and KAGGLE_KEY (or KAGGLE_API_TOKEN); on Colab, add them as
     secrets (the key icon) with notebook access."""


class KaggleError(RuntimeError):
    """Something stops a Kaggle call before or while it is made; the message says what to do."""


def _config_dir(environ, home: Path | None) -> Path:
    return Path(environ.get("KAGGLE_CONFIG_DIR") or (home or Path.home()) / ".kaggle")


COLAB_SECRETS = ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN")


COLAB_OWN_PROCESS = ("Colab gives its secrets only to the notebook's own process, not to a command the "
                     "notebook starts (`!python -m ...`): run the download in a cell, `from digit_recognizer "
                     "import download; download.kaggle_files()`, or export KAGGLE_USERNAME and KAGGLE_KEY")


def load_colab_secrets(environ=None) -> list[str]:
    """On Colab, copy the Kaggle secrets this notebook may read (the key icon in the left bar) into the
    environment, where the `kaggle` package looks; returns the names copied (none off Colab, and none on
    Kaggle, whose image carries a google.colab that cannot answer). Colab answers only the notebook's own
    process; elsewhere its request times out, and a KaggleError says what to do instead."""
    if on_kaggle():
        return []
    try:
        from google.colab import userdata
    except ImportError:
        return []
    environ = os.environ if environ is None else environ
    timed_out = getattr(userdata, "TimeoutException", ())
    copied = []
    for name in COLAB_SECRETS:
        if environ.get(name):
            continue
        try:
            value = userdata.get(name)
        except timed_out:
            raise KaggleError(f"Colab's secret {name} could not be read: {COLAB_OWN_PROCESS}") from None
        except Exception:  # Colab's SecretNotFoundError or NotebookAccessError: this secret is not given
            continue
        if value:
            environ[name] = value
            copied.append(name)
    return copied


def kaggle_credentials_found(environ=None, home: Path | None = None) -> bool:
    """True where the `kaggle` package would find a token: environment variables (on Colab, filled from
    the notebook's secrets) or a token file."""
    environ = os.environ if environ is None else environ
    load_colab_secrets(environ)
    if environ.get("KAGGLE_API_TOKEN") or (environ.get("KAGGLE_USERNAME") and environ.get("KAGGLE_KEY")):
        return True
    return any((_config_dir(environ, home) / name).is_file() for name in ("kaggle.json", "access_token"))


def kaggle_username(environ=None, home: Path | None = None) -> str | None:
    """KAGGLE_USERNAME, else the username in kaggle.json; None where neither gives one."""
    environ = os.environ if environ is None else environ
    if environ.get("KAGGLE_USERNAME"):
        return environ["KAGGLE_USERNAME"]
    token_file = _config_dir(environ, home) / "kaggle.json"
    try:
        return json.loads(token_file.read_text()).get("username") or None
    except (OSError, ValueError, AttributeError):
        return None


def authenticated_api():
    """The `kaggle` package's API, signed in with the credentials found."""
    from kaggle.api.kaggle_api_extended import KaggleApi  # imported late: it reads credentials

    api = KaggleApi()
    try:
        api.authenticate()
    except SystemExit:  # the kaggle package exits on bad credentials
        raise KaggleError("Kaggle did not accept the credentials found (~/.kaggle/kaggle.json, "
                          "KAGGLE_USERNAME/KAGGLE_KEY or KAGGLE_API_TOKEN): create a new API token") from None
    return api


def connect(api, credentials_found: bool | None, action: str):
    """`api` if given, else the signed-in KaggleApi; without credentials a KaggleError with the steps."""
    found = kaggle_credentials_found() if credentials_found is None else credentials_found
    if not found:
        raise KaggleError(f"no Kaggle credentials found, so nothing was {action}. To set them up:\n"
                          f"{TOKEN_STEPS}")
    return api or authenticated_api()


# --- make submit ---------------------------------------------------------------------------------------

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


def check_submission_run(paths) -> str:
    """The message for `paths.submission_file`, after checking it is a valid Kaggle submission and the
    one `paths.manifest_file` describes; SubmissionError or KaggleError say what is wrong."""
    from .plumbing.files import sha256
    from .submission import KAGGLE_TEST_ROWS, check_file

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
    return submission_message(manifest)


def submit(paths, api=None, credentials_found: bool | None = None) -> str:
    """Send `submission.csv` with a message from the run manifest; returns the message sent."""
    message = check_submission_run(paths)
    api = connect(api, credentials_found, "sent")
    print(f"Submitting {paths.submission_file} to {COMPETITION}: {message!r}")
    try:
        response = api.competition_submit(str(paths.submission_file), message, COMPETITION, quiet=False)
    except Exception as error:
        raise KaggleError(f"Kaggle refused the submission ({error}); have you accepted the rules at "
                          f"{COMPETITION_URL}/rules ?") from error
    reply = getattr(response, "message", "") or ""
    if reply == "Could not submit to competition":  # what the kaggle package returns for a failed upload
        raise KaggleError(f"the upload of {paths.submission_file} failed: {reply}")
    print(f"{reply or 'Submitted'}. Your score appears at {COMPETITION_URL}/submissions")
    return message


# --- make kaggle-kernel / kaggle-push -----------------------------------------------------------------

def run_on_kaggle_cells(repo_url: str, profile: str = DEFAULT_PROFILE, ref: str = "",
                        clone_dir: str = CLONE_DIR, working_dir: str = "/kaggle/working") -> list[str]:
    """The cells that run the pipeline in a Kaggle notebook (competition attached, internet on): get and
    install the project, then run every notebook into `working_dir` and say where the submission is. A
    failed step raises, so the notebook fails and Kaggle marks the version failed (a `!command` line never
    does); each value is a command's own argument, never passed through a shell. The README quotes them."""
    q = json.dumps  # a Python string literal in double quotes
    git_checkout = f'["git", "-C", {q(clone_dir)}, "checkout", "--quiet", {q(ref)}]'
    checkout = f"\nsubprocess.run({git_checkout}, check=True)" if ref else ""
    return [
        "# A failed step raises, so the notebook fails (a `!command` line never does).\n"
        "import importlib\nimport shutil\nimport subprocess\nimport sys\n\n"
        f"shutil.rmtree({q(clone_dir)}, ignore_errors=True)  # run again, it clones afresh\n"
        f'subprocess.run(["git", "clone", "--quiet", {q(repo_url)}, {q(clone_dir)}], check=True){checkout}\n'
        # keeps Kaggle's TensorFlow and Keras: the package asks for ranges, not pins
        f'subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", {q(clone_dir)}], check=True)\n'
        "importlib.invalidate_caches()",
        "from digit_recognizer import kaggle_api, runner\n\n"
        f'runner.run_notebooks("--profile", {q(profile)}, "--output-dir", {q(working_dir)})\n'
        f"print(kaggle_api.run_summary({q(working_dir)}))",
    ]


def run_summary(root: str | Path) -> str:
    """Where a run's submission is, and what its models/run.json says of it, in a few lines."""
    paths = output_paths(root)
    if not paths.manifest_file.is_file():
        return f"no run record at {paths.manifest_file}: the run did not reach notebook 05"
    run = read_record(paths.manifest_file, "run notebook 05 (`make submission`) again")
    training = run.get("training") if isinstance(run.get("training"), dict) else {}
    commit = ((run.get("git") or {}).get("commit") or "unknown")[:7]
    lines = [f"submission: {paths.submission_file}",
             f"profile {run.get('profile')}, seed {run.get('seed')}, commit {commit}",
             f"hyperparameters: {training.get('hyperparameters_from') or 'not recorded'}"]
    if validation := training.get("validation"):
        lines.append(f"validation accuracy {validation.get('accuracy')}: {validation.get('errors')} errors "
                     f"in {validation.get('images')} digits")
    if score := run.get("test_score"):
        lines.append(f"test accuracy {score.get('accuracy')} on {score.get('images')} labelled digits")
    return "\n".join(lines)


def https_url(url: str) -> str:
    """A URL Kaggle can clone: ssh forms become https, and any user or token in it is dropped."""
    url = url.strip()
    scp_like = re.fullmatch(r"(?:[\w.-]+@)?([\w.-]+):(?!/)(.+)", url)  # git@github.com:me/repo.git
    if scp_like and "://" not in url:
        host, path = scp_like.groups()
        return f"https://{host}/{path}"
    remote = re.fullmatch(r"(ssh|git|https?)://(?:[^@/]+@)?([^/:]+)(:\d+)?/(.+)", url)
    if not remote:
        raise KaggleError(f"{url!r} is not a repository URL that Kaggle can clone (it needs an https URL "
                          "such as https://github.com/<you>/<repo>.git): give REPO_URL=...")
    scheme, host, port, path = remote.groups()
    port = port if scheme in ("http", "https") and port else ""  # an ssh or git port is not https's
    return f"{'http' if scheme == 'http' else 'https'}://{host}{port}/{path}"


def origin_url(folder: Path = PROJECT_DIR) -> str:
    """The git remote `origin` of the checkout, as an https URL."""
    try:
        done = subprocess.run(["git", "remote", "get-url", "origin"], cwd=folder, capture_output=True,
                              text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        done = None
    if done is None or done.returncode or not done.stdout.strip():
        raise KaggleError(f"{folder} has no git remote 'origin' to fetch the project from on Kaggle: "
                          "give the repository's URL, e.g. make kaggle-kernel "
                          "REPO_URL=https://github.com/<you>/<repo>.git")
    return https_url(done.stdout)


def kernel_notebook(cells: list[str]) -> dict:
    """A notebook (nbformat 4) of one markdown cell saying what it does, then `cells`, without outputs."""
    intro = (f"# {KERNEL_TITLE}\n\nRuns the project's five notebooks on the `{COMPETITION}` competition's "
             "files and writes `/kaggle/working/submission.csv`, with the models and the executed notebooks "
             "under `/kaggle/working/`. Written by `make kaggle-kernel`.")
    code = [{"cell_type": "code", "execution_count": None, "id": f"step-{number}", "metadata": {},
             "outputs": [], "source": text} for number, text in enumerate(cells, start=1)]
    return {"cells": [{"cell_type": "markdown", "id": "about", "metadata": {}, "source": intro}, *code],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def kernel_metadata(username: str) -> dict:
    return {"id": f"{username}/{KERNEL_SLUG}", "title": KERNEL_TITLE, "code_file": KERNEL_NOTEBOOK,
            "language": "python", "kernel_type": "notebook", "is_private": True, "enable_gpu": True,
            "enable_internet": True, "competition_sources": [COMPETITION], "dataset_sources": [],
            "kernel_sources": []}


def write_kernel_folder(folder: Path, repo_url: str, username: str | None, profile: str = DEFAULT_PROFILE,
                        ref: str = "") -> list[Path]:
    """The notebook and kernel-metadata.json that `make kaggle-push` sends; returns the files written."""
    if profile not in PROFILES:
        raise KaggleError(f"unknown profile {profile!r}; choose one of {sorted(PROFILES)}")
    if not username:
        raise KaggleError("no Kaggle username for the kernel's id: export KAGGLE_USERNAME or save your API "
                          "token as ~/.kaggle/kaggle.json")
    folder = Path(folder)
    files = {KERNEL_NOTEBOOK: kernel_notebook(run_on_kaggle_cells(https_url(repo_url), profile, ref)),
             KERNEL_METADATA: kernel_metadata(username)}
    for name, content in files.items():
        with atomic_path(folder / name) as tmp:
            tmp.write_text(json.dumps(content, indent=1) + "\n")
    return [folder / name for name in files]


def push_kernel(folder: Path, api=None, credentials_found: bool | None = None) -> str:
    """Push the kernel folder to Kaggle, which runs it; returns the kernel's URL."""
    folder = Path(folder)
    metadata = folder / KERNEL_METADATA
    if not metadata.is_file():
        raise KaggleError(f"{metadata}: not found: write the kernel folder first (`make kaggle-kernel`)")
    api = connect(api, credentials_found, "pushed")
    remedy = "write the kernel folder again (`make kaggle-kernel`)"
    kernel_id = record_field(read_record(metadata, remedy), "id", str, metadata, remedy)
    print(f"Pushing {folder} to Kaggle as {kernel_id} ...")
    try:
        response = api.kernels_push(str(folder))
    except Exception as error:
        raise KaggleError(f"Kaggle refused the kernel in {folder} ({error})") from error
    if getattr(response, "error", ""):
        raise KaggleError(f"Kaggle refused the kernel in {folder}: {response.error}")
    url = getattr(response, "url", "") or ""
    print(f"Pushed: Kaggle runs it now; follow it (and get submission.csv from its output) at {url}")
    return url


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    send = commands.add_parser("submit", help="send submission.csv, described by models/run.json")
    send.add_argument("--output-dir", default="", help="root holding submission.csv and models/")
    kernel = commands.add_parser("kernel", help="write the Kaggle kernel folder")
    kernel.add_argument("--folder", default=str(DEFAULT_KERNEL_DIR))
    kernel.add_argument("--repo-url", default="", help="default: the git remote origin, as https")
    kernel.add_argument("--ref", default="", help="branch, tag or commit to check out; default: the default")
    kernel.add_argument("--profile", default=DEFAULT_PROFILE, help=f"one of {sorted(PROFILES)}")
    push = commands.add_parser("push", help="push the kernel folder to Kaggle, which runs it")
    push.add_argument("--folder", default=str(DEFAULT_KERNEL_DIR))
    args = parser.parse_args(argv)
    from .submission import SubmissionError

    try:
        if args.command == "submit":
            submit(output_paths(args.output_dir or None))
        elif args.command == "kernel":
            written = write_kernel_folder(Path(args.folder), args.repo_url or origin_url(),
                                          kaggle_username(), args.profile, args.ref)
            print(f"wrote {', '.join(str(p) for p in written)}; push it with `make kaggle-push`")
        else:
            push_kernel(Path(args.folder))
    except (KaggleError, SubmissionError, RecordError, OSError) as error:
        print(f"error: {error}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
