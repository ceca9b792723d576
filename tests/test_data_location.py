"""Which data set a run reads: Kaggle's input on Kaggle, data/raw/ (CSVs or Kaggle's zips), or the sample
only when data/raw/ holds no competition file at all."""

import shutil
import zipfile

import nbformat
import pytest

from digit_recognizer import config, runner
from digit_recognizer.dataset import loading, locate
from digit_recognizer.plumbing.messages import DataError
from tests.helpers import pixel_rows, train_rows, write_csv


def kaggle_csvs(folder, rows=12):
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "train.csv", loading.TRAIN_COLUMNS, train_rows(rows))
    write_csv(folder / "test.csv", loading.TEST_COLUMNS, pixel_rows(4))
    return folder


def zipped(archive, files):
    with zipfile.ZipFile(archive, "w") as z:
        for path in files:
            z.write(path, path.name)
    return archive


@pytest.fixture
def raw_dir(tmp_path, monkeypatch):
    folder = tmp_path / "raw"
    folder.mkdir()
    monkeypatch.setattr(locate, "raw_data_dir", lambda: folder)
    monkeypatch.delenv(config.KAGGLE_ENV, raising=False)
    return folder


@pytest.fixture
def kaggle(tmp_path, monkeypatch):
    """A stand-in for /kaggle: input/ read-only once filled, working/ writable."""
    root = tmp_path / "kaggle"
    (root / "input").mkdir(parents=True)
    (root / "working").mkdir()
    monkeypatch.setenv(config.KAGGLE_ENV, "Interactive")
    monkeypatch.setenv(config.KAGGLE_ROOT_ENV, str(root))
    return root


def test_empty_raw_folder_uses_the_sample_and_says_so(raw_dir, capsys):
    files = locate.locate_data()
    assert files.is_sample
    out = capsys.readouterr().out
    assert f"no competition files in {raw_dir}" in out and "data: the embedded sample" in out


@pytest.mark.parametrize("present, missing", [
    (["train.csv"], "no test.csv"),
    (["test.csv"], "no train.csv"),
    (["sample_submission.csv"], "no train.csv or test.csv"),
])
def test_partial_raw_folder_is_an_error_not_the_sample(raw_dir, present, missing):
    kaggle_csvs(raw_dir.parent / "full")
    write_csv(raw_dir.parent / "full" / "sample_submission.csv", ["ImageId", "Label"], [[1, 0]])
    for name in present:
        shutil.copy(raw_dir.parent / "full" / name, raw_dir / name)
    expected = rf"raw: holds {present[0]} but {missing}: .*sample is used only"
    with pytest.raises(DataError, match=expected):
        locate.locate_data()
    assert sorted(p.name for p in raw_dir.iterdir()) == present


def test_whole_competition_zip_is_unpacked_checked_and_used(raw_dir, capsys):
    full = kaggle_csvs(raw_dir.parent / "full")
    zipped(raw_dir / "digit-recognizer.zip", [full / "train.csv", full / "test.csv"])
    files = locate.locate_data()
    assert files.train == raw_dir / "train.csv" and files.test == raw_dir / "test.csv"
    assert files.description == f"Kaggle's competition files in {raw_dir}"
    assert (raw_dir / "train.csv").read_bytes() == (full / "train.csv").read_bytes()
    assert "unpacked digit-recognizer.zip" in capsys.readouterr().out
    assert len(loading.load_train(files.train)[0]) == 12


def test_per_file_zips_are_unpacked(raw_dir):
    full = kaggle_csvs(raw_dir.parent / "full")
    zipped(raw_dir / "train.csv.zip", [full / "train.csv"])
    zipped(raw_dir / "test.csv.zip", [full / "test.csv"])
    files = locate.locate_data()
    assert (files.train.name, files.test.name) == ("train.csv", "test.csv")


def test_corrupt_zip_is_a_clear_error_and_leaves_nothing_behind(raw_dir):
    (raw_dir / "digit-recognizer.zip").write_bytes(b"<html>Too many requests</html>")
    with pytest.raises(DataError, match=r"digit-recognizer\.zip"):
        locate.locate_data()
    assert [p.name for p in raw_dir.iterdir()] == ["digit-recognizer.zip"]


def test_sample_by_name(raw_dir):
    kaggle_csvs(raw_dir)
    assert locate.locate_data(config.SAMPLE).is_sample  # even with Kaggle's files in data/raw


def test_on_kaggle_the_competition_input_is_read_and_outputs_go_to_working(kaggle, capsys):
    kaggle_csvs(kaggle / "input" / "other-upload")
    kaggle_csvs(kaggle / "input" / "digit-recognizer")
    files = locate.locate_data()
    assert files.folder == kaggle / "input" / "digit-recognizer"
    said = capsys.readouterr().out
    assert f"data: Kaggle's competition files in {kaggle / 'input' / 'digit-recognizer'}" in said
    assert config.output_paths().root == kaggle / "working"
    assert config.raw_data_dir() == kaggle / "working" / "data" / "raw"


@pytest.mark.parametrize("folder", ["my-copy", "competitions/digit-recognizer"])
def test_on_kaggle_an_added_copy_of_the_data_is_found(kaggle, folder):
    kaggle_csvs(kaggle / "input" / "notes")  # holds no test.csv: skipped
    (kaggle / "input" / "notes" / "test.csv").unlink()
    kaggle_csvs(kaggle / "input" / folder)
    assert locate.locate_data().folder == kaggle / "input" / folder


@pytest.mark.parametrize("layout", ["digit-recognizer", "competitions/digit-recognizer"])
def test_on_kaggle_either_input_layout_of_the_competition_comes_before_added_data(kaggle, layout):
    """Kaggle mounts a competition at input/<slug>/ or, in newer notebooks, input/competitions/<slug>/."""
    kaggle_csvs(kaggle / "input" / "another-mnist")  # sorts first, but is not the competition's
    kaggle_csvs(kaggle / "input" / layout)
    assert locate.locate_data().folder == kaggle / "input" / layout


def test_on_kaggle_without_data_is_an_error_that_says_what_to_do(kaggle):
    with pytest.raises(DataError, match=r"input: no folder here holds train\.csv and test\.csv: add"):
        locate.locate_data()


@pytest.mark.e2e
def test_partial_data_stops_the_run_before_any_output_changes(kaggle, smoke_run, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(smoke_run[1], out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and "reports" not in p.parts}
    raw = kaggle / "working" / "data" / "raw"
    kaggle_csvs(raw)
    (raw / "test.csv").unlink()
    code = runner.main(["--profile", "smoke", "--output-dir", str(out), "01", "02", "05"])
    assert code == 1
    report = nbformat.read(out / "reports" / "01_load_data.ipynb", as_version=4)
    errors = [o for c in report.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors and "holds train.csv but no test.csv" in errors[0]["evalue"]
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and "reports" not in p.parts} == before
