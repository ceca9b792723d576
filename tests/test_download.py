"""`make data` paths, offline: the Kaggle download and the MNIST download are faked."""

import inspect
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from digit_recognizer import download
from digit_recognizer.dataset.archives import ZIP_MEMBERS
from digit_recognizer.dataset.loading import load_data
from digit_recognizer.kaggle_api.credentials import KaggleError, NoCredentials
from digit_recognizer.plumbing.messages import DataError
from tests.helpers import pixel_rows, train_rows, write_csv
from tests.kaggle_fakes import FakeKaggle, http_error


def no_credentials(action):
    raise NoCredentials(f"no Kaggle credentials found, so nothing was {action}")


def test_without_credentials_says_how_and_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(download, "sign_in", no_credentials)
    assert download.download_kaggle(tmp_path / "raw") is False
    out = capsys.readouterr().out
    assert "accept its rules" in out and "kaggle auth login" in out and "kaggle.json" in out
    assert "sample" in out
    assert not (tmp_path / "raw").exists()


def FakeKaggleApi(download):
    """Kaggle's API as `make data` calls it: `download(zip_path)` leaves what the download would."""
    return FakeKaggle(competition_download_files=lambda competition, path, quiet: download(
        f"{path}/{competition}.zip"))


def competition_zip(source):
    """The zip Kaggle sends, built from the small valid CSVs in `source`."""
    def download(zip_path):
        with zipfile.ZipFile(zip_path, "w") as z:
            for name in ZIP_MEMBERS:
                z.write(source / name, name)
    return download


def test_download_with_credentials_unzips_into_raw(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    header = [f"pixel{i}" for i in range(784)]
    write_csv(source / "train.csv", ["label", *header], train_rows(4))
    write_csv(source / "test.csv", header, pixel_rows(2))
    write_csv(source / "sample_submission.csv", ["ImageId", "Label"], [[1, 0], [2, 0]])
    api = FakeKaggleApi(competition_zip(source))
    raw = tmp_path / "raw"
    assert download.download_kaggle(raw, api=api) is True
    assert [call["competition"] for call in api.called("competition_download_files")] == ["digit-recognizer"]
    assert sorted(p.name for p in raw.iterdir()) == sorted(ZIP_MEMBERS)
    loaded = load_data(raw)
    assert loaded.x_train.shape == (4, 784) and loaded.y_test is None


def fake_mnist():
    rng = np.random.default_rng(0)
    def part(n):
        return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)
    return part(60), part(40)


def test_mnist_source_builds_kaggle_layout_with_test_labels(tmp_path):
    out = download.build_from_mnist(tmp_path / "mnist", seed=5, load=fake_mnist, train_rows=70)
    data = load_data(out)  # also verifies the SHA256SUMS it wrote
    assert data.x_train.shape == (70, 784) and data.x_test.shape == (30, 784)
    (x_a, y_a), (x_b, y_b) = fake_mnist()
    images = np.concatenate([x_a, x_b]).reshape(100, 784)
    labels = np.concatenate([y_a, y_b])
    order = np.random.default_rng(5).permutation(100)
    assert np.array_equal(data.x_test, images[order[70:]])
    assert np.array_equal(data.y_test, labels[order[70:]])
    assert np.array_equal(data.y_train, labels[order[:70]])
    again = download.build_from_mnist(tmp_path / "again", seed=5, load=fake_mnist, train_rows=70)
    assert (again / "SHA256SUMS").read_text() == (out / "SHA256SUMS").read_text()


def refused(zip_path):
    raise http_error(403)


def test_refused_download_points_at_the_rules(tmp_path):
    with pytest.raises(KaggleError, match="403 Forbidden.*accept the competition's rules at .*/rules"):
        download.download_kaggle(tmp_path / "raw", api=FakeKaggleApi(refused))


def test_mnist_without_network_is_one_clear_error(monkeypatch, capsys):
    def offline():
        raise OSError("could not download MNIST with keras.datasets.mnist (needs internet): no route")
    monkeypatch.setattr(download, "_load_keras_mnist", offline)
    assert download.main(["--source", "mnist"]) == 1
    assert capsys.readouterr().out.startswith("error: could not download MNIST")


def zip_without_test_csv(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("train.csv", "label\n1\n")


@pytest.mark.parametrize("payload, message", [
    (lambda p: Path(p).write_bytes(b"\x00\x01 damaged bytes"), r"not a zip archive \(damaged or incomplete"),
    (lambda p: Path(p).write_text("<html><head><title>Error 503</title></head></html>"), "an HTML page"),
    (zip_without_test_csv, r"holds no test.csv \(it holds: train.csv\)"),
])
@pytest.mark.parametrize("earlier", [{}, {"train.csv": "earlier train\n", "test.csv": "earlier test\n"}])
def test_failed_download_is_one_line_and_leaves_raw_as_it_was(tmp_path, monkeypatch, capsys, payload, message,
                                                              earlier):
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    for name, text in earlier.items():
        (raw / name).write_text(text)
    monkeypatch.setattr(download, "raw_data_dir", lambda: raw)
    monkeypatch.setattr(download, "sign_in", lambda action: FakeKaggleApi(payload))
    assert download.main([]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith("error: digit-recognizer.zip (downloaded from Kaggle): ")
    assert re.search(message, lines[-1]) and "Traceback" not in "\n".join(lines)
    assert {p.name: p.read_text() for p in raw.iterdir()} == earlier
    assert sorted(p.name for p in raw.parent.iterdir()) == ["raw"]  # the temp download is gone


def test_make_data_without_credentials_fails_and_says_how(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(download, "raw_data_dir", lambda: tmp_path / "raw")
    monkeypatch.setattr(download, "sign_in", no_credentials)
    assert download.main([]) == 1
    assert "No Kaggle credentials found" in capsys.readouterr().out
    assert not (tmp_path / "raw").exists()


def kaggle_folder(tmp_path, **texts):
    """What kagglehub.competition_download returns: the folder its cache unpacked the competition into."""
    folder = tmp_path / "kagglehub" / "competitions" / "digit-recognizer"
    folder.mkdir(parents=True)
    for name, text in texts.items():
        (folder / f"{name}.csv").write_text(text)
    return folder


def test_colab_download_takes_kagglehubs_files_into_raw(tmp_path):
    folder = kaggle_folder(tmp_path, train="train\n", test="test\n", sample_submission="ImageId,Label\n")
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "train.csv").write_text("train\n")  # the same file: kept
    asked = []
    written = download.kaggle_files(raw, fetch=lambda handle: asked.append(handle) or str(folder))
    assert asked == ["digit-recognizer"]
    assert [p.name for p in written] == ["test.csv", "sample_submission.csv"]
    assert {p.name: p.read_text() for p in raw.iterdir()} == {
        "train.csv": "train\n", "test.csv": "test\n", "sample_submission.csv": "ImageId,Label\n"}


def test_colab_download_refuses_to_overwrite_a_different_file(tmp_path):
    folder = kaggle_folder(tmp_path, train="train\n", test="test\n")
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "test.csv").write_text("my own test\n")
    with pytest.raises(DataError, match=r"raw/test\.csv: differs from Kaggle's test\.csv; move it away"):
        download.kaggle_files(raw, fetch=lambda handle: str(folder))
    assert sorted(p.name for p in raw.iterdir()) == ["test.csv"]


def test_colab_download_failures_are_one_line(tmp_path):
    from kagglehub.exceptions import KaggleApiHTTPError, UnauthenticatedError

    def unauthenticated(handle):
        raise UnauthenticatedError()

    def forbidden(handle):
        raise KaggleApiHTTPError("403 Client Error.", response=http_error(403).response)

    with pytest.raises(KaggleError, match="no Kaggle credentials found, so nothing was downloaded"):
        download.kaggle_files(tmp_path / "raw", fetch=unauthenticated)
    with pytest.raises(KaggleError, match="403 Forbidden.*digit-recognizer/rules"):
        download.kaggle_files(tmp_path / "raw", fetch=forbidden)
    assert not (tmp_path / "raw").exists()


def test_the_colab_download_calls_kagglehub_as_it_is_defined(monkeypatch, tmp_path):
    import kagglehub

    folder = kaggle_folder(tmp_path, train="t\n", test="t\n")
    real = inspect.signature(kagglehub.competition_download)
    monkeypatch.setattr(kagglehub, "competition_download", lambda *a, **k: real.bind(*a, **k) and str(folder))
    download.kaggle_files(tmp_path / "raw")
    assert (tmp_path / "raw" / "train.csv").is_file()
