"""Run the notebooks headless with papermill, in order, each with its parameters.

    python -m digit_recognizer.runner [--profile smoke|fast|full] [--seed N] [--data-dir DIR]
                                      [--output-dir DIR] [--tune] [--retune] [NOTEBOOK ...]

NOTEBOOK is a number prefix (`03`) or a name; none means all of them, the search (03) only with `--tune`.
Each option is a setting of `settings.Settings`, given to every notebook that declares it. Notebooks
after 02 asked for without 01 and 02 get them run first only when the prepared data set is missing or
was made from other inputs (profile, seed, data folder, the data files' SHA-256). Executed copies go to
`<output-dir>/reports/`. One run at a time per output folder: a second one is refused at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
import time
from dataclasses import asdict
from pathlib import Path

import nbclient
import papermill as pm

from .config import NOTEBOOKS_DIR, SAMPLE, OutputPaths, output_paths
from .dataset.checksums import file_hashes
from .dataset.locate import locate_data
from .features import recorded_source
from .plumbing import runtime
from .plumbing.lineage import differences
from .plumbing.messages import DataError, shorten
from .plumbing.runlock import OutputFolderBusy, output_folder_lock
from .settings import add_options, from_options


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


def with_search(selected: list[Path], named: bool, tune: bool) -> list[Path]:
    """The notebooks a run takes: a whole run (none `named`) searches only with `tune`; a run that names
    the tuning notebook (`make tune`) searches."""
    if named or tune:
        return selected
    skipped = [nb for nb in selected if nb.stem == TUNING_NOTEBOOK]
    for notebook in skipped:
        print(f"==> skipping {notebook.name}, the search (TUNE=1 or --tune runs it): notebook 04 trains the "
              "search on record for this data, if any, else the model's defaults", flush=True)
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
        except nbclient.exceptions.DeadKernelError:
            raise RunStopped(f"{notebook.name} STOPPED: its kernel died, killed from outside (most often by "
                             "the system running out of memory: close other programs, or use PROFILE=fast); "
                             "what earlier steps wrote is kept, and a training resumes from its backup when "
                             "run again") from None
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
    if changed := differences(recorded, expected):
        return f"{paths.dataset_file} was prepared from other inputs ({changed})"
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
    add_options(parser)
    parser.add_argument("--traceback", action="store_true",
                        help="on a failure outside the notebooks' cells, the whole traceback, not one line")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    settings = from_options(parser, args)
    available = notebooks()
    chosen = select(args.notebooks, available)

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    paths = output_paths(settings.output_dir or None)
    data_dir = settings.data_dir
    parameters = asdict(settings) | {
        "data_dir": data_dir if data_dir in ("", SAMPLE) else str(Path(data_dir).expanduser().resolve()),
        "output_dir": str(paths.root),
    }
    selected = with_search(chosen, bool(args.notebooks), settings.tune)
    command = shlex.join(["python", "-m", "digit_recognizer.runner", *argv])
    try:
        runtime.check_backend()  # the notebooks' kernels inherit the backend and its flags
        runtime.prepare_environment(settings.deterministic)
        check_output_folder(paths.root)
        with output_folder_lock(paths.root, command):
            run(with_prepared_data(selected, available, paths, parameters), parameters, paths.reports_dir)
    except pm.PapermillExecutionError:
        return 1  # already reported, with the notebook and cell
    except KeyboardInterrupt:
        print("==> interrupted (Ctrl-C): what finished steps wrote is kept; run the same command again to "
              "go on (a training resumes from its backup, a search from its trials)", file=sys.stderr,
              flush=True)
        return 130
    except (runtime.BackendUnavailable, OutputFolderBusy, RunStopped, DataError, OSError) as error:
        if args.traceback:
            raise
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 1
    return 0


class RunStopped(RuntimeError):
    """The run stopped from outside a notebook's own code (its kernel killed, Ctrl-C); says what to do."""


def check_output_folder(root: Path) -> None:
    """Refuse, before any work, an output folder that cannot be written: a file, under a file, read-only."""
    if root.exists() and not root.is_dir():
        raise RunStopped(f"output folder {root} is a file: give a folder (--output-dir)")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunStopped(f"output folder {root} cannot be made ({error.strerror}): give a writable "
                         "folder (--output-dir)") from None
    if not os.access(root, os.W_OK):
        raise RunStopped(f"output folder {root} is read-only: give a writable folder (--output-dir)")


class RunFailed(RuntimeError):
    """A run started from a notebook cell failed; what failed was printed above."""


def run_notebooks(*argv: str) -> None:
    """`main(argv)` for a notebook cell (Colab): a failed run raises, so the cell and "Run all" stop."""
    if code := main(list(argv)):
        raise RunFailed(f"the run stopped (exit status {code}); the lines above say where and why")


if __name__ == "__main__":
    raise SystemExit(main())
