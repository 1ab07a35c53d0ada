"""Import a file into canonical Parquet: everything valid, or nothing.

The file is read by a locked-down DuckDB, parsed with the user's mapping
and checked in full. Only when no error is left is the canonical table
written, to a temporary file in the destination folder that is renamed
into place; a failed import leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import ibis

from creditokr.creditdata.canonical import FieldType
from creditokr.creditdata.ingest.duck import (
    DEFAULT_TIMEOUT,
    ibis_backend,
    restricted_connection,
    time_limit,
)
from creditokr.creditdata.ingest.errors import FileRefused, IngestError, RowError
from creditokr.creditdata.ingest.mapping import (
    LINE,
    PIECE,
    RAW,
    FieldMapping,
    Mapping,
    check_mapping,
    for_typed_columns,
    parsed_table,
    pieces,
)
from creditokr.creditdata.ingest.readers import (
    FileFormat,
    Staged,
    load_raw,
    resolve_format,
    stage,
)
from creditokr.creditdata.ingest.validation import (
    Located,
    merge,
    validate,
    why_unreadable,
)

# The date that says how recent a dataset is.
MAIN_DATE = {
    "receivables": "invoice_date",
    "payments": "payment_date",
    "account_snapshots": "as_of",
    "recoveries": "event_date",
    "application_events": "occurred_at",
    "policy_checks": "decided_on",
}


@dataclass(frozen=True)
class ImportResult:
    """What an import (or a check of a SQL source) found and did."""

    ok: bool
    rows: int
    error_count: int
    errors: tuple[RowError, ...]
    dataset: str
    sha256: str | None = None
    date_field: str | None = None
    min_date: date | None = None
    max_date: date | None = None
    columns_used: tuple[str, ...] = ()
    out_path: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["errors"] = [e.to_dict() for e in self.errors]
        data["min_date"] = _iso(self.min_date)
        data["max_date"] = _iso(self.max_date)
        data["out_path"] = str(self.out_path) if self.out_path else None
        data["columns_used"] = list(self.columns_used)
        return data


@dataclass(frozen=True)
class PreviewCell:
    raw: str | None
    parsed: str | None
    error: str | None = None


@dataclass(frozen=True)
class PreviewRow:
    """One canonical row as the mapping screen shows it."""

    line: int | None
    period: str
    cells: dict[str, PreviewCell] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _refused(mapping: Mapping, errors: list[RowError], total: int) -> ImportResult:
    return ImportResult(
        ok=False,
        rows=0,
        error_count=total,
        errors=tuple(errors),
        dataset=mapping.dataset,
    )


def _file_error(exc: IngestError) -> RowError:
    return RowError(
        line=getattr(exc, "line", None),
        column=getattr(exc, "column", None),
        field="",
        value=None,
        message=exc.message,
    )


def _mapping_errors(mapping: Mapping, staged: Staged) -> list[RowError]:
    problems = check_mapping(
        mapping, staged.columns, typed_columns=staged.typed_columns
    )
    return [RowError(None, p.column, p.field or "", None, p.message) for p in problems]


class _Session:
    """One locked-down DuckDB over one staged file."""

    def __init__(
        self, path: Path, staged: Staged, workdir: Path, out_dir: Path | None
    ) -> None:
        folders = [workdir] + ([out_dir] if out_dir else [])
        self.con = restricted_connection([path], folders, workdir / "spill")
        self.backend = ibis_backend(self.con)
        load_raw(self.con, staged)

    def parsed(self, mapping: Mapping, limit: int | None = None) -> Any:
        raw = self.backend.table("raw")
        if limit is not None:
            raw = raw.order_by(LINE).limit(limit)
        sql = ibis.to_sql(parsed_table(raw, mapping), dialect="duckdb")
        self.con.execute(f"CREATE TEMP TABLE parsed AS {sql}")
        return self.backend.table("parsed")

    def close(self) -> None:
        self.con.close()


def import_file(
    path: Path,
    fmt: FileFormat,
    mapping: Mapping,
    out_path: Path,
    *,
    max_errors: int = 200,
    filename: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ImportResult:
    """Check all of `path` and, only if nothing is wrong, write it to
    `out_path` as canonical Parquet.

    Problems with the file itself, the mapping or any value come back in
    the result (never raised); `error_count` counts them all and `errors`
    holds the first `max_errors`, in line order. A text file whose
    encoding `fmt` leaves unset and that can only be guessed is refused:
    the user has to choose the encoding.
    """
    try:
        resolved = resolve_format(path, filename or path.name, fmt)[0]
    except IngestError as exc:
        return _refused(mapping, [_file_error(exc)], 1)

    out_path = out_path.resolve()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="creditokr-import-") as tmp:
        workdir = Path(tmp)
        try:
            staged = stage(path, resolved, workdir, max_errors)
        except IngestError as exc:
            return _refused(mapping, [_file_error(exc)], 1)
        mapping = for_typed_columns(mapping, staged.typed_columns)
        problems = _mapping_errors(mapping, staged)
        if problems:
            return _refused(mapping, problems[:max_errors], len(problems))
        return _import_staged(
            path, staged, workdir, mapping, out_path, max_errors, timeout
        )


def _import_staged(
    path: Path,
    staged: Staged,
    workdir: Path,
    mapping: Mapping,
    out_path: Path,
    max_errors: int,
    timeout: float,
) -> ImportResult:
    session: _Session | None = None
    part = out_path.parent / f".{out_path.name}.{uuid.uuid4().hex}.part"
    try:
        session = _Session(path, staged, workdir, out_path.parent)
        with time_limit(session.con, timeout):
            parsed = session.parsed(mapping)
            located = Located(line_word=staged.line_word)
            count, errors = validate(
                parsed, mapping, max_errors=max_errors, located=located
            )
            total = count + staged.error_count
            if total:
                return _refused(
                    mapping, merge(staged.errors, errors, max_errors), total
                )
            result = _summary(session, mapping, path)
            _write(session.con, mapping, part)
        os.replace(part, out_path)
        return replace(result, out_path=out_path)
    except IngestError as exc:
        return _refused(mapping, [_file_error(exc)], 1)
    except duckdb.Error as exc:
        refused = FileRefused(f"The data cannot be read: {str(exc).splitlines()[0]}")
        return _refused(mapping, [_file_error(refused)], 1)
    finally:
        if session is not None:
            session.close()
        part.unlink(missing_ok=True)


def _summary(session: _Session, mapping: Mapping, path: Path) -> ImportResult:
    date_field = MAIN_DATE[mapping.dataset]
    row = session.con.execute(
        f'SELECT count(*), min("{date_field}"), max("{date_field}") FROM parsed'  # noqa: S608 - names and paths are quoted
    ).fetchone()
    assert row is not None
    return ImportResult(
        ok=True,
        rows=int(row[0]),
        error_count=0,
        errors=(),
        dataset=mapping.dataset,
        sha256=file_sha256(path),
        date_field=date_field,
        min_date=_as_date(row[1]),
        max_date=_as_date(row[2]),
        columns_used=tuple(mapping.source_columns()),
    )


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def _write(con: duckdb.DuckDBPyConnection, mapping: Mapping, part: Path) -> None:
    names = ", ".join(f'"{f.name}"' for f in mapping.spec.fields)
    target = str(part).replace("'", "''")
    con.execute(
        f"COPY (SELECT {names} FROM parsed ORDER BY {LINE}, {PIECE}) "  # noqa: S608 - names and paths are quoted
        f"TO '{target}' (FORMAT parquet)"
    )


# Preview -------------------------------------------------------------------


def preview(
    path: Path,
    fmt: FileFormat,
    mapping: Mapping,
    limit: int = 20,
    *,
    filename: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[PreviewRow]:
    """The first rows as the mapping reads them: for each mapped field the
    raw text, the parsed value and what is wrong with it, if anything.

    Fields whose mapping cannot be used yet (a missing column, no date
    format) show the reason in every row instead of a value.
    """
    name = filename or path.name
    resolved = resolve_format(path, name, fmt, uncertain_ok=True)[0]
    with tempfile.TemporaryDirectory(prefix="creditokr-preview-") as tmp:
        workdir = Path(tmp)
        staged = stage(path, resolved, workdir)
        typed = staged.typed_columns
        usable, broken = _usable_part(for_typed_columns(mapping, typed), staged)
        session = _Session(path, staged, workdir, None)
        try:
            with time_limit(session.con, timeout):
                parsed = session.parsed(usable, limit)
                rows = (
                    parsed.order_by([LINE, PIECE]).limit(limit).to_pyarrow().to_pylist()
                )
        except duckdb.InterruptException:
            raise
        except duckdb.Error as exc:
            raise IngestError(_preview_failure(usable, exc)) from exc
        finally:
            session.close()
    labels = {p.index: p.label for p in pieces(usable)}
    return [_preview_row(usable, row, broken, labels) for row in rows]


def _preview_failure(mapping: Mapping, exc: duckdb.Error) -> str:
    """A preview that DuckDB refused, with the date formats it was given."""
    formats = [
        f"{mapping.spec.field(name).label} ({fm.date_format!r})"
        for piece in pieces(mapping)
        for name, fm in piece.fields.items()
        if fm.date_format and name in {f.name for f in mapping.spec.fields}
    ]
    hint = ""
    if formats:
        hint = (
            " Check the date format of "
            + ", ".join(dict.fromkeys(formats))
            + "; use directives such as %d/%m/%Y."
        )
    return f"The preview cannot be made: {str(exc).splitlines()[0]}.{hint}"


def _usable_part(mapping: Mapping, staged: Staged) -> tuple[Mapping, dict[str, str]]:
    broken: dict[str, str] = {}
    typed = staged.typed_columns
    for problem in check_mapping(mapping, staged.columns, typed_columns=typed):
        if problem.field:
            broken.setdefault(problem.field, problem.message)
    fields = {k: v for k, v in mapping.fields.items() if k not in broken}
    wide = tuple(
        replace(p, columns={k: c for k, c in p.columns.items() if k not in broken})
        for p in mapping.wide
    )
    return replace(mapping, fields=fields, wide=wide), broken


def _preview_row(
    mapping: Mapping,
    row: dict[str, Any],
    broken: dict[str, str],
    labels: dict[int, str],
) -> PreviewRow:
    cells: dict[str, PreviewCell] = {}
    options = {p.index: p.fields for p in pieces(mapping)}[row[PIECE]]
    for f in mapping.spec.fields:
        if f.name in broken:
            cells[f.name] = PreviewCell(None, None, broken[f.name])
            continue
        fm = options.get(f.name)
        if fm is None:
            continue
        raw, value = row[RAW + f.name], row[f.name]
        error = None
        if raw is not None and value is None and f.type != FieldType.STRING:
            error = f"{raw!r} {why_unreadable(f, fm, raw)}."
        elif raw is None and value is None and f.required and fm.column:
            error = f"{f.label} is empty but is required."
        cells[f.name] = PreviewCell(raw, _shown(value), error)
    return PreviewRow(row[LINE], labels.get(row[PIECE], ""), cells)


def _shown(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


__all__ = [
    "MAIN_DATE",
    "FieldMapping",
    "ImportResult",
    "PreviewCell",
    "PreviewRow",
    "file_sha256",
    "import_file",
    "preview",
]
