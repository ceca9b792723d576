"""Run the notebooks headless with papermill, in order, each with its parameters.

    python -m digit_recognizer.runner [--profile smoke|fast|full] [--seed N] [--data-dir DIR]
                                      [--output-dir DIR] [--retune] [NOTEBOOK ...]

NOTEBOOK is a number prefix (`03`) or a name; none means all of them. Notebooks after 02 asked for
without 01 and 02 get them run first only when the prepared data set is missing or was made from other
inputs (profile, seed, data folder, the data files' SHA-256). Executed copies go to
`<output-dir>/reports/`. One run at a time per output folder: a second one is refused at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
import time
from pathlib import Path

import papermill as pm

from .config import (
    DEFAULT_PROFILE,
    NOTEBOOKS_DIR,
    SAMPLE,
    SEARCH_PROFILE,
    OutputPaths,
    get_profile,
    output_paths,
)
from .data import DataError, file_hashes, locate_data
from .features import recorded_source, source_differences
from .messages import shorten
from .options import add_run_options, check_run_options, run_settings
from .runlock import OutputFolderBusy, output_folder_lock


def notebooks(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def select(names: list[str], available: list[Path]) -> list[Path]:
    if not names:
        return available
    chosen = []
    for name in names:
        matches = [nb for nb in available if nb.stem == name or nb.stem.startswith(f"{name}_")]
        if len(matches) != 1:
            raise SystemExit(f"no single notebook matches {name!r}; have {[nb.stem for nb in available]}")
        chosen.append(matches[0])
    return chosen


TUNING_NOTEBOOK = "03_tune"
PREPARING_NOTEBOOKS = ("01", "02")  # number prefixes: they make data/processed/dataset.npz


def default_profile(selected: list[Path]) -> str:
    """The profile when none is given: the one that searches for the tuning notebook alone (`make tune`),
    else the default."""
    only_tuning = selected and all(nb.stem == TUNING_NOTEBOOK for nb in selected)
    return SEARCH_PROFILE if only_tuning else DEFAULT_PROFILE


def for_profile(selected: list[Path], profile: str) -> list[Path]:
    """The notebooks a profile runs: one that does not tune (fast, full) skips the tuning notebook."""
    if get_profile(profile).tune:
        return selected
    skipped = [nb for nb in selected if nb.stem == TUNING_NOTEBOOK]
    for notebook in skipped:
        print(f"==> profile {profile} does not tune: skipping {notebook.name} "
              "(notebook 04 trains the model's default hyperparameters)", flush=True)
    return [nb for nb in selected if nb not in skipped]


def declared_parameters(notebook: Path) -> set[str]:
    papermill_log = logging.getLogger("papermill")
    level = papermill_log.level
    papermill_log.setLevel(logging.WARNING)  # inspecting logs "Input Notebook" lines: noise here
    try:
        return set(pm.inspect_notebook(str(notebook)))
    finally:
        papermill_log.setLevel(level)


def run(selected: list[Path], parameters: dict, reports_dir: Path,
        kernel_name: str = "python3") -> list[Path]:
    """Execute each notebook with the parameters it declares; stops at the first failing one."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # kernels inherit it: fewer TensorFlow banners
    written = []
    for number, notebook in enumerate(selected, start=1):
        declared = declared_parameters(notebook)
        given = {k: v for k, v in parameters.items() if k in declared}
        output = reports_dir / notebook.name
        print(f"==> [{number}/{len(selected)}] {notebook.name} {given}", flush=True)
        start = time.perf_counter()
        try:
            # kernels start in the caller's folder: an installed copy's default outputs go there
            pm.execute_notebook(str(notebook), str(output), parameters=given, kernel_name=kernel_name,
                                cwd=os.getcwd(), log_output=True, progress_bar=False)
        except pm.PapermillExecutionError as error:
            print(f"==> {notebook.name} FAILED in cell {error.exec_count}: {error.ename}: "
                  f"{shorten(error.evalue)}\n"
                  f"    the executed copy shows the traceback: {output}", file=sys.stderr, flush=True)
            raise
        print(f"==> {notebook.name} done in {time.perf_counter() - start:.0f} s; executed copy: {output}",
              flush=True)
        written.append(output)
    return written


def stale_dataset(paths: OutputPaths, parameters: dict) -> str:
    """Why the prepared data set must be made again for a run with these parameters; "" if it is current.
    Cheap: reads only the data set's record and hashes the data files, parsing nothing."""
    recorded = recorded_source(paths.dataset_file)
    if recorded is None:
        return f"{paths.dataset_file} is missing or unreadable"
    try:
        hashes = file_hashes(locate_data(parameters["data_dir"]))
    except DataError as error:
        return f"the data cannot be located ({shorten(str(error))})"
    expected = {key: parameters[key] for key in ("profile", "seed", "data_dir")} | {"sha256": hashes}
    if differences := source_differences(recorded, expected):
        return f"{paths.dataset_file} was prepared from other inputs ({differences})"
    return ""


def with_prepared_data(selected: list[Path], available: list[Path], paths: OutputPaths,
                       parameters: dict) -> list[Path]:
    """`selected`, after notebooks 01 and 02 where it needs the prepared data set and that is stale."""
    numbers = {nb.stem[:2] for nb in selected}
    if numbers & set(PREPARING_NOTEBOOKS) or not any(n > PREPARING_NOTEBOOKS[-1] for n in numbers):
        return selected
    preparing = [nb for nb in available if nb.stem[:2] in PREPARING_NOTEBOOKS]
    if why := stale_dataset(paths, parameters):
        print(f"==> {why}: running {' and '.join(nb.name for nb in preparing)} first", flush=True)
        return preparing + selected
    print(f"==> {paths.dataset_file} is up to date (profile {parameters['profile']}, seed "
          f"{parameters['seed']}, the same data files): not running "
          f"{' or '.join(nb.name for nb in preparing)}", flush=True)
    return selected


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="number prefixes or names; default: all, in order")
    add_run_options(parser, output_help="root for models/, reports/, submission.csv; default: "
                                        "/kaggle/working on Kaggle, the project folder in a clone, else the "
                                        "current folder",
                    default_profile=None, profile_help=f"{DEFAULT_PROFILE}; {SEARCH_PROFILE} for the "
                                                       f"tuning notebook alone")
    parser.add_argument("--data-dir", default="",
                        help=f"a folder in Kaggle's layout, or {SAMPLE!r} for the embedded sample; "
                             "default: Kaggle's input folder on Kaggle, else data/raw/, else the sample")
    parser.add_argument("--retune", action="store_true", help="archive the earlier search, start afresh")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    available = notebooks()
    chosen = select(args.notebooks, available)
    args.profile = args.profile or default_profile(chosen)
    check_run_options(parser, args)

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    paths = output_paths(args.output_dir or None)
    parameters = run_settings(args) | {
        "data_dir": args.data_dir if args.data_dir in ("", SAMPLE) else str(Path(args.data_dir).resolve()),
        "output_dir": str(paths.root),
        "retune": args.retune,
    }
    selected = for_profile(chosen, args.profile)
    command = shlex.join(["python", "-m", "digit_recognizer.runner", *argv])
    try:
        with output_folder_lock(paths.root, command):
            run(with_prepared_data(selected, available, paths, parameters), parameters, paths.reports_dir)
    except OutputFolderBusy as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 1
    except pm.PapermillExecutionError:
        return 1  # already reported, with the notebook and cell
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
