"""The project's own conventions: clean notebooks with parameters, a self-documenting Makefile."""

import json
import subprocess

import pytest

from digit_recognizer.config import PROJECT_DIR
from digit_recognizer.runner import declared_parameters, notebooks

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


def test_make_help_lists_every_target():
    out = subprocess.run(["make", "-s", "help"], cwd=PROJECT_DIR, capture_output=True, text=True,
                         check=True).stdout
    for target in ["run", "test", "data", "tune", "retune", "train", "submission", "lab", "lint", "clean",
                   "submit", "tensorboard", "kaggle-kernel", "kaggle-push", "test-quick"]:
        assert f" {target} " in out, target
