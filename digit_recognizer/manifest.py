"""The run manifest (`models/run.json`): what produced a submission, from library versions to data hashes."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution, version
from pathlib import Path

from .config import PROJECT_DIR, SOURCE_CHECKOUT
from .plumbing.files import now, read_record, sha256, write_json

PACKAGES = ["tensorflow", "jax", "jaxlib", "torch", "keras", "keras-tuner", "numpy", "pandas", "scikit-learn",
            "papermill"]


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def backend() -> dict:
    """The Keras backend the run computed on, with its switches (`plumbing.runtime`)."""
    import keras

    from .plumbing import runtime

    return {"name": keras.config.backend(), "deterministic": runtime.op_determinism(),
            "mixed_precision": keras.mixed_precision.global_policy().name != "float32"}


def installed_commit() -> str | None:
    """The commit a `pip install git+URL` installed, from the install's direct_url.json (PEP 610)."""
    try:
        recorded = distribution("digit-recognizer").read_text("direct_url.json")
    except PackageNotFoundError:
        return None
    return json.loads(recorded or "{}").get("vcs_info", {}).get("commit_id")


def git_state(folder: Path | None = PROJECT_DIR if SOURCE_CHECKOUT else None) -> dict:
    """The commit checked out and whether tracked files differ from it; None values outside git (an
    installed copy too: the folder around site-packages is not this project's)."""
    if folder is None:
        return {"commit": installed_commit(), "dirty": None}

    def git(*args):
        return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, timeout=30)
    try:
        head = git("rev-parse", "HEAD")
        if head.returncode:
            return {"commit": None, "dirty": None}
        status = git("status", "--porcelain", "--untracked-files=no")
        return {"commit": head.stdout.strip(), "dirty": bool(status.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def build_manifest(dataset_source: dict, training_metrics: dict, submission: dict,
                   test_score: dict | None) -> dict:
    """Everything a run used and produced. Secrets never enter it: no environment variables are read."""
    return {
        "profile": dataset_source.get("profile"),
        "seed": dataset_source.get("seed"),
        "started_at": dataset_source.get("prepared_at"),
        "ended_at": now(),
        "data": {"description": dataset_source.get("data_description"),
                 "folder": dataset_source.get("data_folder"), "sha256": dataset_source.get("sha256", {})},
        "hyperparameters": training_metrics.get("hyperparameters"),
        "training": {k: v for k, v in training_metrics.items() if k != "hyperparameters"},
        "submission": submission,
        "test_score": test_score,
        "backend": backend(),
        "versions": library_versions(),
        "platform": {"system": platform.platform(), "machine": platform.machine(),
                     "python_executable": Path(sys.executable).name},
        "git": git_state(),
    }


def write_run_manifest(paths, dataset_source: dict, test_score: dict | None) -> dict:
    """The manifest of the run whose outputs are under `paths` (its training metrics, the submission
    written), saved to `paths.manifest_file`."""
    rows = sum(1 for _ in paths.submission_file.open()) - 1  # the header is no row
    submission = {"file": str(paths.submission_file), "rows": rows, "sha256": sha256(paths.submission_file)}
    metrics = read_record(paths.metrics_file, "run notebook 04 (`make train`) again")
    run = build_manifest(dataset_source, metrics, submission, test_score)
    write_json(run, paths.manifest_file)
    return run
