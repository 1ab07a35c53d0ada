"""Read credit data where it lives: a PostgreSQL or SQLite database.

A SQL source is a table or one SELECT query. It is only ever read: every
PostgreSQL statement runs in a transaction that is read-only from its
first statement, with a statement timeout set inside that transaction,
and SQLite is opened read-only with a deadline. The query check below
refuses writes and calls that change settings early, with a clear
message; the read-only transaction is what actually keeps the data safe.

SQLite files are only opened inside the folder an administrator names in
CREDIT_DATA_SQLITE_DIR, never the app's own database, and PostgreSQL
sources may not point at the app's own database. Connection URLs may hold
a password: messages only ever show scheme://user@host:port/database.
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
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlsplit

import ibis
import ibis.expr.datatypes as dt
import psycopg
import sqlglot
from django.conf import settings
from psycopg import conninfo
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
ENV_PREFIX = "env:"
# env: may only name variables meant for SQL sources, so that a source
# cannot read the server's other settings.
ENV_NAME_PREFIX = "CREDITOKR_SOURCE_"
HIDDEN = "(hidden)"
SQLITE_OFF = (
    "SQLite sources are turned off; an administrator sets "
    "CREDIT_DATA_SQLITE_DIR to the folder that holds them."
)
SQLITE_REFUSED = (
    "A SQLite source must be a file inside the folder set aside for SQLite "
    "sources (CREDIT_DATA_SQLITE_DIR); this path is not allowed."
)
OWN_DATABASE = (
    "This URL points at CreditOKR's own database; a source must be a separate database."
)
# Settings a PostgreSQL URL may carry after '?'. Others (passfile, service,
# sslkey, options...) would make the server read local files or change the
# session.
_PG_PARAMS = frozenset(
    {
        "sslmode",
        "application_name",
        "connect_timeout",
        "target_session_attrs",
        "gssencmode",
        "channel_binding",
    }
)
_LOCAL_HOSTS = frozenset({"", "localhost", "127.0.0.1", "::1"})
# Functions a query may not call: they change settings or state, read
# server files, run SQL given as text, or contact other servers. Names
# ending in "*" stand for every function starting so.
_REFUSED_FUNCTIONS = (
    "set_config",
    "nextval",
    "setval",
    "currval",
    "lastval",
    "pg_advisory_*",
    "pg_try_advisory_*",
    "lo_*",
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_*",
    "pg_stat_file",
    "pg_file_*",
    "dblink*",
    "query_to_xml*",
    "cursor_to_xml*",
    "table_to_xml*",
    "database_to_xml*",
    "schema_to_xml*",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_promote",
    "pg_notify",
    "pg_sleep*",
    "load_extension",
)
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

    `url` is postgresql://..., postgres://..., sqlite:///path (inside
    CREDIT_DATA_SQLITE_DIR), or env:CREDITOKR_SOURCE_NAME to read the URL
    from that environment variable.
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


def _split(url: str) -> SplitResult | None:
    """The parts of a URL, or None when `url` is not a URL we can read."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError when the port is not a number
    except ValueError:
        return None
    if not parts.scheme or not (parts.netloc or parts.path.startswith("/")):
        return None
    if any(ch.isspace() for ch in url):
        return None
    return parts


def redact_url(url: str) -> str:
    """`url` as scheme://user@host:port/database, with no password, query
    or anything else; "(hidden)" when it is not a URL we can read.

    env:NAME is shown as it is: the name, never the value.
    """
    if url.startswith(ENV_PREFIX):
        return url
    parts = _split(url)
    if parts is None:
        return HIDDEN
    user = f"{quote(unquote(parts.username), safe='')}@" if parts.username else ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme.lower()}://{user}{host}{port}{parts.path}"


def resolve_url(url: str) -> str:
    """The actual URL, reading env:NAME from the environment.

    Only variables whose names start with CREDITOKR_SOURCE_ may be read.
    """
    if not url.startswith(ENV_PREFIX):
        return url
    name = url.removeprefix(ENV_PREFIX)
    if not name.startswith(ENV_NAME_PREFIX) or not name.isidentifier():
        raise SourceError(
            f"env: may only name an environment variable whose name starts "
            f"with {ENV_NAME_PREFIX}, e.g. env:{ENV_NAME_PREFIX}LEDGER."
        )
    value = os.environ.get(name)
    if not value:
        raise SourceError(f"The environment variable {name} is not set.")
    return value


def _secrets(url: str) -> set[str]:
    """The password of `url` as written and as decoded, and the URL."""
    found = {url}
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password:
        found |= {password, unquote(password)}
    for key, value in parse_qsl(_query_of(url)):
        if key == "password" and value:
            found.add(value)
    return {s for s in found if s}


def _query_of(url: str) -> str:
    try:
        return urlsplit(url).query
    except ValueError:
        return ""


def _scrub(text: str, url: str) -> str:
    """`text` with `url` shown redacted and any password as ***."""
    text = text.replace(url, redact_url(url))
    for secret in sorted(_secrets(url), key=len, reverse=True):
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
    refused = sorted({n for n in _function_names(statement) if _is_refused(n)})
    if refused:
        raise SourceError(
            f"The query calls {', '.join(refused)}, which a source query may "
            "not use: such functions change settings or data, wait, read "
            "server files or run other SQL."
        )
    return query.strip().rstrip(";").strip()


def _function_names(statement: Any) -> list[str]:
    """The lower-case names of every function the statement calls."""
    names = []
    for node in statement.find_all(exp.Func):
        name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
        names.append(str(name).lower())
    return names


def _is_refused(name: str) -> bool:
    for pattern in _REFUSED_FUNCTIONS:
        if pattern.endswith("*"):
            if name.startswith(pattern[:-1]):
                return True
        elif name == pattern:
            return True
    return False


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
            _check_postgres_url(url)
            with _postgres(url, source, timeout) as opened:
                yield opened
        else:
            with _sqlite(url, source, timeout) as opened:
                yield opened
    except SourceError:
        # Our own messages never hold the URL; scrubbing them would only
        # garble words that happen to contain a short password.
        raise
    except ibis.common.exceptions.TableNotFound:
        raise SourceError(
            f"The database has no table or view named {source.table!r}. Check "
            "the spelling and the schema (schema.table)."
        ) from None
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
    if isinstance(
        exc, psycopg.errors.UndefinedTable | psycopg.errors.InvalidSchemaName
    ):
        return f"The database has no such table or schema: {text}"
    return f"The database refused the request: {text}"


def _check_postgres_url(url: str) -> None:
    """Refuse a URL we cannot read, with local-file settings, or pointing at
    the app's own database."""
    parts = _split(url)
    if parts is None:
        raise SourceError(
            "The database URL cannot be read; check the port (a number) and "
            "the form postgresql://user:password@host:5432/database."
        )
    extra = sorted({key for key, _ in parse_qsl(parts.query)} - _PG_PARAMS)
    if extra:
        raise SourceError(
            f"The database URL may not set {', '.join(extra)}; after '?' it "
            f"may only set {', '.join(sorted(_PG_PARAMS))}."
        )
    if _is_own_postgres(url):
        raise SourceError(OWN_DATABASE)


def _is_own_postgres(url: str) -> bool:
    own = settings.DATABASES["default"]
    if "postgresql" not in str(own.get("ENGINE", "")):
        return False
    try:
        given = conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return False
    name = str(given.get("dbname") or given.get("user") or "")
    port = str(given.get("port") or 5432)
    own_port = str(own.get("PORT") or 5432)
    if name != str(own.get("NAME") or "") or port != own_port:
        return False
    own_host = _host_key(str(own.get("HOST") or ""))
    hosts = str(given.get("host") or given.get("hostaddr") or "").split(",")
    return any(_host_key(h) == own_host for h in hosts)


def _host_key(host: str) -> str:
    """Host names that reach the same server on this machine become one."""
    host = host.strip().lower().strip("[]")
    if host in _LOCAL_HOSTS or host.startswith("/"):
        return "local"
    return host


class _GuardedConnection(psycopg.Connection[Any]):
    """A connection whose every transaction is read-only from its start
    and sets its own statement timeout.

    Ibis runs each statement in `transaction()`; the connection is not in
    autocommit and `read_only` is on, so psycopg opens each one with BEGIN
    READ ONLY. A query that changes the session's defaults cannot make a
    later transaction writable, and the timeout is set again in each
    transaction with SET LOCAL, so a query cannot lift it for later ones.
    """

    timeout_ms: int = int(DEFAULT_TIMEOUT * 1000)

    @contextmanager
    def transaction(
        self, savepoint_name: str | None = None, force_rollback: bool = False
    ) -> Iterator[psycopg.Transaction]:
        with super().transaction(savepoint_name, force_rollback) as tx:
            self.execute(f"SET LOCAL statement_timeout = {int(self.timeout_ms)}")
            yield tx


def _open_postgres(url: str, timeout: float) -> _GuardedConnection:
    con = _GuardedConnection.connect(url, autocommit=False, connect_timeout=10)
    con.timeout_ms = max(1, int(timeout * 1000))
    con.read_only = True
    with con.transaction():
        con.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    return con


@contextmanager
def _postgres(url: str, source: SqlSource, timeout: float) -> Iterator[_Open]:
    con = _open_postgres(url, timeout)
    try:
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
    with con.transaction(), con.cursor() as cur:
        cur.execute(f"SELECT * FROM ({query}) AS q LIMIT 0")  # noqa: S608
        description = cur.description or []
    schema = {d.name: _PG_TYPES.get(d.type_code, dt.string) for d in description}
    return backend.sql(query, schema=ibis.schema(schema))


def _table(backend: Any, name: str) -> Any:
    schema, _, table = name.rpartition(".")
    return backend.table(table, database=schema or None)


def sqlite_path(url: str) -> Path:
    """The SQLite file a sqlite:/// URL names, if sources may open it.

    The path is resolved (symbolic links and "..") and must lie inside
    CREDIT_DATA_SQLITE_DIR; relative paths are taken from that folder. The
    app's own database and everything else under VAR_DIR are refused unless
    that folder is itself inside VAR_DIR. The refusal reads the same
    whether or not the file exists.
    """
    folder = getattr(settings, "CREDIT_DATA_SQLITE_DIR", None)
    if not folder:
        raise SourceError(SQLITE_OFF)
    allowed = Path(folder).resolve()
    given = url.split(":///", 1)[1] if ":///" in url else ""
    if not given or "\x00" in given:
        raise SourceError(SQLITE_REFUSED)
    path = (allowed / given).resolve()
    if not path.is_relative_to(allowed) or path == allowed:
        raise SourceError(SQLITE_REFUSED)
    own = settings.DATABASES["default"]
    own_file = "sqlite" in str(own.get("ENGINE", "")) and own.get("NAME")
    if own_file and path == Path(str(own["NAME"])).resolve():
        raise SourceError(SQLITE_REFUSED)
    var_dir = getattr(settings, "VAR_DIR", None)
    if var_dir is not None:
        var = Path(var_dir).resolve()
        inside_var = allowed.is_relative_to(var) and allowed != var
        if path.is_relative_to(var) and not inside_var:
            raise SourceError(SQLITE_REFUSED)
    return path


@contextmanager
def _sqlite(url: str, source: SqlSource, timeout: float) -> Iterator[_Open]:
    path = sqlite_path(url)
    if not path.is_file():
        folder = Path(str(settings.CREDIT_DATA_SQLITE_DIR)).resolve()
        name = str(path.relative_to(folder))
        raise SourceError(
            f"There is no SQLite database named {name!r} in the SQLite sources folder."
        )
    uri = f"file:{quote(str(path))}?mode=ro"
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
