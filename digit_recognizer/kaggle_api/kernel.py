"""The Kaggle notebook that runs the pipeline on Kaggle's GPU: `make kaggle-kernel` writes its folder,
`make kaggle-push` sends it, `make kaggle-status` asks how its run goes and `make kaggle-output` brings its
outputs (submission.csv, models/, the executed notebooks) back, so no step needs the browser."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..config import PROJECT_DIR, output_paths
from ..plumbing.files import atomic_path, read_record, record_field
from ..profiles import DEFAULT_PROFILE, PROFILES
from .credentials import COMPETITION, KaggleError, refusal, sign_in

KERNEL_SLUG = "digit-recognizer-pipeline"
KERNEL_TITLE = "Digit Recognizer Pipeline"  # Kaggle derives the slug from the title: keep them matching
KERNEL_NOTEBOOK = f"{KERNEL_SLUG}.ipynb"
KERNEL_METADATA = "kernel-metadata.json"
DEFAULT_KERNEL_DIR = PROJECT_DIR / "build" / "kaggle-kernel"
DEFAULT_OUTPUT_DIR = PROJECT_DIR / "build" / "kaggle-output"
CLONE_DIR = "/tmp/digit-recognizer"
WRITE_AGAIN = "write the kernel folder again (`make kaggle-kernel`)"
NOT_YOURS = ("no kernel of that id that these credentials may see: push it first (`make kaggle-push`), "
             "signed in as the account named in its id")


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
        "from digit_recognizer import runner\nfrom digit_recognizer.kaggle_api.kernel import run_summary\n\n"
        f'runner.run_notebooks("--profile", {q(profile)}, "--output-dir", {q(working_dir)})\n'
        f"print(run_summary({q(working_dir)}))",
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


def kernel_id(folder: Path) -> str:
    """The id (owner/slug) in the kernel folder's kernel-metadata.json."""
    metadata = Path(folder) / KERNEL_METADATA
    if not metadata.is_file():
        raise KaggleError(f"{metadata}: not found: write the kernel folder first (`make kaggle-kernel`)")
    return record_field(read_record(metadata, WRITE_AGAIN), "id", str, metadata, WRITE_AGAIN)


def push_kernel(folder: Path, api=None) -> str:
    """Push the kernel folder to Kaggle, which runs it; returns the kernel's URL."""
    folder = Path(folder)
    kernel = kernel_id(folder)
    api = api or sign_in("pushed")
    print(f"Pushing {folder} to Kaggle as {kernel} ...")
    try:
        response = api.kernels_push(str(folder))
    except Exception as error:
        raise refusal(error, "pushed", NOT_YOURS) from error
    if getattr(response, "error", ""):
        raise KaggleError(f"Kaggle refused the kernel in {folder}: {response.error}")
    url = getattr(response, "url", "") or ""
    print(f"Pushed: Kaggle runs it now at {url}; `make kaggle-status` follows it, `make kaggle-output` "
          "brings its outputs back")
    return url


def kernel_status(folder: Path, api=None) -> tuple[str, str]:
    """The pushed kernel's run status (queued, running, complete, error, ...) and Kaggle's failure message."""
    kernel = kernel_id(folder)
    api = api or sign_in("asked")
    try:
        response = api.kernels_status(kernel)
    except ValueError as error:  # the package's word for a 401 or 403 on a kernel
        raise KaggleError(f"Kaggle shows no kernel {kernel}: {NOT_YOURS} ({error})") from None
    except Exception as error:
        raise refusal(error, "asked", NOT_YOURS) from error
    status = getattr(response.status, "name", str(response.status)).lower()
    return status, response.failure_message or ""


def show_status(folder: Path, api=None) -> str:
    """`make kaggle-status`: one line, and Kaggle's failure message where the run failed."""
    kernel = kernel_id(folder)
    status, failure = kernel_status(folder, api)
    next_step = {"complete": "; `make kaggle-output` brings its outputs back",
                 "error": ": its log comes back with `make kaggle-output`"}.get(status, "")
    line = f"{kernel}: {status}{next_step}" + (f"\nKaggle says: {failure}" if failure else "")
    print(line)
    return line


def download_output(folder: Path, destination: Path = DEFAULT_OUTPUT_DIR, api=None) -> list[Path]:
    """`make kaggle-output`: the finished kernel's output files into `destination` (a file of the same
    name there is replaced, others stay). They arrive in a temp folder beside it first, so a failed
    download changes nothing. Refused while the kernel still runs."""
    destination = Path(destination)
    kernel = kernel_id(folder)
    api = api or sign_in("downloaded")
    status, _ = kernel_status(folder, api)
    if status not in ("complete", "error", "cancel_acknowledged"):
        raise KaggleError(f"{kernel} is {status}: its outputs come once it ends (`make kaggle-status`)")
    destination.parent.mkdir(parents=True, exist_ok=True)
    arrived = Path(tempfile.mkdtemp(dir=destination.parent, prefix=f".{destination.name}-download-"))
    try:
        try:
            api.kernels_output(kernel, str(arrived), force=True, quiet=True)
        except ValueError as error:
            raise KaggleError(f"Kaggle shows no kernel {kernel}: {NOT_YOURS} ({error})") from None
        except Exception as error:
            raise refusal(error, "downloaded", NOT_YOURS) from error
        files = sorted(p for p in arrived.rglob("*") if p.is_file())
        if not files:
            raise KaggleError(f"{kernel} has no output files (status {status}): see its log on Kaggle")
        written = []
        for path in files:
            target = destination / path.relative_to(arrived)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
            written.append(target)
    finally:
        shutil.rmtree(arrived, ignore_errors=True)
    print(f"{len(written)} files of {kernel} ({status}) in {destination}")
    if output_paths(destination).manifest_file.is_file():
        print(run_summary(destination))
        print(f"send it with: make submit SUBMIT_DIR={os.path.relpath(destination)}")
    return written
