"""What goes wrong while importing, in words a credit analyst can act on.

Exceptions stop the whole import (a file we cannot read at all, a mapping
that does not make sense). Row errors and problems are plain data: the
import collects them, counts them and shows the first ones to the user.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


class IngestError(Exception):
    """A file, mapping or source that cannot be used; `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FileRefused(IngestError):
    """The file cannot be read as a table (wrong kind, empty, damaged)."""

    def __init__(
        self, message: str, *, line: int | None = None, column: str | None = None
    ) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


class MappingError(IngestError):
    """A stored mapping is malformed and cannot be loaded."""


class SourceError(IngestError):
    """A SQL source cannot be reached, read or queried safely."""


class ImportTimeout(IngestError):
    """Reading or checking the data took longer than allowed."""


@dataclass(frozen=True)
class RowError:
    """One bad value or row in the user's data.

    `line` is the line in the user's file (the header is line 1), the row in
    a spreadsheet or the row number in a Parquet file; None when the error
    is not about one row. SQL sources name the row by its key in `key`.
    """

    line: int | None
    column: str | None
    field: str
    value: str | None
    message: str
    key: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Problem:
    """Something wrong with a mapping before any data is read."""

    field: str | None
    column: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
