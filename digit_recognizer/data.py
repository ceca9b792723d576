"""Find, verify and load the Kaggle CSVs, rejecting bad input with errors that name file, line and column."""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .archives import MAX_MEMBER_BYTES
from .config import NUM_CLASSES, NUM_PIXELS, SAMPLE, SAMPLE_DATA_DIR, kaggle_root, on_kaggle, raw_data_dir
from .messages import quote, shorten

PIXEL_COLUMNS = [f"pixel{i}" for i in range(NUM_PIXELS)]
TRAIN_COLUMNS = ["label", *PIXEL_COLUMNS]
TEST_COLUMNS = PIXEL_COLUMNS
LABEL_COLUMNS = ["ImageId", "Label"]


class DataError(ValueError):
    """A data file is missing or malformed; the message names the file, line and column."""


def _fail(path, message: str, line: int | None = None, column: str | None = None):
    where = str(path)
    if line is not None:
        where += f", line {line}"
    if column is not None:
        where += f", column {quote(column)}"
    raise DataError(f"{where}: {message}")


# --- locating ------------------------------------------------------------------------------------

# What Kaggle's website and `kaggle competitions download` give: the whole competition or one file zipped.
COMPETITION_ZIP = "digit-recognizer.zip"
COMPETITION_FILES = ("train.csv", "train.csv.gz", "train.csv.zip", "test.csv", "test.csv.gz", "test.csv.zip",
                     "sample_submission.csv", "sample_submission.csv.zip", COMPETITION_ZIP)


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
            from .archives import extract_competition_zip  # only when there is a zip to unpack

            if unpacked := extract_competition_zip(archive, folder):
                print(f"unpacked {archive.name} in {folder}: {', '.join(p.name for p in unpacked)}")
            written += unpacked
    return written


def data_files(folder: str | Path, description: str = "") -> DataFiles:
    """The files of a Kaggle-layout folder, unpacking Kaggle's zips where the CSVs are missing."""
    folder = Path(folder)
    if not folder.is_dir():
        _fail(folder, "data folder not found")
    unpack_zips(folder)
    train, test = find_csv(folder, "train"), find_csv(folder, "test")
    for stem, found in (("train", train), ("test", test)):
        if found is None:
            _fail(folder, f"no {stem}.csv or {stem}.csv.gz in this folder (expected Kaggle's layout)")
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
    present = sorted(name for name in COMPETITION_FILES if (raw_dir / name).is_file())
    if not present:
        return None
    unpack_zips(raw_dir)
    missing = [stem + ".csv" for stem in ("train", "test") if not find_csv(raw_dir, stem)]
    if missing:
        _fail(raw_dir, f"holds {', '.join(present)} but no {' or '.join(missing)}: download the whole "
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
        _fail(kaggle_root() / "input", "no folder here holds train.csv and test.csv: add the competition's "
                                       f"data to the notebook, or set data_dir (\"{SAMPLE}\" for the sample)")
    else:
        print(f"no competition files in {raw_data_dir()} (`make data` downloads them)")
        files = sample_files()
    print(f"data: {files.description}")
    return files


# --- checksums -----------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_hashes(files: DataFiles) -> dict[str, str]:
    """SHA-256 of each data file, by name."""
    found = [files.train, files.test] + ([files.test_labels] if files.test_labels else [])
    return {path.name: sha256(path) for path in found}


def verify_checksums(folder: str | Path) -> list[str]:
    """Check every file listed in `folder/SHA256SUMS`; returns the names checked (none if no list)."""
    folder = Path(folder)
    sums = folder / "SHA256SUMS"
    if not sums.is_file():
        return []
    checked = []
    for number, row in enumerate(sums.read_text().splitlines(), start=1):
        if not row.strip():
            continue
        expected, _, name = row.partition(" ")
        name = name.removeprefix(" ").removeprefix("*")  # `sha256sum` text or binary mode: "  " or " *"
        if not name.strip() or Path(name.strip()).name != name.strip() or name.strip() in (".", ".."):
            _fail(sums, f"lists {quote(name.strip())}: expected '<SHA-256>  <file name>' for a file in "
                        f"this folder, as `sha256sum` writes it", line=number)
        path = folder / name.strip()
        if not path.is_file():
            _fail(sums, f"lists {quote(name.strip())}, which is missing", line=number)
        actual = sha256(path)
        if actual != expected.strip():
            _fail(path, f"SHA-256 is {actual}, but SHA256SUMS expects {shorten(expected.strip(), 80)}: "
                        "the file is corrupt or was changed")
        checked.append(name.strip())
    return checked


# --- parsing and validation ----------------------------------------------------------------------


def _read_text(path: Path) -> str:
    """The file as text: a UTF-8 byte-order mark (Excel's "CSV UTF-8") dropped, line ends made "\\n"."""
    too_large = (f"holds more than {MAX_MEMBER_BYTES:,} bytes, far more than any of Kaggle's files: not "
                 "the competition's data")
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                raw = f.read(MAX_MEMBER_BYTES + 1)  # bounded: a small .gz can unpack to gigabytes
        else:
            if path.stat().st_size > MAX_MEMBER_BYTES:
                _fail(path, too_large)
            raw = path.read_bytes()
    except FileNotFoundError:
        _fail(path, "file not found")
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        _fail(path, f"truncated or corrupt gzip file ({error})")
    except OSError as error:
        _fail(path, f"cannot be read ({error.strerror})")
    if len(raw) > MAX_MEMBER_BYTES:
        _fail(path, f"unpacked, {too_large}")
    if raw.startswith(b"PK\x03\x04"):
        _fail(path, f"a zip archive, not CSV text: rename it {path.name.removesuffix('.gz')}.zip (zips of "
                    "Kaggle's files are unpacked and checked) or unzip it")
    if raw.startswith(b"\x1f\x8b"):
        _fail(path, f"gzip-compressed, not CSV text: rename it {path.name}.gz")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        _fail(path, "UTF-16 text (a spreadsheet's \"Unicode text\"?); save it as CSV UTF-8", line=1)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        at = error.start + (3 if raw.startswith(codecs.BOM_UTF8) else 0)  # the codec counts after the mark
        field = raw.count(b",", raw.rfind(b"\n", 0, at) + 1, at) + 1
        _fail(path, f"byte 0x{raw[at]:02x} in field {field} is not UTF-8 text; save the file as CSV UTF-8",
              line=raw.count(b"\n", 0, at) + 1)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _fields(line: str) -> list[str]:
    """The fields of one CSV line, with quotes and surrounding spaces removed."""
    fields = next(csv.reader([line], skipinitialspace=True)) if '"' in line else line.split(",")
    return [field.strip() for field in fields]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _header_hint(expected: list[str]) -> str:
    return ",".join(expected) if len(expected) <= 3 else f"{expected[0]},{expected[1]},...,{expected[-1]}"


def _check_header(path: Path, header: list[str], expected: list[str], kind: str) -> None:
    if all(_is_number(name) for name in header):
        _fail(path, f"no header row: line 1 holds numbers; expected {_header_hint(expected)}")
    separator = next((s for s in (";", "\t", "|") if len(header) == 1 and s in header[0]), None)
    if separator and len(expected) > 1:
        _fail(path, f"fields are separated by {separator!r}, not commas (a spreadsheet's regional list "
                    f"separator?); expected {_header_hint(expected)}", line=1)
    if kind == "train" and header and header[0] != "label" and header == TEST_COLUMNS:
        _fail(path, "this is a test file (pixel columns only, no 'label'); expected a train file "
                    "with 'label' first", line=1)
    if kind == "test" and header and header[0] == "label":
        _fail(path, "this is a train file (it has a 'label' column); expected a test file with "
                    "pixel columns only", line=1)
    seen = set()
    for name in header:
        if name in seen:
            _fail(path, "duplicated column", line=1, column=name)
        seen.add(name)
    for position, name in enumerate(header):
        if position >= len(expected):
            _fail(path, f"unexpected extra column at position {position + 1}; expected "
                        f"{len(expected)} columns", line=1, column=name)
        if name != expected[position]:
            if expected[position] not in seen:
                problem = f"expected {expected[position]!r} at position {position + 1}"
                problem += " (misnamed?)" if name not in expected else " (missing)"
            else:
                problem = f"out of order: expected {expected[position]!r} at position {position + 1}"
            _fail(path, problem, line=1, column=name)
    if len(header) < len(expected):
        _fail(path, f"missing column {expected[len(header)]!r}; expected {len(expected)} columns "
                    f"{_header_hint(expected)}", line=1)


def _quoted_field_count(path: Path, line: str, number: int, columns: list[str]) -> int:
    """Fields in a line with double quotes; an unmatched quote is an error naming its column."""
    if line.count('"') % 2:
        inside, opened = False, 0
        for position, piece in enumerate(line.split(",")):
            if piece.count('"') % 2:
                inside = not inside
                opened = position if inside else opened
        _fail(path, "unmatched double quote", line=number,
              column=columns[opened] if opened < len(columns) else f"field {opened + 1}")
    return len(_fields(line))


def _check_field_counts(path: Path, lines: list[str], columns: list[str]) -> None:
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            _fail(path, "blank line inside the data (blank lines may only end the file)", line=number)
        count = line.count(",") + 1 if '"' not in line else _quoted_field_count(path, line, number, columns)
        if count != len(columns):
            _fail(path, f"{count} fields, expected {len(columns)}", line=number)


def _first(mask: np.ndarray) -> tuple[int, int] | None:
    hits = np.argwhere(mask)
    return (int(hits[0][0]), int(hits[0][1])) if len(hits) else None


def _is_text(dtype) -> bool:
    """A column pandas did not read as numbers (a column of True/False counts as text, not 0/1)."""
    return not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)


def _as_numbers(column: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(column.dtype):
        return pd.Series(np.nan, index=column.index)
    return pd.to_numeric(column, errors="coerce")


def _check_values(path: Path, frame: pd.DataFrame, ranges: dict[str, tuple[int, int]]) -> np.ndarray:
    """Integer matrix of `frame`, or a DataError for the first bad cell (line numbers count the header)."""
    columns = list(frame.columns)
    text_columns = any(_is_text(t) for t in frame.dtypes)
    raw = frame.to_numpy(dtype=object) if text_columns else None
    numeric = frame.apply(_as_numbers) if raw is not None else frame
    values = numeric.to_numpy(dtype=np.float64)
    missing = frame.isna().to_numpy()
    checks = [
        (~missing & np.isnan(values), "not a number: {value}"),
        (missing, "missing value (NaN or empty)"),
    ]
    with np.errstate(invalid="ignore"):
        checks.append((np.isfinite(values) & (values != np.round(values)), "not a whole number: {value}"))
    for message_mask, message in checks:
        hit = _first(message_mask)
        if hit:
            row, col = hit
            value = raw[row, col] if raw is not None else frame.iat[row, col]
            _fail(path, message.format(value=quote(value)), line=row + 2, column=columns[col])
    for col, name in enumerate(columns):
        low, high = ranges[name]
        outside = np.flatnonzero((values[:, col] < low) | (values[:, col] > high))
        if len(outside):
            row = int(outside[0])
            value = raw[row, col] if raw is not None else frame.iat[row, col]
            _fail(path, f"value {quote(value)} outside {low}-{high}", line=row + 2, column=name)
    return values.astype(np.int64)


def read_table(path: str | Path, columns: list[str], ranges: dict[str, tuple[int, int]],
               kind: str) -> np.ndarray:
    """Parse and validate one CSV; returns its values as an integer matrix in `columns` order.

    Accepted as unambiguous: a UTF-8 byte-order mark, CRLF line ends, quoted names and cells, spaces
    around fields and names, blank lines at the end. Anything else is a DataError naming file and line."""
    path = Path(path)
    text = _read_text(path).rstrip()  # blank lines (and spaces) at the end of the file
    if not text:
        _fail(path, f"empty file; expected a header row {_header_hint(columns)}")
    lines = text.split("\n")
    if not lines[0].strip():
        _fail(path, f"blank line; expected the header row {_header_hint(columns)}", line=1)
    _check_header(path, _fields(lines[0]), columns, kind)
    if len(lines) < 2:
        _fail(path, "header only, no data rows")
    _check_field_counts(path, lines, columns)
    try:
        frame = pd.read_csv(io.StringIO(text), header=None, skiprows=1, names=columns, index_col=False,
                            skipinitialspace=True)
    except (pd.errors.ParserError, ValueError) as error:  # not expected after the checks above
        _fail(path, f"cannot be parsed as CSV ({shorten(str(error))})")
    return _check_values(path, frame, ranges)


def load_train(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Kaggle's train.csv: (pixels uint8 (n, 784), labels uint8 (n,))."""
    ranges = {"label": (0, NUM_CLASSES - 1)} | {name: (0, 255) for name in PIXEL_COLUMNS}
    values = read_table(path, TRAIN_COLUMNS, ranges, kind="train").astype(np.uint8)
    return values[:, 1:], values[:, 0]


def load_test(path: str | Path) -> np.ndarray:
    """Kaggle's test.csv: pixels uint8 (n, 784)."""
    ranges = {name: (0, 255) for name in PIXEL_COLUMNS}
    return read_table(path, TEST_COLUMNS, ranges, kind="test").astype(np.uint8)


def load_test_labels(path: str | Path, expected_rows: int | None = None) -> np.ndarray:
    """`test_labels.csv` (ImageId,Label): the labels in ImageId order 1..n."""
    ranges = {"ImageId": (1, 2**31), "Label": (0, NUM_CLASSES - 1)}
    values = read_table(path, LABEL_COLUMNS, ranges, kind="labels")
    ids = values[:, 0]
    wrong = np.flatnonzero(ids != np.arange(1, len(ids) + 1))
    if len(wrong):
        _fail(path, f"ImageId {ids[wrong[0]]}, expected {wrong[0] + 1} (ids count 1..n in order)",
              line=int(wrong[0]) + 2, column="ImageId")
    if expected_rows is not None and len(ids) != expected_rows:
        _fail(path, f"{len(ids)} labels, but test.csv has {expected_rows} images")
    return values[:, 1].astype(np.uint8)


@dataclass
class RawData:
    files: DataFiles
    x_train: np.ndarray  # uint8 (n, 784)
    y_train: np.ndarray  # uint8 (n,)
    x_test: np.ndarray  # uint8 (m, 784)
    y_test: np.ndarray | None  # uint8 (m,), where test_labels.csv exists


def load_data(data_dir: str | Path | None = None) -> RawData:
    """Locate, verify (SHA256SUMS, where the folder has one) and load every file of a data folder."""
    files = locate_data(data_dir)
    verify_checksums(files.folder)
    x_train, y_train = load_train(files.train)
    x_test = load_test(files.test)
    y_test = load_test_labels(files.test_labels, len(x_test)) if files.test_labels else None
    return RawData(files, x_train, y_train, x_test, y_test)


def files_table(raw: RawData) -> pd.DataFrame:
    """Each file read and its number of images."""
    files = raw.files
    return pd.DataFrame({
        "file": [files.train.name, files.test.name, files.test_labels.name if files.test_labels else "-"],
        "images": [len(raw.x_train), len(raw.x_test), len(raw.y_test) if raw.y_test is not None else 0],
    }, index=["train", "test", "test labels"]).rename_axis(f"in {files.folder}")
