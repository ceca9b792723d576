"""The wheel: its metadata (runtime dependencies, Python versions), its contents (notebooks, sample), and
an installed copy, not the source tree, running the pipeline with its outputs in the working directory and
computing, byte for byte, what the checkout's run (`smoke_run`) did: a re-run gives the same results."""

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib.metadata import PackageNotFoundError, distribution, version
from pathlib import Path

import pandas as pd
import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from digit_recognizer.config import KAGGLE_ROOT_ENV, NOTEBOOKS_DIR, PROJECT_DIR, SAMPLE_DATA_DIR

pytestmark = pytest.mark.e2e  # every test here builds the wheel

# What a build reads from the repository; the test builds from a copy, so the checkout gets no build/.
BUILD_SOURCES = ["pyproject.toml", "README.md", "LICENSE", "digit_recognizer", "notebooks", "data/sample"]
# Pinned in requirements*.in but no dependency of every install, by the extra that offers them: the Keras
# backends (the lock keeps TensorFlow, the dev lock JAX for the tests), and tools the package never imports.
NOT_RUNTIME = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch", "jupyterlab": "notebooks",
               "kaggle": "kaggle", "kagglehub": "kaggle", "pytest": "dev",
               "pytest-xdist": "dev", "ruff": "dev", "import-linter": "dev", "build": "dev", "uv": "dev",
               "setuptools": None}
DEVELOPMENT = {"pytest", "pytest-xdist", "ruff", "import-linter", "setuptools", "build", "uv"}
LOCKS = {"requirements.txt": "requirements.in", "requirements-dev.txt": "requirements-dev.in"}


def pip(*args: str) -> None:
    """Offline: nothing comes from an index."""
    subprocess.run([sys.executable, "-m", "pip", *args, "--no-index", "--quiet"], check=True)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built offline, with the environment's setuptools (the lock pins it)."""
    assert Version(version("setuptools")) >= Version("77"), "the license needs setuptools 77+: make setup"
    source, dist = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist")
    for name in BUILD_SOURCES:
        if (PROJECT_DIR / name).is_dir():
            shutil.copytree(PROJECT_DIR / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(PROJECT_DIR / name, source / name)
    pip("wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(dist), str(source))
    [built] = dist.glob("digit_recognizer-*.whl")
    return built


def wheel_metadata(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(archive.read(name).decode())


def pins(requirements_file: str) -> dict[str, str]:
    text = (PROJECT_DIR / requirements_file).read_text()
    return {m[1].lower(): m[2] for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.M)}


def lock_entries(lock_file: str) -> dict[str, str]:
    """Each pinned requirement of a lock, with its continuation lines (hashes), comments left out."""
    entries, name = {}, None
    for line in (PROJECT_DIR / lock_file).read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            name = re.match(r"[A-Za-z0-9_.-]+", line)[0].lower()
            entries[name] = line
        else:
            entries[name] += "\n" + line
    return entries


@pytest.mark.parametrize("lock", LOCKS)
def test_every_lock_line_is_an_exact_pin_with_hashes_from_its_in_file(lock):
    entries = lock_entries(lock)
    assert entries, lock
    for name, entry in entries.items():
        assert re.match(rf"{re.escape(name)}==[^\s;]+( ; [^\\]+)? \\$", entry.splitlines()[0], re.I), entry
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", entry), f"{lock}: {name} has no hash"
    assert set(pins(LOCKS[lock])) <= set(entries), f"{lock}: not compiled from {LOCKS[lock]}: make lock"


def test_development_tools_are_apart_from_the_runtime_lock_and_both_locks_agree():
    runtime, development = pins("requirements.txt"), pins("requirements-dev.txt")
    # setuptools stays in both: TensorFlow and TensorBoard depend on it at run time
    assert not (DEVELOPMENT - {"setuptools"}) & set(runtime), "development tools in the runtime lock"
    assert DEVELOPMENT <= set(development) and pins("requirements-dev.in")["import-linter"] == "2.17"
    shared = set(runtime) & set(development)
    assert {name: development[name] for name in shared} == {name: runtime[name] for name in shared}
    assert "-c requirements.txt" in (PROJECT_DIR / "requirements-dev.in").read_text()


def test_make_setup_installs_both_locks_checking_every_hash():
    makefile = (PROJECT_DIR / "Makefile").read_text()
    assert "pip install --quiet --require-hashes -r requirements.txt -r requirements-dev.txt" in makefile
    assert "pip install --quiet --no-deps -e ." in makefile
    lock = makefile.split("\nlock:")[0].split("LOCK :=")[1]
    assert "--generate-hashes" in lock and "--universal" in lock  # one lock for every Python named


def test_metadata_declares_the_runtime_dependencies_with_ranges_that_admit_the_lock(wheel):
    declared = [Requirement(r) for r in wheel_metadata(wheel).get_all("Requires-Dist")]
    runtime = {r.name: r.specifier for r in declared if r.marker is None}
    direct = pins("requirements.in") | pins("requirements-dev.in")
    assert set(runtime) == set(direct) - set(NOT_RUNTIME)
    for name, extra in NOT_RUNTIME.items():
        if extra:
            assert [r for r in declared if r.name == name and r.marker.evaluate({"extra": extra})], name
    for name, specifier in runtime.items():
        assert specifier and Version(direct[name]) in specifier, (name, str(specifier), direct[name])


def lowest_admitted(specifier: SpecifierSet) -> Version:
    candidates = [Version(f"3.{minor}.{micro}") for minor in range(8, 16) for micro in range(30)]
    return min(v for v in candidates if v in specifier)


def test_requires_python_is_the_lowest_python_the_pinned_lock_installs_on(wheel):
    """Every pin's own Requires-Python, read from the environment `make setup` built from the lock."""
    requires_python = SpecifierSet(wheel_metadata(wheel)["Requires-Python"])
    pinned = pins("requirements.txt") | pins("requirements-dev.txt")
    found = {}
    for name, pinned_version in pinned.items():
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue
        if dist.version == pinned_version:
            found[name] = SpecifierSet(dist.metadata.get("Requires-Python") or "")
    assert {"keras", "numpy", "pandas", "tensorflow"} <= set(found), "run `make setup` first"
    lock = SpecifierSet(",".join(str(s) for s in found.values() if str(s)))
    binding = {n: str(s) for n, s in found.items() if lowest_admitted(s) == lowest_admitted(lock)}
    assert lowest_admitted(requires_python) == lowest_admitted(lock), (str(requires_python), binding)


def test_the_wheel_carries_the_notebooks_and_the_embedded_sample(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert {n for n in names if n.startswith("digit_recognizer/notebooks/")} == {
            f"digit_recognizer/notebooks/{nb.name}" for nb in NOTEBOOKS_DIR.glob("*.ipynb")}
        sample = [line.split()[1] for line in (SAMPLE_DATA_DIR / "SHA256SUMS").read_text().splitlines()]
        for name in [*sample, "SHA256SUMS"]:
            assert archive.read(f"digit_recognizer/sample/{name}") == (SAMPLE_DATA_DIR / name).read_bytes()
    assert {f"digit_recognizer/kaggle_api/{m}.py" for m in ("__init__", "__main__", "credentials",
                                                             "competition", "kernel")} <= names
    assert not [n for n in names if n.startswith(("tests/", "data/", "notebooks/", "models/"))]


def files_under(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def installed_run(wheel, tmp_path_factory):
    """The suite's `smoke_run` command (`make run TUNE=1`, smoke, seed 7) from a copy installed from the
    wheel, in a working directory of its own: (site, files installed there, work, return code, log)."""
    root = tmp_path_factory.mktemp("installed")
    site, work = root / "site", root / "work"
    work.mkdir()
    pip("install", "--no-deps", "--target", str(site), str(wheel))
    installed = files_under(site)
    with open(root / "run.log", "w") as log:
        done = subprocess.run([sys.executable, "-m", "digit_recognizer.runner", "--profile", "smoke",
                               "--seed", "7", "--tune"], cwd=work, env=installed_env(site), stdout=log,
                              stderr=subprocess.STDOUT)
    return site, installed, work, done.returncode, (root / "run.log").read_text()


def installed_env(site: Path) -> dict:
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(site)}


def test_an_installed_copy_runs_from_its_own_files_and_writes_only_under_the_working_directory(
        installed_run):
    site, installed, work, returncode, log = installed_run
    where = subprocess.run(
        [sys.executable, "-c", "from digit_recognizer import config as c; "
         "print(c.__file__, c.NOTEBOOKS_DIR, c.SAMPLE_DATA_DIR, c.output_paths().root, sep='\\n')"],
        cwd=work, env=installed_env(site), capture_output=True, text=True, check=True).stdout.splitlines()
    package = site / "digit_recognizer"
    assert where == [str(package / "config.py"), str(package / "notebooks"), str(package / "sample"),
                     str(work)]
    assert returncode == 0, log[-3000:]
    assert (work / "submission.csv").is_file()
    assert sorted(p.name for p in (work / "reports").glob("*.ipynb")) == sorted(
        p.name for p in NOTEBOOKS_DIR.glob("*.ipynb"))
    manifest = json.loads((work / "models" / "run.json").read_text())
    assert manifest["data"]["folder"] == str(package / "sample")
    assert files_under(site) == installed  # nothing written into, or changed in, the installed copy


TIMES = {"train_seconds", "trained_at", "started_at", "ended_at", "seconds"}


def without_times(value):
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if k not in TIMES}
    return value


def test_run_again_from_an_installed_copy_computes_the_same_byte_for_byte(installed_run, smoke_run):
    """Same seed and profile on the same machine, another process, folder and copy of the code: the same
    submission byte for byte, the same trial scores, metrics, histories and manifest."""
    *_, work, returncode, log = installed_run
    assert returncode == 0 and smoke_run[0] == 0, log[-3000:]
    first, second = smoke_run[1], work
    assert (first / "submission.csv").read_bytes() == (second / "submission.csv").read_bytes()
    trials = [pd.read_csv(out / "models" / "tuning" / "trials.csv") for out in (first, second)]
    columns = [c for c in trials[0].columns if c != "seconds"]
    pd.testing.assert_frame_equal(trials[0][columns], trials[1][columns])
    metrics = [json.loads((out / "models" / "metrics.json").read_text()) for out in (first, second)]
    assert without_times(metrics[0]) == without_times(metrics[1])
    pd.testing.assert_frame_equal(*(pd.read_csv(out / "models" / "history.csv") for out in (first, second)))
    manifests = [json.loads((out / "models" / "run.json").read_text()) for out in (first, second)]
    assert manifests[0]["profile"] == "smoke" and manifests[0]["seed"] == 7
    assert set(manifests[0]["data"]["sha256"]) == {"train.csv.gz", "test.csv.gz", "test_labels.csv"}
    assert manifests[0]["started_at"] <= manifests[0]["ended_at"]
    for name in ["python", "tensorflow", "keras", "keras-tuner", "numpy", "pandas"]:
        assert manifests[0]["versions"][name][0].isdigit(), name
    assert set(manifests[0]["git"]) == {"commit", "dirty"}
    assert manifests[0]["submission"]["sha256"] == manifests[1]["submission"]["sha256"]
    for key in ["hyperparameters", "test_score", "versions"]:
        assert manifests[0][key] == manifests[1][key], key
    assert manifests[0]["data"]["sha256"] == manifests[1]["data"]["sha256"]


def read_only_snapshot(folder: Path) -> dict[str, bytes]:
    """Every file's bytes, then the folder made read-only (as Kaggle mounts its input)."""
    snapshot = {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    for path in sorted(folder.rglob("*"), reverse=True):
        path.chmod(0o444 if path.is_file() else 0o555)
    folder.chmod(0o555)
    return snapshot


def test_in_a_kaggle_notebook_an_installed_copy_reads_the_input_and_writes_only_to_working(wheel, tmp_path):
    """The contract for Kaggle: KAGGLE_KERNEL_RUN_TYPE set, no data folder given, run from /kaggle/working."""
    kaggle = tmp_path / "kaggle"  # stands in for /kaggle
    competition, working, site = kaggle / "input" / "digit-recognizer", kaggle / "working", tmp_path / "site"
    competition.mkdir(parents=True)
    working.mkdir()
    for name in ("train", "test"):
        with gzip.open(SAMPLE_DATA_DIR / f"{name}.csv.gz") as packed:
            (competition / f"{name}.csv").write_bytes(packed.read())
    inputs = read_only_snapshot(kaggle / "input")
    pip("install", "--no-deps", "--target", str(site), str(wheel))
    env = installed_env(site) | {"KAGGLE_KERNEL_RUN_TYPE": "Interactive", KAGGLE_ROOT_ENV: str(kaggle)}
    try:
        done = subprocess.run([sys.executable, "-m", "digit_recognizer.runner", "--profile", "smoke"],
                              cwd=working, env=env, capture_output=True, text=True)
    finally:
        for path in [kaggle / "input", *(kaggle / "input").rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert f"data: Kaggle's competition files in {competition}" in done.stdout
    assert len((working / "submission.csv").read_text().splitlines()) == 2001
    assert {"model.keras", "metrics.json", "run.json"} <= {p.name for p in (working / "models").iterdir()}
    assert len(list((working / "reports").glob("*.ipynb"))) == 4  # no search: `make run`'s default
    manifest = json.loads((working / "models" / "run.json").read_text())
    assert manifest["data"]["description"] == f"Kaggle's competition files in {competition}"
    after = {str(p.relative_to(kaggle / "input")): p.read_bytes()
             for p in (kaggle / "input").rglob("*") if p.is_file()}
    assert after == inputs  # nothing written, changed or added under input
    assert sorted(p.name for p in kaggle.iterdir()) == ["input", "working"]
