"""Failures leave earlier outputs intact; killed training resumes; bad files get clear errors."""

import shutil
import subprocess
import sys
import textwrap

import keras
import pytest

from digit_recognizer import runner
from digit_recognizer.submission import main as check_submission
from digit_recognizer.training import ModelFileError, load_model
from tests.helpers import FAKE_KAGGLE

OUTPUTS = ["submission.csv", "models/model.keras", "models/metrics.json", "models/history.csv",
           "models/run.json"]


def test_failure_in_training_leaves_every_earlier_output(smoke_run, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(smoke_run[1], out)
    before = {name: (out / name).read_bytes() for name in OUTPUTS}
    (out / "models" / "tuning" / "best_hyperparameters.json").write_text('{"no_such_knob": 1}')
    code = runner.main(["--profile", "smoke", "--seed", "7", "--output-dir", str(out),
                        "01", "02", "04", "05"])
    assert code == 1
    assert {name: (out / name).read_bytes() for name in OUTPUTS} == before


RESUMABLE_TRAINING = textwrap.dedent("""
    import dataclasses, os, sys
    import keras
    from digit_recognizer import config, data, features, training
    backup, kill_after = sys.argv[1], int(sys.argv[2])

    class KillAfter(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 == kill_after:
                os.kill(os.getpid(), 9)  # as abrupt as a power cut

    profile = dataclasses.replace(config.get_profile("smoke"), train_epochs=4)
    dataset = features.prepare_dataset(data.load_data(None), 0.1, 1, max_train_images=300)
    _, history, _ = training.train_model(None, dataset, profile, seed=1, verbose=0, backup_dir=backup,
                                         extra_callbacks=[KillAfter()] if kill_after else [])
    print("EPOCHS", list(history.index))
""")


def test_killed_training_resumes_from_its_last_finished_epoch(tmp_path):
    script, backup = tmp_path / "train.py", tmp_path / "backup"
    script.write_text(RESUMABLE_TRAINING)
    killed = subprocess.run([sys.executable, str(script), str(backup), "2"], capture_output=True, text=True)
    assert killed.returncode == -9 and "EPOCHS" not in killed.stdout
    assert any(backup.iterdir())
    resumed = subprocess.run([sys.executable, str(script), str(backup), "0"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "EPOCHS [3, 4]" in resumed.stdout  # epochs 1-2 were not run again
    assert not backup.exists()  # removed once training completed


def test_corrupt_model_file_gets_a_clear_error(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"not a zip archive at all")
    with pytest.raises(ModelFileError, match=r"model\.keras: not a Keras model file that loads safely"):
        load_model(path)


def test_foreign_model_file_gets_a_clear_error(tmp_path):
    path = tmp_path / "model.keras"
    keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)]).save(path)
    with pytest.raises(ModelFileError, match=r"inputs \(None, 5\).*expected \(None, 28, 28, 1\)"):
        load_model(path)


def test_unsafe_lambda_model_is_refused(tmp_path):
    path = tmp_path / "model.keras"
    inputs = keras.Input((28, 28, 1))
    flat = keras.layers.Flatten()(keras.layers.Lambda(lambda x: x * 2)(inputs))
    keras.Model(inputs, keras.layers.Dense(10)(flat)).save(path)
    with pytest.raises(ModelFileError, match="loads safely"):
        load_model(path)


def test_wrong_shape_submission_gets_a_message_not_a_traceback(tmp_path, capsys):
    path = tmp_path / "submission.csv"
    path.write_text("ImageId,Label,Extra\n1,2,3\n")
    assert check_submission([str(path), "--rows", "1"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("error: ") and "expected exactly ['ImageId', 'Label']" in out
    assert "Traceback" not in out


def test_kaggle_credentials_never_reach_outputs(smoke_run):
    _, out = smoke_run
    written = [p for p in out.rglob("*") if p.is_file()]
    names = {p.name for p in written}
    assert {"run.log", "run.json", "01_load_data.ipynb", "05_submit.ipynb"} <= names
    for path in written:
        content = path.read_bytes()
        for secret in FAKE_KAGGLE.values():
            assert secret.encode() not in content, f"{secret} leaked into {path}"
