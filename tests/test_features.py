import numpy as np
import pytest

from digit_recognizer.dataset.loading import load_data
from digit_recognizer.features import load_dataset, prepare_dataset, save_dataset, to_images


def test_to_images_scales_to_unit_float32_and_reshapes():
    pixels = np.array([[0] * 783 + [255], [128] * 784], dtype=np.uint8)
    images = to_images(pixels)
    assert images.shape == (2, 28, 28, 1) and images.dtype == np.float32
    assert images[0, 27, 27, 0] == 1.0 and images[0, 0, 0, 0] == 0.0
    assert images[1].max() == pytest.approx(128 / 255)


@pytest.fixture(scope="module")
def sample():
    return load_data(None)  # no Kaggle files in data/raw during tests: the shipped sample


def test_sample_is_the_documented_one(sample):
    assert sample.files.folder.name == "sample"
    assert sample.x_train.shape == (8000, 784) and sample.x_test.shape == (2000, 784)
    assert sample.y_test is not None and len(sample.y_test) == 2000


def test_split_is_seeded_and_stratified(sample):
    first = prepare_dataset(sample, 0.1, seed=1)
    again = prepare_dataset(sample, 0.1, seed=1)
    other = prepare_dataset(sample, 0.1, seed=2)
    assert first.summary() == {"train": 7200, "validation": 800, "test": 2000}
    assert np.array_equal(first.y_valid, again.y_valid) and np.array_equal(first.x_valid, again.x_valid)
    assert not np.array_equal(first.y_valid, other.y_valid)
    shares = np.bincount(sample.y_train) / len(sample.y_train)
    assert np.abs(np.bincount(first.y_valid) / 800 - shares).max() < 0.01


def test_a_data_set_names_its_data_files_and_seed_so_a_search_on_other_data_is_not_resumed(sample):
    from digit_recognizer.dataset.checksums import file_hashes
    from digit_recognizer.features import dataset_identity
    from digit_recognizer.modeling.tuning import project_name
    from digit_recognizer.profiles import get_profile

    first, other = prepare_dataset(sample, 0.1, seed=1), prepare_dataset(sample, 0.1, seed=2)
    assert dataset_identity(first.source) == {"sha256": file_hashes(sample.files), "seed": 1, "profile": None}
    full = get_profile("full")
    assert project_name(full, first.source) != project_name(full, other.source)
    edited = {**first.source, "sha256": {**first.source["sha256"], "train.csv.gz": "0" * 64}}  # another train
    assert project_name(full, first.source) != project_name(full, edited)


def test_training_cap_keeps_every_class(sample):
    capped = prepare_dataset(sample, 0.1, seed=1, max_train_images=500)
    assert len(capped.x_train) == 500 and set(capped.y_train) == set(range(10))


def test_dataset_round_trips_through_disk(sample, tmp_path):
    dataset = prepare_dataset(sample, 0.1, seed=3, max_train_images=100)
    save_dataset(dataset, tmp_path / "d.npz")
    loaded = load_dataset(tmp_path / "d.npz")
    for name, value in vars(dataset).items():
        assert np.array_equal(value, getattr(loaded, name)), name
    assert [p.name for p in tmp_path.iterdir()] == ["d.npz"]  # no temp file left


def test_dataset_prepared_with_other_parameters_is_refused(sample, tmp_path):
    source = {"profile": "smoke", "seed": 3, "data_dir": ""}
    dataset = prepare_dataset(sample, 0.1, seed=3, max_train_images=100, source=source)
    save_dataset(dataset, tmp_path / "d.npz")
    assert load_dataset(tmp_path / "d.npz", source).source == source
    with pytest.raises(ValueError, match="seed 3, now 4"):
        load_dataset(tmp_path / "d.npz", source | {"seed": 4})


def test_missing_dataset_says_what_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="notebook 02"):
        load_dataset(tmp_path / "none.npz")
