"""The project's own conventions: clean notebooks with parameters, a self-documenting Makefile."""

import json
import subprocess

import pytest

from digit_recognizer.config import NOTEBOOKS_DIR, PROFILES, PROJECT_DIR
from digit_recognizer.runner import declared_parameters, for_profile, notebooks, select

NOTEBOOKS = notebooks()


def test_five_notebooks_in_order():
    assert [nb.stem[:3] for nb in NOTEBOOKS] == ["01_", "02_", "03_", "04_", "05_"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_clean_with_a_parameters_cell(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    assert [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert {"profile", "seed", "data_dir", "output_dir"} <= declared_parameters(notebook)
    assert sum(c["cell_type"] == "markdown" for c in cells) >= 3  # a narrative, not bare code


def test_profiles_smoke_fast_and_full():
    assert {"smoke", "fast", "full"} <= set(PROFILES)
    assert PROFILES["smoke"].max_train_images and PROFILES["full"].max_train_images is None
    assert not PROFILES["fast"].tune and PROFILES["full"].tune
    assert PROFILES["full"].ensemble_size > 1 and PROFILES["fast"].ensemble_size == 1


def test_a_profile_that_does_not_tune_skips_the_tuning_notebook():
    assert [nb.stem[:2] for nb in for_profile(NOTEBOOKS, "fast")] == ["01", "02", "04", "05"]
    assert for_profile(NOTEBOOKS, "full") == NOTEBOOKS


def test_select_by_number_or_name():
    assert [nb.stem for nb in select(["01", "05_submit"], NOTEBOOKS)] == ["01_load_data", "05_submit"]
    with pytest.raises(SystemExit, match="no single notebook"):
        select(["9"], NOTEBOOKS)


def test_make_help_lists_every_target():
    out = subprocess.run(["make", "-s", "help"], cwd=PROJECT_DIR, capture_output=True, text=True,
                         check=True).stdout
    for target in ["run", "test", "data", "tune", "retune", "train", "submission", "lab", "lint", "clean",
                   "submit", "tensorboard", "kaggle-kernel", "kaggle-push"]:
        assert f" {target} " in out, target


def test_notebooks_folder_is_where_the_runner_looks():
    assert NOTEBOOKS and all(nb.parent == NOTEBOOKS_DIR for nb in NOTEBOOKS)
