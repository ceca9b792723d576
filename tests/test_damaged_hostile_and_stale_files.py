"""Damaged, hostile and stale files, by class, each a table of cases: every one ends in one error that names
the file (and field, or member) and the remedy, and costs the user no file.

1. archives: bounded before anything is written, unpacking only what is missing, never overwriting;
2. files the project reads back: checked against what the project says is valid;
3. stale state: a search folder and the prepared data set are reused only for what they were made from;
4. user-facing commands end a failure with one line, no traceback (unless --traceback)."""

import dataclasses
import gzip
import io
import json
import re
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import papermill as pm
import pytest

from digit_recognizer import config, features, runner, runs
from digit_recognizer.dataset import archives, checksums, loading, locate
from digit_recognizer.kaggle_api import kernel
from digit_recognizer.kaggle_api.__main__ import main as kaggle_main
from digit_recognizer.modeling import confirmation, search_record, training, tuning
from digit_recognizer.modeling.training import ProvenanceError
from digit_recognizer.plumbing import files
from digit_recognizer.plumbing.files import RecordError
from digit_recognizer.plumbing.messages import DataError
from digit_recognizer.settings import Settings
from digit_recognizer.submission import make_submission
from tests.helpers import pixel_rows, prepared_sample, train_rows, write_csv

HEADER = ["label", *[f"pixel{i}" for i in range(784)]]


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def csv_text(rows, header=HEADER) -> str:
    return ",".join(header) + "\n" + "".join(",".join(map(str, row)) + "\n" for row in rows)


TRAIN, TEST = csv_text(train_rows(30)), csv_text(pixel_rows(3), HEADER[1:])


def make_zip(path: Path, members: dict, compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as zipped:
        for name, text in members.items():
            zipped.writestr(name, text)
    return path


def encrypted(path: Path) -> Path:
    """A zip whose members are marked encrypted (bit 0 of the flags), as `zip -e` leaves them."""
    make_zip(path, {"train.csv": TRAIN, "test.csv": TEST}, compression=zipfile.ZIP_STORED)
    raw = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = raw.find(signature)
        while at != -1:
            raw[at + offset] |= 1
            at = raw.find(signature, at + 4)
    path.write_bytes(bytes(raw))
    return path


MANY_MEMBERS = {f"extra/{n}": "" for n in range(120)}


# --- 1. archives -----------------------------------------------------------------------------------
# case: (what the folder holds besides the zip, how the zip is built, the message's fragment)
ARCHIVES = {
    "a zip bomb: a member 1,000 times its packed size": (
        {}, lambda p: make_zip(p, {"train.csv": "0" * 5_000_000, "test.csv": TEST}),
        "member train.csv would unpack to 5,000,000 bytes from"),
    "more members than a competition zip could hold": (
        {}, lambda p: make_zip(p, {"train.csv": TRAIN, "test.csv": TEST} | MANY_MEMBERS),
        "holds 122 members, more than the 100"),
    "an encrypted zip": ({}, encrypted, "member train.csv is encrypted: unzip it yourself"),
    "a user's test.csv beside the zip, with other content": (
        {"test.csv": csv_text(pixel_rows(2, seed=9), HEADER[1:])},
        lambda p: make_zip(p, {"train.csv": TRAIN, "test.csv": TEST}),
        "test.csv: differs from the test.csv in"),
    "a zip replaced after an earlier unpack": (
        {"train.csv": csv_text(train_rows(30, seed=5)), "test.csv": TEST},
        lambda p: make_zip(p, {"train.csv": TRAIN, "test.csv": TEST}),
        "train.csv: differs from the train.csv in"),
}


@pytest.mark.parametrize(("beside", "build", "fragment"), ARCHIVES.values(), ids=ARCHIVES.keys())
def test_a_hostile_or_conflicting_zip_is_refused_before_anything_is_written(tmp_path, beside, build,
                                                                            fragment):
    folder = tmp_path / "raw"
    folder.mkdir()
    for name, text in beside.items():
        (folder / name).write_text(text)
    build(folder / "digit-recognizer.zip")
    before = snapshot(folder)
    with pytest.raises(DataError, match=fragment) as caught:
        locate.data_files(folder)
    assert str(folder) in str(caught.value) and "\n" not in str(caught.value)
    assert snapshot(folder) == before  # nothing written, nothing overwritten


def test_a_member_declared_larger_than_any_competition_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(archives, "MAX_MEMBER_BYTES", 10_000)
    archive = make_zip(tmp_path / "digit-recognizer.zip", {"train.csv": TRAIN, "test.csv": TEST})
    with pytest.raises(DataError, match=r"member train\.csv would unpack to [\d,]+ bytes, more than the "
                                        "10,000 a competition file could"):
        archives.extract_competition_zip(archive, tmp_path / "raw")
    assert not (tmp_path / "raw").exists()


def test_only_the_missing_files_are_unpacked_and_the_users_own_are_kept(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "test.csv").write_text(TEST)  # the same as the zip's: kept, not rewritten
    kept = (folder / "test.csv").stat().st_mtime_ns
    make_zip(folder / "digit-recognizer.zip", {"train.csv": TRAIN, "test.csv": TEST})
    assert locate.unpack_zips(folder) == [folder / "train.csv"]
    assert (folder / "test.csv").stat().st_mtime_ns == kept and (folder / "train.csv").read_text() == TRAIN
    assert locate.unpack_zips(folder) == []  # the zip and the files agree: nothing to do, no error


def zipped_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr("train.csv", TRAIN)
    return buffer.getvalue()


def test_a_csv_that_is_really_an_archive_says_so(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "test.csv").write_text(TEST)
    (folder / "train.csv").write_bytes(zipped_bytes())
    with pytest.raises(DataError, match=r"train\.csv: a zip archive, not CSV text: rename it train\.csv\.zip"
                                        r" \(zips of Kaggle's files are unpacked"):
        loading.load_data(folder)
    (folder / "train.csv").write_bytes(gzip.compress(TRAIN.encode()))
    with pytest.raises(DataError, match=r"train\.csv: gzip-compressed, not CSV text: rename it "
                                        r"train\.csv\.gz"):
        loading.load_data(folder)


def test_a_gz_that_unpacks_past_any_competition_file_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(loading, "MAX_MEMBER_BYTES", 1_000)
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "test.csv").write_text(TEST)
    (folder / "train.csv.gz").write_bytes(gzip.compress(TRAIN.encode()))
    with pytest.raises(DataError, match=r"train\.csv\.gz: unpacked, holds more than 1,000 bytes"):
        loading.load_data(folder)


# --- 2. files the project reads back ----------------------------------------------------------------


def sha256sums(folder: Path, line: str) -> Path:
    (folder / "SHA256SUMS").write_text(line + "\n")
    return folder


# case: (the SHA256SUMS line, None where it is accepted, else the message's fragment)
CHECKSUM_LINES = {
    "sha256sum's text mode": ("{digest}  test.csv", None),
    "sha256sum -b, binary mode": ("{digest} *test.csv", None),
    "a path out of the folder": ("{digest}  ../test.csv", "lists '../test.csv': expected"),
    "an absolute path": ("{digest}  /etc/passwd", "lists '/etc/passwd': expected"),
    "a file in a sub-folder": ("{digest}  sub/test.csv", "lists 'sub/test.csv': expected"),
    "no file name": ("{digest}", "lists '': expected"),
}


@pytest.mark.parametrize(("line", "fragment"), CHECKSUM_LINES.values(), ids=CHECKSUM_LINES.keys())
def test_sha256sums_in_either_sha256sum_form_and_only_for_files_of_the_folder(tmp_path, line, fragment):
    (tmp_path / "test.csv").write_text(TEST)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "test.csv").write_text(TEST)
    sha256sums(tmp_path, line.format(digest=files.sha256(tmp_path / "test.csv")))
    if fragment is None:
        assert checksums.verify_checksums(tmp_path) == ["test.csv"]
    else:
        with pytest.raises(DataError, match=rf"SHA256SUMS, line 1: {fragment}"):
            checksums.verify_checksums(tmp_path)


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """A prepared data set, saved as notebook 02 does, and a one-trial search on it, exported as notebook
    03 does."""
    paths, dataset = prepared_sample(tmp_path_factory.mktemp("searched"), max_train_images=200)
    profile = Settings(profile="smoke", tuner="random", max_trials=1).run_profile
    training.set_determinism(7)
    tuner = tuning.make_tuner(profile, paths.tuning_dir, 7, dataset.source)
    summary = tuning.search(tuner, dataset, profile, verbose=0)
    confirmed = confirmation.confirm(tuner, dataset, profile, 7)
    tuning.export_results(tuner, paths, summary, dataset.source, confirmed)
    return paths, dataset


# case: (the edit to best_hyperparameters.json (search.json made to agree), the message's fragment)
HYPERPARAMETERS = {
    "out of range": ({"dropout_0": 0.9}, "'dropout_0' is 0.9; the search space allows from 0.0 to 0.5"),
    "an unknown choice": ({"conv_style": "three_7x7"}, "'conv_style' is 'three_7x7'; the search space "
                                                        "allows ['one_5x5', 'two_3x3']"),
    "mistyped": ({"filters_0": "32"}, "'filters_0' is '32'; the search space allows [16, 24, 32, 48, 64]"),
    "a boolean as a number": ({"batch_norm": 1}, "'batch_norm' is 1; the search space allows True or False"),
    "an unknown knob": ({"filters_9": 16}, "'filters_9' is no hyperparameter of the model"),
}


@pytest.mark.parametrize(("edit", "fragment"), HYPERPARAMETERS.values(), ids=HYPERPARAMETERS.keys())
def test_hyperparameters_read_back_are_checked_against_the_search_space(searched, tmp_path, edit, fragment):
    paths, dataset = searched
    copy = config.output_paths(tmp_path)
    copy.tuning_dir.mkdir(parents=True)
    best = json.loads(paths.best_hyperparameters_file.read_text()) | edit
    copy.best_hyperparameters_file.write_text(json.dumps(best))
    record = json.loads(paths.search_summary_file.read_text()) | {"best_hyperparameters": best}
    copy.search_summary_file.write_text(json.dumps(record))
    with pytest.raises(RecordError, match=rf"^{copy.best_hyperparameters_file}: {re.escape(fragment)}.*: run "
                                          r"notebook 03 \(`make tune`\) again"):
        search_record.search_on_record(copy, dataset.source)


# case: (the file, what it is made to hold, the message's fragment)
DAMAGED_SEARCH = {
    "best_hyperparameters.json cut short": ("best", '{"filters_0": 3', "damaged, not JSON"),
    "search.json a list": ("search", "[1, 2]", "holds a JSON list, not the object"),
    "search.json not UTF-8": ("search", b"\xff\xfe{}", "cannot be read"),
}


@pytest.mark.parametrize(("which", "content", "fragment"), DAMAGED_SEARCH.values(), ids=DAMAGED_SEARCH.keys())
def test_damaged_search_records_are_one_error_naming_the_file(searched, tmp_path, which, content, fragment):
    paths, dataset = searched
    copy = config.output_paths(tmp_path)
    copy.tuning_dir.mkdir(parents=True)
    for name in ("best_hyperparameters_file", "search_summary_file"):
        getattr(copy, name).write_bytes(getattr(paths, name).read_bytes())
    target = copy.best_hyperparameters_file if which == "best" else copy.search_summary_file
    target.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(RecordError, match=rf"^{target}: {fragment}"):
        search_record.search_on_record(copy, dataset.source)


def trained_root(tmp_path, dataset):
    """An output root with a one-epoch model and its metrics, as notebook 04 leaves them."""
    paths = config.output_paths(tmp_path)
    profile = dataclasses.replace(Settings(profile="smoke").run_profile, train_epochs=1)
    model, histories, members, seconds = training.train_ensemble(None, dataset, profile, 7, verbose=0)
    metrics = training.metrics_record(profile, 7, None, dataset, histories, members, seconds, {})
    training.save_training_outputs(model, histories, metrics, paths,
                                   training.trained_on(dataset, profile, 7, None))
    return paths, profile


# case: (how metrics.json is changed, the error, the message's fragment)
METRICS = {
    "damaged": (lambda text: text[:40], RecordError, "damaged, not JSON"),
    "a list": (lambda text: "[]", RecordError, "holds a JSON list"),
    "provenance edited": (lambda text: text.replace('"seed": 7', '"seed": 8'), ProvenanceError,
                          "field 'provenance': edited since the training wrote it"),
}


@pytest.mark.parametrize(("change", "error", "fragment"), METRICS.values(), ids=METRICS.keys())
def test_a_damaged_or_edited_metrics_json_is_refused_naming_it(searched, tmp_path, change, error, fragment):
    _, dataset = searched
    paths, profile = trained_root(tmp_path, dataset)
    paths.metrics_file.write_text(change(paths.metrics_file.read_text()))
    with pytest.raises(error, match=fragment) as caught:
        training.load_trained_model(paths, dataset, profile, 7)
    assert str(paths.metrics_file) in str(caught.value) and "run notebook 04" in str(caught.value)


# case: (what models/run.json holds, the message's fragment)
RUN_RECORDS = {
    "damaged": ("{", "run.json: damaged, not JSON"),
    "a submission field that is no object": ('{"submission": "yes"}', "run.json, field 'submission'"),
}


@pytest.mark.parametrize(("text", "fragment"), RUN_RECORDS.values(), ids=RUN_RECORDS.keys())
def test_make_submit_on_a_damaged_run_record_is_one_line(tmp_path, capsys, text, fragment):
    paths = config.output_paths(tmp_path)
    make_submission(np.arange(28_000) % 10).to_csv(paths.submission_file, index=False)
    paths.models_dir.mkdir()
    paths.manifest_file.write_text(text)
    assert kaggle_main(["submit", "--output-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("error: ") and fragment in out and "(`make submission`) again" in out
    assert "Traceback" not in out and len(out.splitlines()) == 1


def test_make_kaggle_push_on_a_damaged_kernel_folder_names_the_file(tmp_path):
    (tmp_path / "kernel-metadata.json").write_text('{"title": "no id"}')
    with pytest.raises(RecordError, match=r"kernel-metadata\.json, field 'id': missing is not what the "
                                          r"project writes there: write the kernel folder again"):
        kernel.push_kernel(tmp_path, api=object())


# case: (what dataset.npz is made to hold)
DAMAGED_DATASETS = {"cut short": lambda b: b[: len(b) // 2], "empty": lambda b: b"",
                    "another array file": lambda b: _npz(other=np.zeros(3))}


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.mark.parametrize("damage", DAMAGED_DATASETS.values(), ids=DAMAGED_DATASETS.keys())
def test_a_damaged_prepared_data_set_names_itself_and_the_remedy(searched, tmp_path, damage):
    paths, _ = searched
    copy = tmp_path / "dataset.npz"
    copy.write_bytes(damage(paths.dataset_file.read_bytes()))
    with pytest.raises(ValueError, match=rf"^{copy}: damaged, not the data set notebook 02 writes .*run "
                                         r"notebook 02 again \(`make prepare`\)"):
        features.load_dataset(copy)


# --- 3. stale state --------------------------------------------------------------------------------


def test_a_search_made_on_other_data_or_with_another_seed_has_a_folder_of_its_own(searched):
    _, dataset = searched
    profile = Settings(profile="smoke").run_profile
    here = tuning.project_name(profile, dataset.source)
    assert here.startswith("smoke-random-")
    assert tuning.project_name(profile, dataset.source | {"seed": 8}) != here
    other_files = dataset.source | {"sha256": {"train.csv": "0" * 64}}
    assert tuning.project_name(profile, other_files) != here
    assert tuning.project_name(profile, dataset.source | {"prepared_at": "later"}) == here  # the same data


def test_notebooks_03_to_05_refuse_prepared_data_whose_files_changed_since(tmp_path, capsys):
    folder = tmp_path / "data"
    folder.mkdir()
    write_csv(folder / "train.csv", HEADER, train_rows(40))
    write_csv(folder / "test.csv", HEADER[1:], pixel_rows(3))
    context = runs.start(profile="smoke", seed=3, data_dir=str(folder), output_dir=str(tmp_path / "out"))
    raw = loading.load_data(folder)
    source = features.dataset_source(context.source, raw.files)
    features.save_dataset(features.prepare_dataset(raw, 0.25, 3, source=source), context.paths.dataset_file)
    assert len(context.load_dataset().x_test) == 3
    write_csv(folder / "test.csv", HEADER[1:], pixel_rows(4))  # a new test.csv
    with pytest.raises(ValueError, match=r"dataset\.npz was prepared with other parameters \(other data "
                                         r"files\): run notebook 02 again"):
        context.load_dataset()


# --- 4. user-facing commands: one line --------------------------------------------------------------


def test_an_output_folder_that_is_a_file_or_under_one_is_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    for output, fragment in ((tmp_path / "file", "is a file"), (tmp_path / "file" / "sub", "cannot be made")):
        assert runner.main(["--profile", "smoke", "--output-dir", str(output), "01"]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"error: output folder {output} {fragment}") and "Traceback" not in err
    assert (tmp_path / "file").read_text() == "x"


def test_a_tilde_in_an_output_folder_is_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config.output_paths("~/runs").root == tmp_path / "runs"


def killing_notebook(path: Path) -> Path:
    """A notebook whose cell dies as the out-of-memory killer would end its kernel."""
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import os, signal\n"
                                                                     "os.kill(os.getpid(), signal.SIGKILL)")])
    nbformat.write(book, path)
    return path


@pytest.mark.e2e
def test_a_kernel_killed_mid_run_is_one_line_saying_what_happened(tmp_path):
    notebook = killing_notebook(tmp_path / "04_train.ipynb")
    with pytest.raises(runner.RunStopped, match=r"04_train\.ipynb STOPPED: its kernel died, killed from "
                                                r"outside \(most often by the system running out of memory"):
        runner.run([notebook], {}, tmp_path / "reports")


def test_ctrl_c_is_one_line_and_exit_status_130(tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pm, "execute_notebook", interrupted)
    assert runner.main(["--profile", "smoke", "--output-dir", str(tmp_path), "01"]) == 130
    err = capsys.readouterr().err
    assert err.startswith("==> interrupted (Ctrl-C): what finished steps wrote is kept")
    assert "Traceback" not in err


def test_traceback_on_request(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(runner.RunStopped, match="is a file"):
        runner.main(["--profile", "smoke", "--output-dir", str(tmp_path / "file"), "--traceback", "01"])
