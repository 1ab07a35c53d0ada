"""Recognise an uploaded file and turn it into a table DuckDB can read.

CSV and spreadsheets are first rewritten, streaming, into a plain UTF-8
CSV with one extra column, `__line`: the line of the user's file where
each record starts (the header is line 1), or the spreadsheet row. That
keeps error messages exact even when a quoted value spans several lines
or the file has blank lines, and it is where a file in another encoding
is transcoded. DuckDB then reads the rewritten file with a fixed dialect;
no Python list of rows is ever built. Parquet files are read directly.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import charset_normalizer
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from python_calamine import CalamineWorkbook

from creditokr.creditdata.ingest.duck import (
    DEFAULT_TIMEOUT,
    restricted_connection,
    time_limit,
)
from creditokr.creditdata.ingest.errors import FileRefused, RowError

LINE = "__line"
SAMPLE_BYTES = 256 * 1024
PREVIEW_ROWS = 20
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# Below this detection confidence the user has to choose the encoding.
LOW_CONFIDENCE = 0.6
CERTAIN_ENCODINGS = ("utf-8", "utf-8-sig", "utf-16")
CHOOSE_ENCODING = (
    "Choose the encoding the file was saved in; nothing is imported until you do."
)

DATE_FORMATS = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%d-%m-%Y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%Y%m%d",
    "%d/%m/%y",
    "%m/%d/%y",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
)

# Digits and month names separated by -, /, . or a space, with an optional
# time; or eight digits in a row.
_DATE_SHAPE = (
    r"([0-9]{1,4}[-/. ][0-9A-Za-z]{1,9}[-/. ][0-9]{2,4}([T ][0-9:.]+Z?)?)"
    r"|[0-9]{8}"
)

_MAGIC = (
    (b"PK\x03\x04", "zip", "a zip archive (an Excel workbook is one)"),
    (b"PAR1", "parquet", "a Parquet file"),
    (b"\xd0\xcf\x11\xe0", "ole", "an old-style Excel (.xls) or Office file"),
    (b"%PDF", "pdf", "a PDF document"),
    (b"\x89PNG", "png", "a PNG image"),
    (b"\xff\xd8\xff", "jpeg", "a JPEG image"),
    (b"\x1f\x8b", "gzip", "a gzip-compressed file"),
)

_EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
}


class FileKind(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    PARQUET = "parquet"


@dataclass(frozen=True)
class FileFormat:
    """How to read a file. Unset parts are detected by `sniff`."""

    kind: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    quote: str = '"'
    sheet: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileFormat:
        allowed = {"kind", "encoding", "delimiter", "quote", "sheet"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"Unknown file format settings: {sorted(unknown)}")
        return cls(**data)


@dataclass(frozen=True)
class Sniffed:
    """What `sniff` found out about a file, for the mapping screen."""

    format: FileFormat
    columns: tuple[str, ...]
    rows: int
    preview: tuple[tuple[str, ...], ...]
    preview_lines: tuple[int, ...]
    # Formats that parse every non-empty value of a column. One format is
    # a confident guess; several mean the user has to choose.
    date_formats: dict[str, tuple[str, ...]]
    encoding_confidence: float | None = None
    delimiters: tuple[str, ...] = ()
    sheets: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # The encoding was only guessed (it is in the notes, and
    # `format.encoding` stays unset): the user has to choose it.
    encoding_uncertain: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["format"] = self.format.to_dict()
        return data

    def ambiguous_dates(self) -> dict[str, tuple[str, ...]]:
        return {c: f for c, f in self.date_formats.items() if len(f) > 1}


@dataclass
class Staged:
    """A file made ready for DuckDB, with the rows that could not be."""

    path: Path
    kind: str
    columns: tuple[str, ...]
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    # Columns that hold real dates ("date") or dates with times
    # ("timestamp"): Parquet date columns, spreadsheet columns of date
    # cells. They are staged as ISO text and need no date format.
    typed_columns: dict[str, str] = field(default_factory=dict)

    @property
    def line_word(self) -> str:
        return "line" if self.kind == FileKind.CSV else "row"


# Detection -----------------------------------------------------------------


def _read_head(path: Path, size: int = SAMPLE_BYTES) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def _magic(head: bytes) -> tuple[str, str] | None:
    for prefix, name, description in _MAGIC:
        if head.startswith(prefix):
            return name, description
    return None


def detect_kind(path: Path, filename: str) -> str:
    """The file kind from its name, checked against its first bytes."""
    head = _read_head(path, 8)
    if not head:
        raise FileRefused(f"{filename} is empty.")

    extension = Path(filename).suffix.lower()
    expected = _EXTENSIONS.get(extension)
    magic = _magic(head)
    if magic is None:
        if expected in (None, FileKind.CSV):
            return FileKind.CSV
        raise FileRefused(
            f"{filename} is named {extension} but its content is not "
            f"{'an Excel workbook' if expected == 'xlsx' else 'a Parquet file'}."
        )

    name, description = magic
    actual = {"zip": FileKind.XLSX, "parquet": FileKind.PARQUET}.get(name)
    if actual is not None and expected in (None, actual):
        return actual
    hint = " Save it as CSV, Excel (.xlsx) or Parquet." if actual is None else ""
    named = f"named {extension}" if extension else "has no extension"
    raise FileRefused(f"{filename} is {named} but is actually {description}.{hint}")


def detect_encoding(head: bytes) -> tuple[str, float]:
    """The text encoding of a file from its first bytes, with a confidence
    between 0 and 1."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", 1.0
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", 1.0
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        pass
    else:
        if b"\x00" not in head:
            return "utf-8", 1.0

    match = charset_normalizer.from_bytes(head).best()
    if match is None:
        raise FileRefused("The file is not text: it looks like a binary file.")
    encoding = codecs.lookup(match.encoding).name
    # Western European files are far more common than Central European
    # ones when both decode the same bytes.
    if encoding == "cp1250" and "cp1252" in match.could_be_from_charset:
        encoding = "cp1252"
    return encoding, round(1.0 - float(match.chaos), 2)


def encoding_doubt(head: bytes, encoding: str, confidence: float) -> str | None:
    """Why the detected `encoding` of a file may be wrong, or None.

    Doubtful: a low detection confidence, or some lines that are valid
    UTF-8 next to others that are not (a file pieced together from two
    sources), which no single encoding reads correctly.
    """
    if encoding in CERTAIN_ENCODINGS:
        return None
    lines = head.split(b"\n")
    if not head.endswith(b"\n"):
        lines = lines[:-1]  # may end in the middle of a character
    as_utf8: list[int] = []
    not_utf8: list[int] = []
    for number, line in enumerate(lines, start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            not_utf8.append(number)
        else:
            as_utf8.append(number)
    if as_utf8 and not_utf8:
        return (
            f"The encoding is uncertain: some lines are UTF-8 (e.g. line "
            f"{as_utf8[0]}) and others are not (e.g. line {not_utf8[0]}), so "
            f"the file mixes encodings. The preview reads it as {encoding}, "
            f"which garbles some characters. {CHOOSE_ENCODING}"
        )
    if confidence < LOW_CONFIDENCE:
        return (
            f"The encoding is uncertain: it looks like {encoding}, but only "
            f"with confidence {confidence:.2f}. Check the accented letters in "
            f"the preview. {CHOOSE_ENCODING}"
        )
    return None


def _decode_sample(head: bytes, encoding: str, whole: bool) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        text = decoder.decode(head, final=whole)
    except UnicodeDecodeError as exc:
        line = head[: exc.start].count(b"\n") + 1
        raise FileRefused(
            f"Line {line}: the bytes {head[exc.start : exc.end]!r} are not "
            f"valid {encoding}. Choose the encoding the file was saved in.",
            line=line,
        ) from exc
    if not whole and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    return text


def _looks_binary(text: str) -> bool:
    controls = sum(
        1
        for ch in text[:20000]
        if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n\f"
    )
    return controls > max(2, len(text[:20000]) // 100)


def _field_counts(text: str, delimiter: str, quote: str) -> list[tuple[int, int]]:
    """(line, number of fields) of each non-blank record in `text`."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar=quote)
    counts = []
    previous = 0
    try:
        for record in reader:
            if record:
                counts.append((previous + 1, len(record)))
            previous = reader.line_num
    except csv.Error:
        counts.append((previous + 1, -1))
    return counts


def _fits(counts: list[tuple[int, int]]) -> bool:
    return len(counts) > 1 and all(n == counts[0][1] for _, n in counts)


def _plausible(counts: list[tuple[int, int]]) -> bool:
    """At least two columns, and most lines agree with the header (a few
    broken lines are reported later, each with its line number)."""
    if len(counts) < 2 or counts[0][1] < 2:
        return False
    header = counts[0][1]
    matching = sum(1 for _, n in counts[1:] if n == header)
    return matching * 2 > len(counts) - 1


def _describe(delimiter: str) -> str:
    return f"{DELIMITER_NAMES.get(delimiter, 'character')} {delimiter!r}"


def detect_delimiter(
    text: str, quote: str = '"', chosen: str | None = None
) -> tuple[str, tuple[str, ...]]:
    """The delimiter of a CSV sample, and every delimiter that splits most
    of its lines into as many fields as the header (at least two)."""
    counts = {d: _field_counts(text, d, quote) for d in DELIMITERS}
    plausible = tuple(d for d in DELIMITERS if _plausible(counts[d]))
    if chosen is not None:
        _check_chosen(text, quote, chosen, plausible)
        return chosen, plausible

    if all(len(c) <= 1 for c in counts.values()):
        # Only a header: the delimiter that splits it most is the best guess.
        best = max(DELIMITERS, key=lambda d: counts[d][0][1] if counts[d] else 0)
        return best, ()
    exact = tuple(d for d in plausible if _fits(counts[d]))
    if len(plausible) == 1 or len(exact) == 1:
        return (exact or plausible)[0], plausible
    if not plausible and all(all(n == 1 for _, n in c) for c in counts.values()):
        return ",", ()  # a file with a single column
    if plausible:
        names = " and ".join(_describe(d) for d in plausible)
        raise FileRefused(
            f"Cannot tell the delimiter for sure: {names} both split the "
            "lines evenly. Choose the delimiter."
        )
    raise FileRefused(
        "Cannot tell the delimiter: neither comma, semicolon, tab nor pipe "
        "gives the lines the same number of fields as the header. Check "
        "that the file is a table with one header line, or choose the "
        "delimiter."
    )


def _check_chosen(
    text: str, quote: str, chosen: str, plausible: tuple[str, ...]
) -> None:
    mine = _field_counts(text, chosen, quote)
    others = [d for d in plausible if d != chosen]
    if mine and mine[0][1] == 1 and others:
        raise FileRefused(
            f"With the {_describe(chosen)} as delimiter every line is a single "
            f"column; the file looks delimited by {_describe(others[0])}.",
            line=1,
        )
    if len(mine) > 1 and not _plausible(mine) and mine[0][1] > 1:
        _refuse_uneven(mine, chosen, plausible)


def _refuse_uneven(
    counts: list[tuple[int, int]], delimiter: str, plausible: tuple[str, ...]
) -> None:
    header = counts[0][1]
    line, found = next((ln, n) for ln, n in counts if n != header)
    others = [d for d in plausible if d != delimiter]
    hint = f" The file looks delimited by {_describe(others[0])}." if others else ""
    raise FileRefused(
        f"With the {_describe(delimiter)} as delimiter the header has "
        f"{header} column(s) but line {line} has {found}.{hint}",
        line=line,
    )


def resolve_format(
    path: Path,
    filename: str,
    overrides: FileFormat | None = None,
    *,
    uncertain_ok: bool = False,
) -> tuple[FileFormat, float | None, tuple[str, ...], tuple[str, ...]]:
    """Fill in whatever `overrides` leaves unset.

    Returns the format, the encoding confidence (None when the user chose
    the encoding or the file is not text), the plausible delimiters and
    the sheet names of a workbook. An encoding that could only be guessed
    (see `encoding_doubt`) is refused unless `uncertain_ok`.
    """
    fmt, confidence, plausible, sheets, doubt = _resolve(path, filename, overrides)
    if doubt and not uncertain_ok:
        raise FileRefused(doubt)
    return fmt, confidence, plausible, sheets


def _resolve(
    path: Path, filename: str, overrides: FileFormat | None
) -> tuple[FileFormat, float | None, tuple[str, ...], tuple[str, ...], str | None]:
    overrides = overrides or FileFormat()
    kind = detect_kind(path, filename)
    if overrides.kind is not None and overrides.kind != kind:
        raise FileRefused(f"{filename} was declared as {overrides.kind} but is {kind}.")
    if kind == FileKind.XLSX:
        sheets = tuple(_workbook(path).sheet_names)
        sheet = overrides.sheet or (sheets[0] if sheets else None)
        if sheet not in sheets:
            raise FileRefused(f"The workbook has no sheet named {sheet!r}.")
        return FileFormat(kind=kind, sheet=sheet), None, (), sheets, None
    if kind == FileKind.PARQUET:
        return FileFormat(kind=kind), None, (), (), None

    head = _read_head(path)
    whole = path.stat().st_size <= len(head)
    doubt = None
    if overrides.encoding:
        encoding, confidence = _check_encoding(overrides.encoding), None
    else:
        encoding, confidence = detect_encoding(head)
        doubt = encoding_doubt(head, encoding, confidence)
    text = _decode_sample(head, encoding, whole)
    if "\x00" in text or _looks_binary(text):
        raise FileRefused(
            f"{filename} does not read as text in {encoding}: it looks like a "
            "binary file, or the encoding is wrong."
        )
    if not text.strip():
        raise FileRefused(f"{filename} is empty.")
    delimiter, plausible = detect_delimiter(text, overrides.quote, overrides.delimiter)
    fmt = FileFormat(
        kind=kind, encoding=encoding, delimiter=delimiter, quote=overrides.quote
    )
    return fmt, confidence, plausible, (), doubt


def _check_encoding(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError as exc:
        raise FileRefused(f"{name!r} is not a text encoding we know.") from exc


# Staging -------------------------------------------------------------------


def _check_header(names: Sequence[str]) -> tuple[str, ...]:
    columns = tuple(name.strip() for name in names)
    seen: dict[str, int] = {}
    for position, name in enumerate(columns, start=1):
        if not name:
            raise FileRefused(
                f"Column {position} of the header has no name. Every column "
                "needs a name.",
                line=1,
            )
        if name == LINE:
            raise FileRefused(f"The column name {LINE!r} is reserved.", line=1)
        if name in seen:
            raise FileRefused(
                f"Columns {seen[name]} and {position} of the header are both "
                f"named {name!r}. Rename one of them.",
                line=1,
                column=name,
            )
        seen[name] = position
    return columns


class _Collector:
    def __init__(self, max_errors: int) -> None:
        self.max_errors = max_errors
        self.errors: list[RowError] = []
        self.count = 0

    def add(self, error: RowError) -> None:
        self.count += 1
        if len(self.errors) < self.max_errors:
            self.errors.append(error)


def _write_rows(
    out: Path, columns: tuple[str, ...], rows: Iterable[tuple[int, list[str]]]
) -> int:
    written = 0
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow((LINE, *columns))
        for line, values in rows:
            writer.writerow((line, *values))
            written += 1
    return written


def _csv_records(path: Path, fmt: FileFormat) -> Iterator[tuple[int, list[str]]]:
    assert fmt.encoding is not None
    assert fmt.delimiter is not None
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=fmt.encoding, newline="")
        reader = csv.reader(text, delimiter=fmt.delimiter, quotechar=fmt.quote)
        previous = 0
        try:
            for record in reader:
                if record and record != [""]:
                    yield previous + 1, record
                previous = reader.line_num
        except UnicodeDecodeError as exc:
            line = _bad_bytes_line(path, fmt.encoding)
            raise FileRefused(
                f"Line {line}: the file is not valid {fmt.encoding} text "
                f"({exc.reason}). Choose the encoding the file was saved in.",
                line=line,
            ) from exc
        except csv.Error as exc:
            line = previous + 1
            raise FileRefused(
                f"Line {line} cannot be read as CSV ({exc}). If it contains "
                f"odd characters, the encoding {fmt.encoding!r} may be wrong.",
                line=line,
            ) from exc


def _bad_bytes_line(path: Path, encoding: str) -> int:
    """The line holding the first bytes `encoding` cannot decode."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    lines = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            try:
                lines += decoder.decode(block).count("\n")
            except UnicodeDecodeError as exc:
                good = exc.object[: exc.start]
                return lines + good.decode(encoding, "replace").count("\n") + 1
    return lines + 1


def _stage_csv(path: Path, fmt: FileFormat, out: Path, errors: _Collector) -> Staged:
    records = _csv_records(path, fmt)
    first = next(records, None)
    if first is None:
        raise FileRefused("The file is empty.")
    columns = _check_header(first[1])
    width = len(columns)

    def good_rows() -> Iterator[tuple[int, list[str]]]:
        for line, record in records:
            if len(record) == width:
                yield line, record
                continue
            errors.add(
                RowError(
                    line=line,
                    column=None,
                    field="",
                    value=None,
                    message=f"Line {line} has {len(record)} fields but the "
                    f"header has {width}. Check the delimiter and quoting "
                    "of this line.",
                )
            )

    if not _write_rows(out, columns, good_rows()) and not errors.count:
        raise FileRefused("The file has a header but no data rows.")
    return Staged(out, FileKind.CSV, columns, errors.errors, errors.count)


def _workbook(path: Path) -> Any:
    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several unrelated types
        raise FileRefused(
            f"The workbook cannot be opened: {exc}. Save it again from Excel."
        ) from exc


def cell_text(value: object) -> str:
    """A spreadsheet cell as text; dates as ISO dates."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value.total_seconds())
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _stage_xlsx(path: Path, fmt: FileFormat, out: Path, errors: _Collector) -> Staged:
    sheet = _workbook(path).get_sheet_by_name(fmt.sheet)
    rows = enumerate(sheet.iter_rows(), start=1)
    header: list[str] | None = None
    header_row = 0
    for row, cells in rows:
        texts = [cell_text(c) for c in cells]
        if any(t.strip() for t in texts):
            while texts and not texts[-1].strip():
                texts.pop()
            header, header_row = texts, row
            break
    if header is None:
        raise FileRefused(f"The sheet {fmt.sheet!r} is empty.")
    try:
        columns = _check_header(header)
    except FileRefused as exc:
        raise FileRefused(
            exc.message.replace("of the header", f"of the header (row {header_row})"),
            line=header_row,
            column=exc.column,
        ) from exc
    width = len(columns)
    kinds: dict[int, str | None] = {}

    def good_rows() -> Iterator[tuple[int, list[str]]]:
        for row, cells in rows:
            _note_kinds(kinds, cells[:width])
            texts = [cell_text(c) for c in cells]
            if not any(t.strip() for t in texts):
                continue
            extra = [t for t in texts[width:] if t.strip()]
            if extra:
                errors.add(
                    RowError(
                        line=row,
                        column=None,
                        field="",
                        value=extra[0],
                        message=f"Row {row} has a value ({extra[0]!r}) in a "
                        "column with no header.",
                    )
                )
                continue
            yield row, (texts + [""] * width)[:width]

    if not _write_rows(out, columns, good_rows()) and not errors.count:
        raise FileRefused(f"The sheet {fmt.sheet!r} has a header but no data rows.")
    typed = {columns[i]: kind for i, kind in kinds.items() if kind}
    return Staged(out, FileKind.XLSX, columns, errors.errors, errors.count, typed)


def _note_kinds(kinds: dict[int, str | None], cells: Sequence[object]) -> None:
    """Track, per column, whether every filled cell so far is a date
    ("date"), a date with a time ("timestamp") or anything else (None)."""
    for index, value in enumerate(cells):
        if value is None or value == "":
            continue
        if isinstance(value, datetime):
            kind = "date" if value.time() == time(0) else "timestamp"
        elif isinstance(value, date):
            kind = "date"
        else:
            kind = None
        if index not in kinds:
            kinds[index] = kind
        elif kinds[index] is not None:
            both = {kinds[index], kind}
            kinds[index] = None if None in both else max(both, key=_kind_rank)


def _kind_rank(kind: str | None) -> int:
    return {"date": 1, "timestamp": 2}.get(kind or "", 0)


def _stage_parquet(path: Path) -> Staged:
    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ...
        raise FileRefused(f"The file is not a readable Parquet file ({exc}).") from exc
    columns = _check_header(list(schema.names))
    if pq.ParquetFile(path).metadata.num_rows == 0:
        raise FileRefused("The Parquet file has no rows.")
    typed = {}
    for name, column in zip(columns, schema, strict=True):
        if pa.types.is_date(column.type):
            typed[name] = "date"
        elif pa.types.is_timestamp(column.type):
            typed[name] = "timestamp"
    return Staged(path, FileKind.PARQUET, columns, typed_columns=typed)


def stage(path: Path, fmt: FileFormat, workdir: Path, max_errors: int = 200) -> Staged:
    """Make `path` readable by `raw_sql`, writing helper files in `workdir`."""
    errors = _Collector(max_errors)
    if fmt.kind == FileKind.PARQUET:
        return _stage_parquet(path)
    out = workdir / "staged.csv"
    if fmt.kind == FileKind.XLSX:
        return _stage_xlsx(path, fmt, out, errors)
    return _stage_csv(path, fmt, out, errors)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def raw_sql(staged: Staged) -> str:
    """A DuckDB query giving `__line` and every column as text."""
    location = _quote_str(str(staged.path))
    if staged.kind == FileKind.PARQUET:
        columns = ", ".join(
            f"CAST({_quote_ident(c)} AS VARCHAR) AS {_quote_ident(c)}"
            for c in staged.columns
        )
        return (
            f"SELECT CAST(file_row_number + 1 AS BIGINT) AS {LINE}, {columns} "  # noqa: S608 - names and paths are quoted
            f"FROM read_parquet({location}, file_row_number = true)"
        )
    types = ", ".join(f"{_quote_str(c)}: 'VARCHAR'" for c in staged.columns)
    return (
        f"SELECT * FROM read_csv({location}, header = true, delim = ',', "  # noqa: S608 - names and paths are quoted
        "quote = '\"', escape = '\"', new_line = '\\n', auto_detect = false, "
        f"strict_mode = true, columns = {{{_quote_str(LINE)}: 'BIGINT', {types}}})"
    )


def load_raw(con: duckdb.DuckDBPyConnection, staged: Staged, name: str = "raw") -> None:
    """Copy the staged file into a DuckDB table called `name`."""
    try:
        con.execute(f"CREATE TABLE {_quote_ident(name)} AS {raw_sql(staged)}")
    except duckdb.InterruptException:
        raise
    except duckdb.Error as exc:
        raise FileRefused(f"The file cannot be read: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# Date formats --------------------------------------------------------------


def _date_test(column: str, fmt: str) -> str:
    value = f"trim({_quote_ident(column)})"
    parsed = f"try_strptime({value}, {_quote_str(fmt)})"
    test = f"{parsed} IS NOT NULL AND year({parsed}) BETWEEN 1800 AND 2200"
    if fmt == "%Y%m%d":
        test += f" AND length({value}) = 8"
    return test


def detect_date_formats(
    con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str]
) -> dict[str, tuple[str, ...]]:
    """For each column, the candidate formats that parse all its values.

    Every non-empty value is tried in one DuckDB scan; columns with no
    matching format are left out.
    """
    parts = []
    keys = []
    for column in _date_like(con, table, columns):
        present = f"nullif(trim({_quote_ident(column)}), '') IS NOT NULL"
        for fmt in DATE_FORMATS:
            parts.append(
                f"count(*) FILTER (WHERE {present}) > 0 AND "
                f"coalesce(bool_and({_date_test(column, fmt)}) "
                f"FILTER (WHERE {present}), false)"
            )
            keys.append((column, fmt))
    if not parts:
        return {}
    row = con.execute(
        f"SELECT {', '.join(parts)} FROM {_quote_ident(table)}"  # noqa: S608 - names and paths are quoted
    ).fetchone()
    assert row is not None
    found: dict[str, list[str]] = {}
    for (column, fmt), ok in zip(keys, row, strict=True):
        if ok:
            found.setdefault(column, []).append(fmt)
    return {c: tuple(f) for c, f in found.items()}


def _date_like(
    con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str]
) -> list[str]:
    """The columns whose values all have the shape of a date; a cheap first
    pass so that strptime only runs where it can succeed."""
    if not columns:
        return []
    tests = ", ".join(
        f"coalesce(bool_and(regexp_full_match(trim({_quote_ident(c)}), "
        f"{_quote_str(_DATE_SHAPE)})) FILTER (WHERE nullif(trim("
        f"{_quote_ident(c)}), '') IS NOT NULL), false)"
        for c in columns
    )
    row = con.execute(f"SELECT {tests} FROM {_quote_ident(table)}").fetchone()  # noqa: S608 - names and paths are quoted
    assert row is not None
    return [c for c, ok in zip(columns, row, strict=True) if ok]


# Sniffing ------------------------------------------------------------------


def sniff(
    path: Path,
    filename: str,
    overrides: FileFormat | None = None,
    *,
    preview_rows: int = PREVIEW_ROWS,
    timeout: float = DEFAULT_TIMEOUT,
) -> Sniffed:
    """Work out how to read an uploaded file, or refuse it with a reason.

    `filename` is the name the user gave the file (its extension counts);
    `overrides` holds what the user has chosen so far.
    """
    fmt, confidence, delimiters, sheets, doubt = _resolve(path, filename, overrides)
    with tempfile.TemporaryDirectory(prefix="creditokr-sniff-") as tmp:
        workdir = Path(tmp)
        staged = stage(path, fmt, workdir)
        con = restricted_connection([path], [workdir], workdir / "spill")
        try:
            with time_limit(con, timeout):
                sniffed = _inspect(
                    con, staged, fmt, preview_rows, confidence, delimiters, sheets
                )
        finally:
            con.close()
    if doubt is None:
        return sniffed
    # The guess reads the preview; leaving the format's encoding unset
    # makes the import ask for it.
    return replace(
        sniffed,
        format=replace(sniffed.format, encoding=None),
        notes=(doubt, *sniffed.notes),
        encoding_uncertain=True,
    )


def _inspect(
    con: duckdb.DuckDBPyConnection,
    staged: Staged,
    fmt: FileFormat,
    preview_rows: int,
    confidence: float | None,
    delimiters: tuple[str, ...],
    sheets: tuple[str, ...],
) -> Sniffed:
    load_raw(con, staged)
    counted = con.execute("SELECT count(*) FROM raw").fetchone()
    rows = (counted[0] if counted else 0) + staged.error_count
    if rows == 0:
        raise FileRefused("The file has a header but no data rows.")

    names = ", ".join(_quote_ident(c) for c in (LINE, *staged.columns))
    head = con.execute(
        f"SELECT {names} FROM raw ORDER BY {LINE} LIMIT {int(preview_rows)}"  # noqa: S608 - names and paths are quoted
    ).fetchall()
    notes = tuple(e.message for e in staged.errors[:5])
    return Sniffed(
        format=replace(fmt),
        columns=staged.columns,
        rows=rows,
        preview=tuple(tuple("" if v is None else str(v) for v in r[1:]) for r in head),
        preview_lines=tuple(int(r[0]) for r in head),
        date_formats=detect_date_formats(con, "raw", staged.columns),
        encoding_confidence=confidence,
        delimiters=delimiters,
        sheets=sheets,
        notes=notes,
    )
