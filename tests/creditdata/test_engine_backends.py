"""The same KPI code gives the same figures on DuckDB, SQLite and
PostgreSQL, proving that the queries push down to each backend."""

from __future__ import annotations

import math
from datetime import date

import pytest

from creditokr.creditdata.engine.kpis import get_kpi
from creditokr.creditdata.engine.kpis.base import NO_FILTERS
from creditokr.creditdata.engine.periods import month_periods, quarter_periods
from tests.creditdata import (
    test_kpi_delinquency as delinquency,
)
from tests.creditdata import (
    test_kpi_policy as policy,
)
from tests.creditdata import (
    test_kpi_receivables as receivables,
)
from tests.creditdata import (
    test_kpi_recovery as recovery,
)
from tests.creditdata import (
    test_kpi_transitions as transitions,
)
from tests.creditdata import (
    test_kpi_turnaround as turnaround,
)

TURNAROUND = [
    *turnaround.TEN,
    *turnaround.app("fri", "2026-06-05T16:00", "2026-06-08T10:00"),
    turnaround.event("open", "received", "2026-06-10T09:00"),
]
MONTHS_2026 = month_periods(date(2026, 1, 1), date(2026, 7, 31))

CASES = [
    (
        "delinquency_rate",
        {"basis": "balance"},
        "account_snapshots",
        delinquency.SNAPSHOTS,
        MONTHS_2026,
    ),
    ("aging_buckets", {}, "account_snapshots", delinquency.SNAPSHOTS, MONTHS_2026),
    (
        "roll_rate",
        {"to_bucket": "worse"},
        "account_snapshots",
        transitions.ROWS,
        transitions.PERIODS,
    ),
    (
        "cure_rate",
        {"sustained_months": 2},
        "account_snapshots",
        transitions.ROWS,
        transitions.PERIODS,
    ),
    (
        "dso",
        {"method": "quarterly"},
        "receivables",
        receivables.QUARTER_INVOICES,
        quarter_periods(date(2026, 1, 1), date(2026, 6, 30), 1),
    ),
    (
        "cei",
        {},
        "receivables",
        receivables.QUARTER_INVOICES,
        quarter_periods(date(2026, 1, 1), date(2026, 3, 31), 1),
    ),
    ("add", {}, "receivables", receivables.ADD_INVOICES, MONTHS_2026),
    (
        "receivables_aging",
        {"age_from": "invoice_date"},
        "receivables",
        receivables.AGING,
        MONTHS_2026,
    ),
    (
        "approval_turnaround",
        {"statistic": "p90", "day_basis": "business"},
        "application_events",
        TURNAROUND,
        MONTHS_2026,
    ),
    (
        "approval_turnaround",
        {"statistic": "median"},
        "application_events",
        TURNAROUND,
        MONTHS_2026,
    ),
    (
        "recovery_rate",
        {"amounts": "net"},
        "recoveries",
        recovery.EVENTS,
        recovery.PERIODS,
    ),
    (
        "recovery_rate",
        {"view": "calendar"},
        "recoveries",
        recovery.EVENTS,
        recovery.PERIODS,
    ),
    ("exception_rate", {}, "policy_checks", policy.CHECKS, MONTHS_2026),
]


def _figures(points):
    return [
        (
            p.period.label,
            None if p.value is None else round(p.value, 9),
            p.numerator,
            p.denominator,
            p.rows,
            p.note,
            _rounded(p.detail),
        )
        for p in points
    ]


def _rounded(value):
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, float) and math.isfinite(value):
        return round(value, 9)
    return value


def _compute(loader, key, settings, dataset, rows, periods, filters=NO_FILTERS):
    tables = loader({dataset: rows})
    return _figures(get_kpi(key).series(tables, settings, periods, filters))


@pytest.mark.parametrize(("key", "kpi_settings", "dataset", "rows", "periods"), CASES)
def test_sqlite_matches_duckdb(
    duckdb_tables, sqlite_tables, key, kpi_settings, dataset, rows, periods
):
    expected = _compute(duckdb_tables, key, kpi_settings, dataset, rows, periods)

    assert (
        _compute(sqlite_tables, key, kpi_settings, dataset, rows, periods) == expected
    )
    assert any(figure[1] is not None for figure in expected)


@pytest.mark.parametrize(("key", "kpi_settings", "dataset", "rows", "periods"), CASES)
def test_postgres_matches_duckdb(
    duckdb_tables, postgres_tables, key, kpi_settings, dataset, rows, periods
):
    expected = _compute(duckdb_tables, key, kpi_settings, dataset, rows, periods)

    assert (
        _compute(postgres_tables, key, kpi_settings, dataset, rows, periods) == expected
    )


def test_payments_and_filters_push_down(duckdb_tables, sqlite_tables, postgres_tables):
    datasets = receivables.COUNT_BACK
    periods = month_periods(date(2026, 4, 1), date(2026, 7, 31))
    settings = {"method": "count_back"}

    results = [
        _figures(get_kpi("dso").series(loader(datasets), settings, periods))
        for loader in (duckdb_tables, sqlite_tables, postgres_tables)
    ]

    assert results[0] == results[1] == results[2]
    assert results[0][2][1] == pytest.approx(61 + 32_000 / 70_000 * 30)
