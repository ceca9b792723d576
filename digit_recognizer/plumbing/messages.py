"""Errors in run settings and data files, and bounded quotes of user input in error messages: a 20 MB
cell gives a short message, not a 20 MB one."""

from __future__ import annotations

QUOTE_LIMIT = 60  # characters of a value or name an error message echoes
SHORTEN_LIMIT = 500  # characters of a whole message relayed from elsewhere (a failed notebook's error)


def quote(value, limit: int = QUOTE_LIMIT) -> str:
    """`repr` of a string, `str` of anything else, cut to `limit` characters with the original length."""
    value = value.item() if hasattr(value, "item") else value  # NumPy scalar to plain Python
    if isinstance(value, str):
        return repr(value) if len(value) <= limit else f"{value[:limit]!r}... ({len(value):,} characters)"
    return shorten(str(value), limit)


def shorten(text: str, limit: int = SHORTEN_LIMIT) -> str:
    """`text`, or its first `limit` characters and how long it was."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


class SettingError(ValueError):
    """A run setting (notebook parameter, runner option) is invalid; `setting` names it."""

    def __init__(self, setting: str, problem: str):
        super().__init__(f"{setting}: {problem}")
        self.setting, self.problem = setting, problem


class DataError(ValueError):
    """A data file is missing or malformed; the message names the file, line and column."""


def fail(path, message: str, line: int | None = None, column: str | None = None):
    """Raise a DataError: `<path>, line <line>, column '<column>': <message>`."""
    where = str(path)
    if line is not None:
        where += f", line {line}"
    if column is not None:
        where += f", column {quote(column)}"
    raise DataError(f"{where}: {message}")
