"""A notebook opened on its own (Colab's "Open from GitHub", a notebook uploaded to Kaggle): its first code
cell installs the project where `digit_recognizer` cannot be imported, and says so; the same cell in all
five notebooks. pip is the boundary faked here: the cell's `subprocess.run` records the command."""

import subprocess
import sys

import nbformat
import pytest

from digit_recognizer import runner
from digit_recognizer.config import PROJECT_DIR


def install_cells() -> list[str]:
    return [next(c for c in nbformat.read(nb, as_version=4).cells if c.cell_type == "code").source
            for nb in runner.notebooks()]


def test_every_notebook_opens_with_the_same_install_cell():
    cells = install_cells()
    assert len(cells) == 5 and len(set(cells)) == 1
    assert 'find_spec("digit_recognizer") is None' in cells[0]


def run_cell(monkeypatch, folder, importable: bool):
    """The install cell, run in `folder` with the package importable or not; returns pip's command."""
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: (
        real_find_spec(name, *args) if importable or name != "digit_recognizer" else None))
    commands = []
    monkeypatch.setattr(subprocess, "run", lambda command, check: commands.append((command, check)))
    monkeypatch.chdir(folder)
    exec(install_cells()[0], {})
    return commands


def test_nothing_is_installed_where_the_project_imports(monkeypatch, tmp_path):
    assert run_cell(monkeypatch, tmp_path, importable=True) == []


def test_inside_a_checkout_the_checkout_is_installed(monkeypatch, capsys):
    monkeypatch.delenv("DIGIT_RECOGNIZER_SOURCE", raising=False)
    commands = run_cell(monkeypatch, PROJECT_DIR / "notebooks", importable=False)
    assert commands == [([sys.executable, "-m", "pip", "install", "--quiet", str(PROJECT_DIR)], True)]
    assert f"digit_recognizer is not installed here: installing {PROJECT_DIR}" in capsys.readouterr().out


def test_elsewhere_the_source_given_is_installed(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGIT_RECOGNIZER_SOURCE", "git+https://example.org/me/digit-recognizer.git")
    commands = run_cell(monkeypatch, tmp_path, importable=False)
    assert commands[0][0][-1] == "git+https://example.org/me/digit-recognizer.git"


def test_with_nothing_to_install_from_one_error_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.delenv("DIGIT_RECOGNIZER_SOURCE", raising=False)
    with pytest.raises(ModuleNotFoundError, match="not inside a checkout: install it with `%pip install .*"
                                                  "DIGIT_RECOGNIZER_SOURCE.*then run all again"):
        run_cell(monkeypatch, tmp_path, importable=False)
