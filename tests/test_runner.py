"""The runner: which notebooks a run takes, in what order, and how it relays a failure."""

import papermill as pm
import pytest

from digit_recognizer import runner
from digit_recognizer.config import NOTEBOOKS_DIR
from digit_recognizer.runner import notebooks, select, with_search

NOTEBOOKS = notebooks()


def test_a_whole_run_searches_only_when_asked(capsys):
    assert [nb.stem[:2] for nb in with_search(NOTEBOOKS, named=False, tune=False)] == ["01", "02", "04", "05"]
    assert "skipping 03_tune.ipynb, the search (TUNE=1 or --tune runs it)" in capsys.readouterr().out
    assert with_search(NOTEBOOKS, named=False, tune=True) == NOTEBOOKS  # make run TUNE=1


def test_a_run_that_names_the_tuning_notebook_searches_whatever_the_profile():
    assert with_search(select(["03"], NOTEBOOKS), named=True, tune=False) == select(["03"], NOTEBOOKS)


def test_select_by_number_or_name():
    assert [nb.stem for nb in select(["01", "05_submit"], NOTEBOOKS)] == ["01_load_data", "05_submit"]
    with pytest.raises(SystemExit, match="no single notebook"):
        select(["9"], NOTEBOOKS)


def test_notebooks_folder_is_where_the_runner_looks():
    assert NOTEBOOKS and all(nb.parent == NOTEBOOKS_DIR for nb in NOTEBOOKS)


def test_runner_caps_the_error_it_relays(tmp_path, capsys, monkeypatch):
    def fail(*args, **kwargs):
        raise pm.PapermillExecutionError(3, 3, "load()", "DataError", "x" * 5_000_000, [])

    monkeypatch.setattr(pm, "execute_notebook", fail)
    with pytest.raises(pm.PapermillExecutionError):
        runner.run(runner.notebooks()[:1], {}, tmp_path / "reports")
    err = capsys.readouterr().err
    assert "FAILED in cell 3: DataError: xxxx" in err and "... (5,000,000 characters)" in err
    assert len(err) < 1000
