"""The runner: which notebooks a run takes, in what order, and how it relays a failure."""

import papermill as pm
import pytest

from digit_recognizer import runner
from digit_recognizer.config import NOTEBOOKS_DIR
from digit_recognizer.runner import for_profile, notebooks, select

NOTEBOOKS = notebooks()


def test_a_profile_that_does_not_tune_skips_the_tuning_notebook():
    assert [nb.stem[:2] for nb in for_profile(NOTEBOOKS, "fast")] == ["01", "02", "04", "05"]
    assert [nb.stem[:2] for nb in for_profile(NOTEBOOKS, "full")] == ["01", "02", "04", "05"]
    assert for_profile(NOTEBOOKS, "tuned") == NOTEBOOKS


def test_the_tuning_notebook_alone_defaults_to_the_profile_that_searches():
    assert runner.default_profile(select(["03"], NOTEBOOKS)) == "tuned"  # make tune
    assert runner.default_profile(select(["03", "04"], NOTEBOOKS)) == "full"
    assert runner.default_profile(NOTEBOOKS) == "full"  # make run


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
