"""The five notebooks run as an editor runs them ("Run all"): a kernel per notebook, started in notebooks/,
the parameters cells as committed, nothing injected. Only the smoke size, the data and the output folder
come from $DIGIT_RECOGNIZER_TEST_SETTINGS, which nothing but tests sets. Then re-tuning: notebook 03 run
again with another search setting typed into its parameters cell, then 04 and 05, which follow it."""

import json
import os
import re
from unittest import mock

import nbclient
import nbformat
import pandas as pd
import pytest

from digit_recognizer import runner, runs
from digit_recognizer.config import NOTEBOOKS_DIR
from digit_recognizer.modeling.training import model_hyperparameters

pytestmark = pytest.mark.e2e
NOTEBOOKS = {nb.stem[:2]: nb for nb in runner.notebooks()}


def run_all(number: str, out, edit=None) -> nbformat.NotebookNode:
    """Notebook `number` executed top to bottom in a fresh kernel started in notebooks/, as JupyterLab's
    "Run all" does; `edit(source)` changes its parameters cell first, as a person typing would. The
    executed copy goes to out/executed/; a failing cell raises CellExecutionError."""
    book = nbformat.read(NOTEBOOKS[number], as_version=4)
    if edit:
        cell = next(c for c in book.cells if "parameters" in c.metadata.get("tags", []))
        cell.source = edit(cell.source)
    client = nbclient.NotebookClient(book, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS_DIR)}})
    try:
        client.execute()
    finally:
        (out / "executed").mkdir(exist_ok=True)
        nbformat.write(book, out / "executed" / NOTEBOOKS[number].name)
    return book


def printed(book) -> str:
    return "".join(o.get("text", "") for c in book.cells if c.cell_type == "code" for o in c.outputs
                   if o.output_type == "stream")


def read_json(path):
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def editor_run(tmp_path_factory):
    """01 to 05, one after another, each with "Run all"."""
    out = tmp_path_factory.mktemp("editor")
    settings = {"profile": "smoke", "data_dir": "sample", "output_dir": str(out)}
    with mock.patch.dict(os.environ, {runs.TEST_SETTINGS_ENV: json.dumps(settings)}):
        books = {number: run_all(number, out) for number in NOTEBOOKS}
    return out, books


def test_run_all_notebook_by_notebook_searches_trains_the_choice_and_submits(editor_run):
    out, books = editor_run
    tuning = out / "models" / "tuning"
    best = read_json(tuning / "best_hyperparameters.json")
    search = read_json(tuning / "search.json")
    assert search["project"].startswith("smoke-random-") and search["best_hyperparameters"] == best
    metrics = read_json(out / "models" / "metrics.json")
    assert metrics["hyperparameters"] == best == model_hyperparameters(best)  # 04 trained 03's choice
    assert metrics["hyperparameters_from"].startswith(
        f"the search in models/tuning/{search['project']} (random, 2 trials), confirmed at 3 epochs: ")
    assert metrics["hyperparameters_from"].endswith(search["confirmation"]["reason"])
    assert search["confirmation"]["reason"] in printed(books["03"])  # the notebook said what it decided
    assert f"hyperparameters: {metrics['hyperparameters_from']}" in printed(books["04"])
    submission = pd.read_csv(out / "submission.csv")
    assert submission["ImageId"].tolist() == list(range(1, 2001))
    assert read_json(out / "models" / "run.json")["hyperparameters"] == metrics["hyperparameters"]
    for number, book in books.items():  # every notebook said what ran where, with the same settings
        assert "profile smoke, seed 42, outputs under" in printed(book), number


def test_run_all_again_with_another_search_setting_and_the_submission_follows_it(editor_run):
    out, _ = editor_run
    before = read_json(out / "models" / "metrics.json")
    settings = {"profile": "smoke", "data_dir": "sample", "output_dir": str(out)}
    with mock.patch.dict(os.environ, {runs.TEST_SETTINGS_ENV: json.dumps(settings)}):
        run_all("03", out, edit=lambda source: source.replace('tuner = None', 'tuner = "bayesian"'))
        run_all("04", out)
        books = {"05": run_all("05", out)}
    tuning = out / "models" / "tuning"
    search = read_json(tuning / "search.json")
    assert search["project"].startswith("smoke-bayesian-") and search["tuner"] == "bayesian"
    metrics = read_json(out / "models" / "metrics.json")
    best = read_json(tuning / "best_hyperparameters.json")
    assert search["best_hyperparameters"] == best
    assert metrics["hyperparameters"] == model_hyperparameters(best)
    assert f"the search in models/tuning/{search['project']} (bayesian" in metrics["hyperparameters_from"]
    assert metrics["trained_at"] != before["trained_at"]
    run = read_json(out / "models" / "run.json")
    assert run["training"]["hyperparameters_from"] == metrics["hyperparameters_from"]
    assert "wrote" in printed(books["05"])


def test_a_setting_changed_in_one_notebook_only_is_refused_by_the_next_with_the_remedy(editor_run):
    out, _ = editor_run
    settings = {"profile": "smoke", "data_dir": "sample", "output_dir": str(out)}
    with mock.patch.dict(os.environ, {runs.TEST_SETTINGS_ENV: json.dumps(settings)}):
        with pytest.raises(nbclient.exceptions.CellExecutionError) as caught:
            run_all("04", out, edit=lambda source: re.sub(r"^seed = 42", "seed = 8", source, flags=re.M))
    assert "was prepared with other parameters (seed 42, now 8): run notebook 02 again" in str(caught.value)
