"""Recovery rate by cohort and by calendar period, gross and net."""

from __future__ import annotations

from datetime import date

import pytest

from creditokr.creditdata.engine.contract import Filters
from creditokr.creditdata.engine.kpis import get_kpi
from creditokr.creditdata.engine.periods import month_periods

PERIODS = month_periods(date(2025, 1, 1), date(2025, 3, 31))


def ev(account, day, kind, amount, fee=None, segment="retail"):
    return {
        "account_id": account,
        "event_date": day,
        "kind": kind,
        "amount": amount,
        "fee": fee,
        "segment": segment,
    }


# a charged off 1,000 on Jan 31 2025; b 4,000 on Feb 10; c 500 (sme) Feb 20.
# Recoveries: a 100 in Feb (fee 20), a 50 on Jan 31 2026 (12 months later,
# counted), a 70 on Feb 1 2026 (too late for 12 months); b 300 in Feb,
# b debt sale 800 in Mar (fee 0); c 200 in Mar.
EVENTS = [
    ev("a", "2025-01-31", "charge_off", 1_000),
    ev("a", "2025-02-05", "recovery", 100, 20),
    ev("a", "2026-01-31", "recovery", 50),
    ev("a", "2026-02-01", "recovery", 70),
    ev("b", "2025-02-10", "charge_off", 4_000),
    ev("b", "2025-02-25", "recovery", 300),
    ev("b", "2025-03-15", "debt_sale", 800, 0),
    ev("c", "2025-02-20", "charge_off", 500, segment="sme"),
    ev("c", "2025-03-01", "recovery", 200, segment="sme"),
]


def test_cohort_view_counts_recoveries_up_to_the_age(duckdb_tables):
    tables = duckdb_tables({"recoveries": EVENTS})

    jan, feb, mar = get_kpi("recovery_rate").series(tables, {}, PERIODS)

    # January cohort (a): 100 + 50 of 1,000
    assert jan.value == pytest.approx(15)
    # February cohort (b, c): 300 + 800 + 200 of 4,500
    assert feb.value == pytest.approx(1_300 / 4_500 * 100)
    assert feb.detail["debt_sales"] == 800
    assert feb.detail["recoveries"] == 500
    assert mar.value is None
    assert mar.note == "no charge-offs in this period"


def test_cohort_age_setting(duckdb_tables):
    tables = duckdb_tables({"recoveries": EVENTS})

    [jan, *_] = get_kpi("recovery_rate").series(tables, {"max_age_months": 1}, PERIODS)

    # within one month of Jan 31: only the 100 of Feb 5
    assert jan.value == pytest.approx(10)


def test_net_of_fees(duckdb_tables):
    tables = duckdb_tables({"recoveries": EVENTS})

    [jan, *_] = get_kpi("recovery_rate").series(tables, {"amounts": "net"}, PERIODS)

    assert jan.value == pytest.approx((150 - 20) / 1_000 * 100)
    assert jan.detail["fees"] == 20


def test_calendar_view(duckdb_tables):
    tables = duckdb_tables({"recoveries": EVENTS})

    jan, feb, mar = get_kpi("recovery_rate").series(
        tables, {"view": "calendar"}, PERIODS
    )

    # Jan: 1,000 charged off, nothing recovered in January.
    assert jan.value == 0
    # Feb: recoveries 100 + 300 / charge-offs 4,000 + 500
    assert feb.value == pytest.approx(400 / 4_500 * 100)
    # Mar: recoveries but no charge-offs
    assert mar.value is None
    assert mar.detail["debt_sales"] == 800


def test_filter_by_segment(duckdb_tables):
    tables = duckdb_tables({"recoveries": EVENTS})

    [_, feb, _] = get_kpi("recovery_rate").series(
        tables, {}, PERIODS, Filters(segments=("sme",))
    )

    assert feb.value == pytest.approx(40)
