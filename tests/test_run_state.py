"""Killed training resumes from its backup, and state from another run is never reused: training backups,
the saved model, and the output folder itself while another run is writing to it."""

import dataclasses
import json
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from digit_recognizer import config, features, profiles, runner
from digit_recognizer.dataset import locate
from digit_recognizer.modeling import training
from digit_recognizer.modeling.model import build_model, hyperparameters_from
from digit_recognizer.modeling.training import ProvenanceError
from digit_recognizer.plumbing import runlock

KILLABLE_TRAINING = textwrap.dedent("""
    import dataclasses, os, sys
    import keras
    from digit_recognizer import features, profiles
    from digit_recognizer.dataset import loading
    from digit_recognizer.modeling import training
    backup, kill_after, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

    class Epochs(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            print("EPOCH", epoch + 1, flush=True)

        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 == kill_after:
                os.kill(os.getpid(), 9)  # as abrupt as a power cut

    profile = dataclasses.replace(profiles.get_profile("smoke"), train_epochs=4)
    dataset = features.prepare_dataset(loading.load_data(None), 0.1, 1, max_train_images=300,
                                       source={"sha256": {"train.csv": "ab" * 32}, "seed": 1})
    _, history, _ = training.train_model(None, dataset, profile, seed=seed, verbose=0, backup_dir=backup,
                                         extra_callbacks=[Epochs()])
    print("EPOCHS", list(history.index))
""")


@pytest.fixture
def train(tmp_path):
    """Runs KILLABLE_TRAINING in a process of its own, its backup in tmp_path/backup; kill_after 0: to the
    end."""
    script = tmp_path / "train.py"
    script.write_text(KILLABLE_TRAINING)

    def run(kill_after, seed=7):
        arguments = [str(tmp_path / "backup"), str(kill_after), str(seed)]
        return subprocess.run([sys.executable, str(script), *arguments], capture_output=True, text=True)

    return run


@pytest.mark.e2e
def test_killed_training_resumes_from_its_last_finished_epoch(train, tmp_path):
    backup = tmp_path / "backup"
    killed = train(kill_after=2)
    assert killed.returncode == -9 and "EPOCHS" not in killed.stdout
    assert any(backup.iterdir())
    resumed = train(kill_after=0)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "EPOCHS [3, 4]" in resumed.stdout  # epochs 1-2 were not run again
    assert f"resumed from the training backup in {backup} at epoch 3" in resumed.stdout  # and it says so
    assert not backup.exists()  # removed once training completed


@pytest.mark.e2e
def test_a_killed_runs_backup_resumes_only_the_same_training(train, tmp_path):
    backup = tmp_path / "backup"
    killed = train(kill_after=2, seed=7)
    assert killed.returncode == -9 and "EPOCH 2" in killed.stdout
    record = json.loads((backup / training.BACKUP_RECORD).read_text())
    assert record["seed"] == 7 and len(record["fingerprint"]) == 64

    same_seed = train(kill_after=3, seed=7)  # resumes at epoch 3, then is killed again
    assert same_seed.returncode == -9, same_seed.stderr[-2000:]
    assert "discarding" not in same_seed.stdout
    assert "EPOCH 3" in same_seed.stdout and "EPOCH 1\n" not in same_seed.stdout

    other_seed = train(kill_after=0, seed=8)
    assert other_seed.returncode == 0, other_seed.stderr[-2000:]
    assert f"discarding a training backup from another run (seed 7, now 8): {backup}" in other_seed.stdout
    assert "EPOCHS [1, 2, 3, 4]" in other_seed.stdout  # from scratch, not the other run's epoch 3
    assert not backup.exists()


def tiny_dataset(source):
    rng = np.random.default_rng(0)
    images, labels = rng.random((40, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 40)
    return features.Dataset(images[:30], labels[:30], images[30:], labels[30:], images[:5], None, source)


def test_a_backup_without_a_record_is_discarded_and_the_ensemble_backup_removed(tmp_path, capsys):
    backup = tmp_path / "training-backup"
    (backup / "member-1").mkdir(parents=True)
    (backup / "member-1" / "latest.weights.h5").write_bytes(b"weights of some earlier run")
    profile = dataclasses.replace(profiles.get_profile("smoke"), train_epochs=1, ensemble_size=1)
    training.train_ensemble(None, tiny_dataset({"seed": 1}), profile, seed=3, verbose=0, backup_dir=backup)
    out = capsys.readouterr().out
    assert (f"discarding a training backup from another run (it records no data or parameters): {backup}"
            in out)
    assert not backup.exists()  # training completed


@pytest.fixture
def trained_copy(smoke_run, tmp_path):
    """A copy of the smoke run's outputs (seed 7), to change without touching the shared one."""
    code, source = smoke_run
    assert code == 0
    out = tmp_path / "run"
    shutil.copytree(source, out)
    return out


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith(runlock.LOCK_NAME)}


@pytest.mark.e2e
def test_notebook_05_refuses_a_model_trained_on_other_prepared_data(trained_copy, capsys):
    out = trained_copy
    metrics = json.loads((out / "models" / "metrics.json").read_text())
    assert metrics["provenance"]["seed"] == 7 and metrics["provenance"]["data"]["seed"] == 7
    kept = ["submission.csv", "models/run.json", "models/test_score.json", "models/model.keras"]
    before = {name: (out / name).read_bytes() for name in kept}
    code = runner.main(["--profile", "smoke", "--seed", "8", "--output-dir", str(out), "01", "02", "05"])
    assert code == 1
    error = capsys.readouterr().err
    assert "ProvenanceError" in error and f"{out / 'models' / 'model.keras'} was trained on data " in error
    trained, prepared = error.split("; the prepared data and parameters are ")
    assert "(split with seed 7), seed 7, profile smoke" in trained
    assert ("(split with seed 8), seed 8, profile smoke: run notebook 04 (`make train`) again (differing: "
            "seed 7, now 8; ") in prepared
    assert {name: (out / name).read_bytes() for name in kept} == before


@pytest.mark.e2e
def test_a_model_that_is_not_the_one_its_metrics_describe_is_refused(trained_copy):
    paths = config.output_paths(trained_copy)
    profile = profiles.get_profile("smoke")
    dataset = features.load_dataset(paths.dataset_file)
    assert training.load_trained_model(paths, dataset, profile, 7).output_shape == (None, 10)
    best = json.loads(paths.best_hyperparameters_file.read_text())
    training.save_model(build_model(hyperparameters_from(best)), paths.model_file)  # untrained
    with pytest.raises(ProvenanceError, match=r"model\.keras is not the model .*metrics\.json describes"):
        training.load_trained_model(paths, dataset, profile, 7)
    metrics = json.loads(paths.metrics_file.read_text())
    del metrics["provenance"]
    paths.metrics_file.write_text(json.dumps(metrics))
    with pytest.raises(ProvenanceError, match=r"model\.keras has no record of the data and parameters"):
        training.load_trained_model(paths, dataset, profile, 7)


HOLD_THE_LOCK = textwrap.dedent("""
    import sys, time
    from digit_recognizer.plumbing.runlock import output_folder_lock
    with output_folder_lock(sys.argv[1], "make run (the first run)"):
        print("HOLDING", flush=True)
        time.sleep(300)
""")


@pytest.mark.e2e
def test_a_second_run_on_the_same_output_folder_is_refused(trained_copy, tmp_path, capsys):
    out = trained_copy
    before = snapshot(out)
    script = tmp_path / "hold.py"
    script.write_text(HOLD_THE_LOCK)
    first = subprocess.Popen([sys.executable, str(script), str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline().strip() == "HOLDING"
        code = runner.main(["--profile", "smoke", "--seed", "7", "--output-dir", str(out)])
        assert code == 1
        error = capsys.readouterr().err
        assert error.startswith(f"error: {out} is in use by another run (pid {first.pid}, started 20")
        assert "command: make run (the first run)): wait for it to end" in error
        assert snapshot(out) == before  # nothing written, not even reports/
        with pytest.raises(runlock.OutputFolderBusy, match="pid .*command: make run"):
            runlock.refuse_if_busy(out)  # notebook 04 or 05 run by hand
    finally:
        first.kill()  # SIGKILL: no chance to release the lock itself
        first.wait()
    runlock.refuse_if_busy(out)  # a killed holder leaves no stale lock
    with runlock.output_folder_lock(out, "the next run"):
        assert json.loads((out / runlock.HOLDER_NAME).read_text())["command"] == "the next run"
    assert not (out / runlock.HOLDER_NAME).exists()


def test_a_file_system_without_locks_gets_a_warning_not_a_failure(tmp_path, monkeypatch, capsys):
    def unsupported(self, *args, **kwargs):
        raise NotImplementedError("FileSystem does not appear to support flock")

    monkeypatch.setattr(runlock.FileLock, "acquire", unsupported)
    with runlock.output_folder_lock(tmp_path, "python -m digit_recognizer.runner"):
        assert (tmp_path / runlock.HOLDER_NAME).is_file()
    assert f"warning: {tmp_path} cannot be locked on this file system" in capsys.readouterr().out
    assert not (tmp_path / runlock.HOLDER_NAME).exists()


@pytest.mark.e2e
def test_a_later_notebook_reuses_a_current_dataset_and_reprepares_a_stale_one(trained_copy, capsys):
    out = trained_copy
    dataset_file = config.output_paths(out).dataset_file
    before, mtime = dataset_file.read_bytes(), dataset_file.stat().st_mtime_ns
    assert runner.main(["--profile", "smoke", "--seed", "7", "--output-dir", str(out), "05"]) == 0
    printed = capsys.readouterr().out
    assert f"==> {dataset_file} is up to date (profile smoke, seed 7, the same data files)" in printed
    assert "==> [1/1] 05_submit.ipynb" in printed and "01_load_data.ipynb {" not in printed
    assert dataset_file.read_bytes() == before and dataset_file.stat().st_mtime_ns == mtime

    code = runner.main(["--profile", "smoke", "--seed", "8", "--output-dir", str(out), "05"])
    assert code == 1  # the model was trained with seed 7: notebook 05 refuses it
    printed = capsys.readouterr().out
    assert (f"==> {dataset_file} was prepared from other inputs (seed 7, now 8): running 01_load_data.ipynb "
            "and 02_prepare_features.ipynb first") in printed
    assert "==> [1/3] 01_load_data.ipynb" in printed
    assert features.recorded_source(dataset_file)["seed"] == 8


def test_changed_data_files_make_the_dataset_stale(tmp_path, capsys):
    folder, paths = tmp_path / "data", config.output_paths(tmp_path / "out")
    folder.mkdir()
    for name in ("train.csv", "test.csv"):
        (folder / name).write_text(f"{name} as it was\n")
    parameters = {"profile": "smoke", "seed": 3, "data_dir": str(folder)}
    assert runner.stale_dataset(paths, parameters) == f"{paths.dataset_file} is missing or unreadable"
    source = features.dataset_source(parameters, locate.locate_data(folder))
    features.save_dataset(tiny_dataset(source), paths.dataset_file)
    assert runner.stale_dataset(paths, parameters) == ""
    (folder / "test.csv").write_text("test.csv, changed\n")
    assert runner.stale_dataset(paths, parameters) == (f"{paths.dataset_file} was prepared from other inputs "
                                                       "(other data files)")
    assert runner.stale_dataset(paths, parameters | {"profile": "fast"}).endswith(
        "(profile 'smoke', now 'fast'; other data files)")
