"""The DuckDB sandbox reads only its own files and stops slow queries."""

from __future__ import annotations

from datetime import date

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from creditokr.creditdata.engine.contract import Period
from creditokr.creditdata.engine.kpis import get_kpi
from creditokr.creditdata.engine.sandbox import QueryTimeout, open_files, run_kpi
from tests.creditdata.conftest import write_parquet


@pytest.fixture
def files(tmp_path):
    (tmp_path / "mine").mkdir()
    path = write_parquet(
        tmp_path / "mine",
        "account_snapshots",
        [{"account_id": "a", "as_of": "2026-01-31", "dpd": 45, "balance": 10}],
    )
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"secret": [1]}), other)
    return {"account_snapshots": path}, other


def _raw(tables):
    return tables["account_snapshots"]._find_backend().con


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM read_parquet('{other}')",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_parquet('http://127.0.0.1:9/x.parquet')",
        "SELECT * FROM glob('{folder}/*')",
        "COPY (SELECT 1) TO '{folder}/out.csv'",
        "ATTACH '{folder}/x.duckdb'",
        "INSTALL httpfs",
        "SET enable_external_access = true",
        "SET allowed_paths = ['/etc/passwd']",
    ],
)
def test_only_the_given_files_are_reachable(files, query):
    given, other = files

    with open_files(given) as tables:
        raw = _raw(tables)
        sql = query.format(other=other, folder=other.parent)
        with pytest.raises((duckdb.PermissionException, duckdb.InvalidInputException)):
            raw.execute(sql).fetchall()
        assert tables["account_snapshots"].count().execute() == 1
    assert not (other.parent / "out.csv").exists()


def test_slow_query_is_interrupted(files):
    given, _ = files

    slow = "SELECT count(*) FROM range(100000000000) a"

    with (
        pytest.raises(QueryTimeout, match=r"longer than 0\.3 seconds"),
        open_files(given, timeout=0.3) as tables,
    ):
        _raw(tables).execute(slow).fetchall()


def test_run_kpi(files):
    given, _ = files
    january = Period(date(2026, 1, 1), date(2026, 1, 31), "2026-01")

    [point] = run_kpi(get_kpi("delinquency_rate"), given, {}, [january])

    assert point.value == 100


def test_missing_file_is_refused(tmp_path):
    missing = {"receivables": tmp_path / "none.parquet"}

    with pytest.raises(FileNotFoundError, match="receivables data file"):
        open_files(missing).__enter__()
