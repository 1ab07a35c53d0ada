"""Read credit data where it lives: a PostgreSQL or SQLite database.

A SQL source is a table or one SELECT query. It is only ever read: the
PostgreSQL session is read-only with a statement timeout, and SQLite is
opened read-only with a deadline. The query check below only produces a
clear message early; the read-only session is what actually keeps the
data safe. Connection URLs may hold a password, which never appears in
a message, repr or exception text.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import ibis
import ibis.expr.datatypes as dt
import psycopg
import sqlglot
from sqlglot import exp

from creditokr.creditdata.canonical import FieldType
from creditokr.creditdata.ingest.errors import RowError, SourceError
from creditokr.creditdata.ingest.importer import MAIN_DATE, ImportResult
from creditokr.creditdata.ingest.mapping import (
    IBIS_TYPES,
    Mapping,
    canonical_table,
    check_mapping,
    parsed_table,
    pieces,
)
from creditokr.creditdata.ingest.validation import Located, key_fields, validate

DEFAULT_TIMEOUT = 60.0
_WRITES = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.Command,
    exp.Copy,
    exp.TruncateTable,
)

# PostgreSQL type oids of the columns a query returns.
_PG_TYPES: dict[int, dt.DataType] = {
    16: dt.boolean,
    20: dt.int64,
    21: dt.int16,
    23: dt.int32,
    700: dt.float32,
    701: dt.float64,
    1700: dt.Decimal(38, 10),
    1082: dt.date,
    1114: dt.timestamp,
    1184: dt.Timestamp(timezone="UTC"),
}


@dataclass(frozen=True)
class SqlSource:
    """A table or a SELECT query in a database.

    `url` is postgresql://..., postgres://..., sqlite:///path, or
    env:VARNAME to read the URL from that environment variable.
    """

    url: str = field(repr=False)
    table: str | None = None
    query: str | None = None

    def __repr__(self) -> str:
        return (
            f"SqlSource(url={redact_url(self.url)!r}, table={self.table!r}, "
            f"query={self.query!r})"
        )

    def to_dict(self) -> dict[str, str | None]:
        """The source as stored; the URL as given (keep secrets in env:)."""
        return {"url": self.url, "table": self.table, "query": self.query}


# URLs ----------------------------------------------------------------------


def redact_url(url: str) -> str:
    """`url` with any password replaced by ***."""
    if url.startswith("env:"):
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an unreadable URL)"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = quote(parts.username or "", safe="")
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def resolve_url(url: str) -> str:
    """The actual URL, reading env:VARNAME from the environment."""
    if not url.startswith("env:"):
        return url
    name = url[4:]
    value = os.environ.get(name)
    if not value:
        raise SourceError(f"The environment variable {name} is not set.")
    return value


def _secrets(url: str) -> set[str]:
    """The password of `url` as written and as decoded."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return set()
    return {password, unquote(password)} if password else set()


def _scrub(text: str, url: str) -> str:
    for secret in _secrets(url):
        text = text.replace(secret, "***")
    return text


# Queries -------------------------------------------------------------------


def check_query(query: str, dialect: str) -> str:
    """The query without a trailing semicolon, if it is one SELECT."""
    try:
        statements = [s for s in sqlglot.parse(query, read=dialect) if s is not None]
    except sqlglot.errors.ParseError as exc:
        first = str(exc).splitlines()[0]
        raise SourceError(f"The query cannot be read as SQL: {first}") from exc
    if len(statements) != 1:
        raise SourceError(
            f"The query must be a single SELECT statement; it has {len(statements)}."
        )
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        raise SourceError("The query must be a SELECT statement; nothing else is run.")
    if statement.find(*_WRITES) is not None or statement.args.get("into"):
        raise SourceError("The query must only read data; it contains a write.")
    if statement.find(exp.Lock) is not None:
        raise SourceError("The query must not lock rows (FOR UPDATE/SHARE).")
    return query.strip().rstrip(";").strip()


# Connections ---------------------------------------------------------------


@dataclass
class _Open:
    backend: Any
    raw: Any
    kind: str


def _kind(url: str) -> str:
    scheme = url.split(":", 1)[0].lower()
    if scheme in ("postgresql", "postgres"):
        return "postgres"
    if scheme == "sqlite":
        return "sqlite"
    raise SourceError(
        f"Unsupported database URL {redact_url(url)!r}: use postgresql://..., "
        "postgres://... or sqlite:///path."
    )


@contextmanager
def _connect(source: SqlSource, timeout: float) -> Iterator[_Open]:
    if (source.table is None) == (source.query is None):
        raise SourceError("Give either a table or a query, not both or neither.")
    url = resolve_url(source.url)
    kind = _kind(url)
    try:
        if kind == "postgres":
            with _postgres(url, source, timeout) as opened:
                yield opened
        else:
            with _sqlite(url, source, timeout) as opened:
                yield opened
    except SourceError as exc:
        raise SourceError(_scrub(exc.message, url)) from None
    except (psycopg.Error, sqlite3.Error, ibis.common.exceptions.IbisError) as exc:
        raise SourceError(_scrub(_explain(exc, timeout), url)) from None


def _explain(exc: Exception, timeout: float) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, psycopg.errors.QueryCanceled) or "interrupted" in text:
        return (
            f"The database query took longer than {timeout:g} seconds and was stopped."
        )
    if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
        return f"The source is read-only and refused to change data: {text}"
    return f"The database refused the request: {text}"


@contextmanager
def _postgres(url: str, source: SqlSource, timeout: float) -> Iterator[_Open]:
    con = psycopg.connect(url, autocommit=True, connect_timeout=10)
    try:
        with con.cursor() as cur:
            cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            cur.execute(f"SET statement_timeout = {int(timeout * 1000)}")
        backend = ibis.postgres.from_connection(con)
        yield _Open(backend, _postgres_raw(con, backend, source), "postgres")
    finally:
        con.close()


def _postgres_raw(con: psycopg.Connection[Any], backend: Any, source: SqlSource) -> Any:
    if source.table is not None:
        return _table(backend, source.table)
    query = check_query(source.query or "", "postgres")
    # Ibis would learn the schema by creating a view, which a read-only
    # session forbids; the result description of an empty read is enough.
    with con.cursor() as cur:
        cur.execute(f"SELECT * FROM ({query}) AS q LIMIT 0")  # noqa: S608
        description = cur.description or []
    schema = {d.name: _PG_TYPES.get(d.type_code, dt.string) for d in description}
    return backend.sql(query, schema=ibis.schema(schema))


def _table(backend: Any, name: str) -> Any:
    schema, _, table = name.rpartition(".")
    return backend.table(table, database=schema or None)


@contextmanager
def _sqlite(url: str, source: SqlSource, timeout: float) -> Iterator[_Open]:
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if not path or not Path(path).is_file():
        raise SourceError(f"There is no SQLite database at {path or '(no path)'}.")
    uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro"
    con = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
    deadline = time.monotonic() + timeout
    con.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
    try:
        backend = ibis.sqlite.from_connection(con)
        if source.table is not None:
            raw = _table(backend, source.table)
        else:
            raw = backend.sql(check_query(source.query or "", "sqlite"))
        yield _Open(backend, raw, "sqlite")
    finally:
        con.close()


# Public API ----------------------------------------------------------------


def columns(source: SqlSource, *, timeout: float = DEFAULT_TIMEOUT) -> list[str]:
    """The column names of the source."""
    with _connect(source, timeout) as opened:
        return list(opened.raw.columns)


def preview_rows(
    source: SqlSource, limit: int = 20, *, timeout: float = DEFAULT_TIMEOUT
) -> list[dict[str, str | None]]:
    """The first `limit` rows, every value as text."""
    with _connect(source, timeout) as opened:
        rows = opened.raw.limit(limit).to_pyarrow().to_pylist()
    return [{k: None if v is None else str(v) for k, v in row.items()} for row in rows]


def typed_columns(raw: Any) -> dict[str, str]:
    """The columns the database already stores as dates, numbers or
    booleans."""
    result = {}
    for name, kind in raw.schema().items():
        if kind.is_date():
            result[name] = "date"
        elif kind.is_timestamp():
            result[name] = "timestamp"
        elif kind.is_numeric():
            result[name] = "number"
        elif kind.is_boolean():
            result[name] = "boolean"
    return result


def _check(opened: _Open, mapping: Mapping) -> None:
    raw = opened.raw
    typed = typed_columns(raw)
    problems = [
        p.message for p in check_mapping(mapping, raw.columns, typed_columns=typed)
    ]
    for piece in pieces(mapping):
        for name, fm in piece.fields.items():
            f = mapping.spec.field(name)
            needs = {
                FieldType.DATE: ("date", "timestamp"),
                FieldType.TIMESTAMP: ("date", "timestamp"),
                FieldType.DECIMAL: ("number",),
                FieldType.INTEGER: ("number",),
            }.get(f.type)
            column = fm.column
            if column in raw.columns and needs and typed.get(column or "") not in needs:
                problems.append(
                    f"The column {fm.column!r} ({f.label}) is stored as text; "
                    f"convert it in the query, e.g. CAST({fm.column} AS "
                    f"{'DATE' if f.type == FieldType.DATE else 'NUMERIC'})."
                )
    if problems:
        raise SourceError(" ".join(dict.fromkeys(problems)))


@contextmanager
def open_canonical(
    source: SqlSource, mapping: Mapping, timeout: float = DEFAULT_TIMEOUT
) -> Iterator[Any]:
    """The canonical Ibis table over the source, for KPIs to push down.

    The connection stays open, read-only and time-limited, inside the
    `with` block.
    """
    with _connect(source, timeout) as opened:
        _check(opened, mapping)
        yield canonical_table(opened.raw, mapping)


def validate_source(
    source: SqlSource,
    mapping: Mapping,
    max_errors: int = 200,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> ImportResult:
    """Check every row of the source in the database itself.

    Errors name rows by their key values instead of line numbers.
    """
    try:
        with _connect(source, timeout) as opened:
            _check(opened, mapping)
            return _validate_open(opened, source, mapping, max_errors)
    except SourceError as exc:
        error = RowError(None, None, "", None, exc.message)
        return ImportResult(False, 0, 1, (error,), mapping.dataset)


def _validate_open(
    opened: _Open, source: SqlSource, mapping: Mapping, max_errors: int
) -> ImportResult:
    parsed = parsed_table(opened.raw, mapping, line=None)
    located = Located(line_word=None, key_fields=key_fields(mapping.spec))
    total, errors = validate(parsed, mapping, max_errors=max_errors, located=located)
    date_field = MAIN_DATE[mapping.dataset]
    summary = (
        parsed.aggregate(
            rows=parsed.count(),
            low=parsed[date_field].min(),
            high=parsed[date_field].max(),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    return ImportResult(
        ok=total == 0,
        rows=int(summary["rows"]),
        error_count=total,
        errors=tuple(errors),
        dataset=mapping.dataset,
        date_field=date_field,
        min_date=_day(summary["low"]),
        max_date=_day(summary["high"]),
        columns_used=tuple(mapping.source_columns()),
    )


def _day(value: Any) -> Any:
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def source_fingerprint(
    source: SqlSource, mapping: Mapping, *, timeout: float = DEFAULT_TIMEOUT
) -> str:
    """A short hash that changes when the source's data changes: the row
    count, the newest date and the total of the money columns."""
    with open_canonical(source, mapping, timeout) as table:
        date_field = MAIN_DATE[mapping.dataset]
        measures: dict[str, Any] = {
            "rows": table.count(),
            "newest": table[date_field].max().cast(dt.string),
        }
        for f in mapping.spec.fields:
            if IBIS_TYPES[f.type] == IBIS_TYPES[FieldType.DECIMAL]:
                measures[f"sum_{f.name}"] = table[f.name].sum().cast(dt.string)
        values = table.aggregate(**measures).to_pyarrow().to_pylist()[0]
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
