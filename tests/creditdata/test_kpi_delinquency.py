"""Delinquency rate and DPD aging buckets over account snapshots."""

from __future__ import annotations

from datetime import date

import pytest

from creditokr.creditdata.engine.contract import Filters, Period
from creditokr.creditdata.engine.kpis import FilterError, get_kpi
from creditokr.creditdata.engine.periods import month_periods

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31), "2026-03")


def snap(account, as_of, dpd, balance, state=None, **extra):
    return {
        "account_id": account,
        "as_of": as_of,
        "dpd": dpd,
        "balance": balance,
        "state": state,
        **extra,
    }


# March 31 snapshot (the mid-month one must be ignored):
#   a current 1,000; b dpd 29 500; c dpd 30 2,000; d dpd 95 1,500;
#   e charged off dpd 200 4,000; f paid off 0; g open, state empty,
#   dpd 0, balance -250 (a credit balance).
SNAPSHOTS = [
    snap("a", "2026-03-15", 90, 1_000, "open"),
    snap("a", "2026-03-31", 0, 1_000, "open"),
    snap("b", "2026-03-31", 29, 500, "open"),
    snap("c", "2026-03-31", 30, 2_000, "open"),
    snap("d", "2026-03-31", 95, 1_500, "open"),
    snap("e", "2026-03-31", 200, 4_000, "charged_off"),
    snap("f", "2026-03-31", 0, 0, "paid_off"),
    snap("g", "2026-03-31", 0, -250),
]


def test_count_basis_includes_day_k(duckdb_tables):
    tables = duckdb_tables({"account_snapshots": SNAPSHOTS})

    [point] = get_kpi("delinquency_rate").series(tables, {}, [MARCH])

    # open accounts a, b, c, d, g = 5; c (30) and d (95) are 30+.
    assert (point.numerator, point.denominator) == (2, 5)
    assert point.value == pytest.approx(40)
    assert point.detail["as_of"] == "2026-03-31"
    assert point.rows == 7


def test_balance_basis_keeps_negative_balances(duckdb_tables):
    tables = duckdb_tables({"account_snapshots": SNAPSHOTS})

    [point] = get_kpi("delinquency_rate").series(tables, {"basis": "balance"}, [MARCH])

    # (2,000 + 1,500) / (1,000 + 500 + 2,000 + 1,500 - 250)
    assert point.denominator == 4_750
    assert point.value == pytest.approx(3_500 / 4_750 * 100)


def test_denominator_with_charged_off_accounts(duckdb_tables):
    tables = duckdb_tables({"account_snapshots": SNAPSHOTS})

    [point] = get_kpi("delinquency_rate").series(
        tables, {"denominator": "including_charged_off", "threshold": "90"}, [MARCH]
    )

    # active: a, b, c, d, e, g (paid-off f never counts); 90+: d, e
    assert (point.numerator, point.denominator) == (2, 6)


def test_detail_gives_standard_thresholds(duckdb_tables):
    tables = duckdb_tables({"account_snapshots": SNAPSHOTS})

    [point] = get_kpi("delinquency_rate").series(tables, {"threshold": 31}, [MARCH])

    assert point.value == pytest.approx(20)  # only d
    assert point.detail["by_threshold"]["30+"]["count_rate"] == pytest.approx(40)
    assert point.detail["by_threshold"]["90+"]["balance_rate"] == pytest.approx(
        1_500 / 4_750 * 100
    )
    assert point.detail["by_threshold"]["60+"]["count_rate"] == pytest.approx(20)


def test_empty_period_and_zero_balance(duckdb_tables):
    rows = [snap("z", "2026-04-30", 40, 0, "open")]
    tables = duckdb_tables({"account_snapshots": [*SNAPSHOTS, *rows]})
    april = Period(date(2026, 4, 1), date(2026, 4, 30), "2026-04")
    may = Period(date(2026, 5, 1), date(2026, 5, 31), "2026-05")

    points = get_kpi("delinquency_rate").series(
        tables, {"basis": "balance"}, [april, may]
    )

    assert points[0].value is None
    assert "zero or negative" in points[0].note
    assert points[1].value is None
    assert points[1].note == "no snapshot in this period"


def test_no_active_accounts(duckdb_tables):
    tables = duckdb_tables(
        {"account_snapshots": [snap("f", "2026-03-31", 0, 0, "paid_off")]}
    )

    [point] = get_kpi("delinquency_rate").series(tables, {}, [MARCH])

    assert point.value is None
    assert point.note == "no active accounts at the snapshot"


def test_filters_by_segment_and_product(duckdb_tables):
    rows = [
        snap("a", "2026-03-31", 45, 100, segment="retail", product="card"),
        snap("b", "2026-03-31", 0, 100, segment="retail", product="loan"),
        snap("c", "2026-03-31", 0, 100, segment="retail", product="card"),
        snap("d", "2026-03-31", 60, 100, segment="sme", product="card"),
    ]
    tables = duckdb_tables({"account_snapshots": rows})
    kpi = get_kpi("delinquency_rate")

    [retail_cards] = kpi.series(
        tables, {}, [MARCH], Filters(segments=("retail",), products=("card",))
    )
    [cards] = kpi.series(tables, {}, [MARCH], Filters(products=("card",)))

    assert (retail_cards.numerator, retail_cards.denominator) == (1, 2)
    assert (cards.numerator, cards.denominator) == (2, 3)


def test_filter_needs_the_column(duckdb_tables):
    tables = duckdb_tables({"account_snapshots": SNAPSHOTS})

    with pytest.raises(FilterError, match="account_snapshots dataset has no segment"):
        get_kpi("delinquency_rate").series(
            tables, {}, [MARCH], Filters(segments=("x",))
        )


def test_aging_buckets(duckdb_tables):
    tables = duckdb_tables({"account_snapshots": SNAPSHOTS})

    [point] = get_kpi("aging_buckets").series(tables, {"bucket": "1-29"}, [MARCH])

    counts = {name: b["count"] for name, b in point.detail["buckets"].items()}
    assert counts == {
        "current": 2,
        "1-29": 1,
        "30-59": 1,
        "60-89": 0,
        "90-119": 1,
        "120+": 0,
    }
    assert point.value == pytest.approx(20)
    assert point.detail["buckets"]["current"]["balance"] == 750


def test_aging_buckets_by_balance_with_charged_off(duckdb_tables):
    tables = duckdb_tables({"account_snapshots": SNAPSHOTS})

    [point] = get_kpi("aging_buckets").series(
        tables,
        {"bucket": "120+", "basis": "balance", "denominator": "including_charged_off"},
        [MARCH],
    )

    # 4,000 charged off at 200 DPD / (4,750 + 4,000)
    assert point.value == pytest.approx(4_000 / 8_750 * 100)


def test_series_uses_each_months_last_snapshot(duckdb_tables):
    rows = [
        snap("a", "2026-01-31", 35, 10, "open"),
        snap("b", "2026-01-31", 0, 10, "open"),
        snap("a", "2026-02-27", 0, 10, "open"),
        snap("b", "2026-02-27", 0, 10, "open"),
    ]
    tables = duckdb_tables({"account_snapshots": rows})
    periods = month_periods(date(2026, 1, 1), date(2026, 2, 28))

    points = get_kpi("delinquency_rate").series(tables, {}, periods)

    assert [p.value for p in points] == [pytest.approx(50), pytest.approx(0)]
    assert points[1].detail["as_of"] == "2026-02-27"
