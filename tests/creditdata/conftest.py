"""Canonical tables for the credit data tests, on DuckDB, SQLite and
PostgreSQL.

Tests describe data as lists of plain rows keyed by canonical column name;
the fixtures here turn them into Ibis tables on the chosen backend. Shared
by the engine and import tests: add helpers, keep existing ones stable.
"""

from __future__ import annotations

import socket
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from creditokr.creditdata.canonical import DATASETS, FieldType
from creditokr.creditdata.engine.sandbox import open_files

Rows = list[dict[str, Any]]
Loader = Callable[[Mapping[str, Rows]], Mapping[str, Any]]

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"

ARROW_TYPES = {
    FieldType.STRING: pa.string(),
    FieldType.CHOICE: pa.string(),
    FieldType.DATE: pa.date32(),
    FieldType.TIMESTAMP: pa.timestamp("us"),
    FieldType.INTEGER: pa.int64(),
    FieldType.DECIMAL: pa.decimal128(18, 4),
    FieldType.BOOLEAN: pa.bool_(),
}
SQL_TYPES = {
    FieldType.STRING: "TEXT",
    FieldType.CHOICE: "TEXT",
    FieldType.DATE: "DATE",
    FieldType.TIMESTAMP: "TIMESTAMP",
    FieldType.INTEGER: "INTEGER",
    FieldType.DECIMAL: "DECIMAL(18, 4)",
    FieldType.BOOLEAN: "BOOLEAN",
}


def columns_of(key: str, rows: Rows) -> list[str]:
    """Required columns plus any optional column used by some row."""
    used = {name for row in rows for name in row}
    return [f.name for f in DATASETS[key].fields if f.required or f.name in used]


def _value(kind: FieldType, value: Any) -> Any:
    if value is None:
        return None
    if kind is FieldType.DECIMAL:
        return Decimal(str(value))
    if kind is FieldType.DATE and isinstance(value, str):
        return date.fromisoformat(value)
    if kind is FieldType.TIMESTAMP and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def arrow_table(key: str, rows: Rows) -> pa.Table:
    """Rows as an Arrow table with the canonical column types."""
    dataset = DATASETS[key]
    names = columns_of(key, rows)
    arrays = {}
    for name in names:
        kind = dataset.field(name).type
        values = [_value(kind, row.get(name)) for row in rows]
        arrays[name] = pa.array(values, type=ARROW_TYPES[kind])
    return pa.table(arrays)


def write_parquet(folder: Path, key: str, rows: Rows) -> Path:
    path = folder / f"{key}.parquet"
    pq.write_table(arrow_table(key, rows), path)
    return path


def _sql_rows(key: str, rows: Rows, names: list[str]) -> list[tuple[Any, ...]]:
    dataset = DATASETS[key]
    return [
        tuple(_value(dataset.field(n).type, row.get(n)) for n in names) for row in rows
    ]


def _create_sql(key: str, names: list[str], table: str) -> str:
    dataset = DATASETS[key]
    columns = ", ".join(f"{n} {SQL_TYPES[dataset.field(n).type]}" for n in names)
    return f"CREATE TABLE {table} ({columns})"


def postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def duckdb_tables(tmp_path: Path) -> Iterator[Loader]:
    """Load rows into Parquet files and open them in the sandbox."""
    with ExitStack() as stack:

        def load(datasets: Mapping[str, Rows]) -> Mapping[str, Any]:
            folder = tmp_path / uuid.uuid4().hex
            folder.mkdir()
            files = {k: write_parquet(folder, k, rows) for k, rows in datasets.items()}
            return stack.enter_context(open_files(files, timeout=30))

        yield load


@pytest.fixture
def sqlite_tables(tmp_path: Path) -> Iterator[Loader]:
    """Load rows into a temporary SQLite file, read through Ibis."""
    path = tmp_path / "credit.sqlite"
    connections: list[Any] = []

    def load(datasets: Mapping[str, Rows]) -> Mapping[str, Any]:
        raw = sqlite3.connect(path)
        suffix = uuid.uuid4().hex[:8]
        for key, rows in datasets.items():
            names = columns_of(key, rows)
            table = f"{key}_{suffix}"
            raw.execute(_create_sql(key, names, table))
            marks = ", ".join("?" for _ in names)
            raw.executemany(
                f"INSERT INTO {table} VALUES ({marks})",  # noqa: S608
                [
                    tuple(float(v) if isinstance(v, Decimal) else v for v in values)
                    for values in _sql_rows(key, rows, names)
                ],
            )
        raw.commit()
        raw.close()
        con = ibis.sqlite.connect(path)
        connections.append(con)
        return {k: con.table(f"{k}_{suffix}") for k in datasets}

    yield load
    for con in connections:
        con.disconnect()


@pytest.fixture
def postgres_tables() -> Iterator[Loader]:
    """Load rows into a uniquely named PostgreSQL schema, dropped after."""
    if not postgres_reachable():
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    import psycopg

    schema = f"creditokr_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(POSTGRES_URL, autocommit=True)
    admin.execute(f"CREATE SCHEMA {schema}")
    con = ibis.postgres.connect(
        host="127.0.0.1", port=5432, user="postgres", database="test"
    )

    def load(datasets: Mapping[str, Rows]) -> Mapping[str, Any]:
        suffix = uuid.uuid4().hex[:8]
        for key, rows in datasets.items():
            names = columns_of(key, rows)
            table = f"{schema}.{key}_{suffix}"
            admin.execute(_create_sql(key, names, table))
            marks = ", ".join("%s" for _ in names)
            with admin.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {table} VALUES ({marks})",  # noqa: S608
                    _sql_rows(key, rows, names),
                )
        return {k: con.table(f"{k}_{suffix}", database=schema) for k in datasets}

    try:
        yield load
    finally:
        con.disconnect()
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()
