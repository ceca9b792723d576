"""Where the data is: the folder given, Kaggle's input, data/raw/ or the embedded sample; Kaggle's zips
unpacked where the CSVs are missing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import SAMPLE, SAMPLE_DATA_DIR, kaggle_root, on_kaggle, raw_data_dir
from ..plumbing.messages import fail
from .archives import COMPETITION_ZIP, ZIP_MEMBERS, extract_competition_zip

# The competition's files as a download may leave them in data/raw/: each CSV plain, gzipped or zipped alone,
# or all in the competition's zip.
KAGGLE_DOWNLOADS = (*(f"{name}{ending}" for name in ZIP_MEMBERS for ending in ("", ".gz", ".zip")
                      if (name, ending) != ("sample_submission.csv", ".gz")), COMPETITION_ZIP)


@dataclass(frozen=True)
class DataFiles:
    train: Path
    test: Path
    test_labels: Path | None  # true labels of test.csv, where known (local scoring)
    description: str = ""  # which data set, in words, for the notebooks and the run manifest

    @property
    def folder(self) -> Path:
        return self.train.parent

    @property
    def is_sample(self) -> bool:
        return self.folder.resolve() == SAMPLE_DATA_DIR.resolve()


def find_csv(folder: Path, stem: str) -> Path | None:
    """`stem.csv` or `stem.csv.gz` in `folder`, whichever exists (plain CSV first)."""
    for name in (f"{stem}.csv", f"{stem}.csv.gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def has_train_and_test(folder: Path) -> bool:
    return bool(find_csv(folder, "train") and find_csv(folder, "test"))


def unpack_zips(folder: Path) -> list[Path]:
    """Kaggle's zips in `folder` unpacked beside them, checked, for the CSVs the folder lacks; a zip whose
    files differ from the CSVs beside it (replaced after an earlier unpack) stops the run, naming both."""
    written = []
    for name in (COMPETITION_ZIP, "train.csv.zip", "test.csv.zip"):
        archive = folder / name
        if archive.is_file():

            if unpacked := extract_competition_zip(archive, folder):
                print(f"unpacked {archive.name} in {folder}: {', '.join(p.name for p in unpacked)}")
            written += unpacked
    return written


def data_files(folder: str | Path, description: str = "") -> DataFiles:
    """The files of a Kaggle-layout folder, unpacking Kaggle's zips where the CSVs are missing."""
    folder = Path(folder)
    if not folder.is_dir():
        fail(folder, "data folder not found")
    unpack_zips(folder)
    train, test = find_csv(folder, "train"), find_csv(folder, "test")
    for stem, found in (("train", train), ("test", test)):
        if found is None:
            fail(folder, f"no {stem}.csv or {stem}.csv.gz in this folder (expected Kaggle's layout)")
    return DataFiles(train, test, find_csv(folder, "test_labels"), description or f"the files in {folder}")


def sample_files() -> DataFiles:
    return data_files(SAMPLE_DATA_DIR, "the embedded sample (10,000 MNIST digits in data/sample), not "
                                       "Kaggle's data: its submission is no Kaggle submission")


def kaggle_input_folder() -> Path | None:
    """In a Kaggle notebook: the competition's folder (`input/<slug>/`, or `input/competitions/<slug>/` as
    newer notebooks mount it), else any added data set with train and test CSVs."""
    inputs = kaggle_root() / "input"
    candidates = [inputs / "digit-recognizer", inputs / "competitions" / "digit-recognizer",
                  *sorted(inputs.glob("*")), *sorted(inputs.glob("*/*"))]
    return next((c for c in candidates if c.is_dir() and has_train_and_test(c)), None)


def _raw_data(raw_dir: Path) -> DataFiles | None:
    """Kaggle's files in `raw_dir`; None if it holds none at all; an error if it holds only some."""
    present = sorted(name for name in KAGGLE_DOWNLOADS if (raw_dir / name).is_file())
    if not present:
        return None
    unpack_zips(raw_dir)
    missing = [stem + ".csv" for stem in ("train", "test") if not find_csv(raw_dir, stem)]
    if missing:
        fail(raw_dir, f"holds {', '.join(present)} but no {' or '.join(missing)}: download the whole "
                       "competition (`make data`) or give another data folder; the sample is used only "
                       "when this folder holds no competition file at all")
    return data_files(raw_dir, f"Kaggle's competition files in {raw_dir}")


def locate_data(data_dir: str | Path | None = None) -> DataFiles:
    """The data set to use, said in one printed line.

    `data_dir` if given ("sample": the embedded sample); else, in a Kaggle notebook, the competition's
    input folder; else Kaggle's files in data/raw/; else, only when data/raw/ holds no competition file
    at all, the embedded sample.
    """
    if str(data_dir or "") == SAMPLE:
        files = sample_files()
    elif data_dir:
        files = data_files(data_dir, f"the data folder given, {Path(data_dir).resolve()}")
    elif on_kaggle() and (found := kaggle_input_folder()):
        files = data_files(found, f"Kaggle's competition files in {found}")
    elif found := _raw_data(raw_data_dir()):
        files = found
    elif on_kaggle():
        fail(kaggle_root() / "input", "no folder here holds train.csv and test.csv: add the competition's "
                                       f"data to the notebook, or set data_dir (\"{SAMPLE}\" for the sample)")
    else:
        print(f"no competition files in {raw_data_dir()} (`make data` downloads them)")
        files = sample_files()
    print(f"data: {files.description}")
    return files

