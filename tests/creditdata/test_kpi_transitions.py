"""Roll rates and cure rates between monthly snapshots."""

from __future__ import annotations

from datetime import date

import pytest

from creditokr.creditdata.engine.kpis import get_kpi
from creditokr.creditdata.engine.periods import month_periods

PERIODS = month_periods(date(2026, 1, 1), date(2026, 4, 30))


def snap(account, as_of, dpd, state="open"):
    return {
        "account_id": account,
        "as_of": as_of,
        "dpd": dpd,
        "balance": 100,
        "state": state,
    }


# Six accounts, monthly snapshots Jan-Apr 2026.
#   a: 35 -> 65 -> 95 -> 125   (rolls every month)
#   b: 40 -> 0 -> 0 -> 0        (cures in Feb and stays current)
#   c: 45 -> 0 -> 31 -> 0       (cures in Feb, late again in Mar)
#   d: 50 -> paid off in Feb    (end state)
#   e: 55 -> charged off in Feb (end state)
#   f: 33 -> missing from Feb on
ROWS = [
    snap("a", "2026-01-31", 35),
    snap("a", "2026-02-28", 65),
    snap("a", "2026-03-31", 95),
    snap("a", "2026-04-30", 125),
    snap("b", "2026-01-31", 40),
    snap("b", "2026-02-28", 0),
    snap("b", "2026-03-31", 0),
    snap("b", "2026-04-30", 0),
    snap("c", "2026-01-31", 45),
    snap("c", "2026-02-28", 0),
    snap("c", "2026-03-31", 31),
    snap("c", "2026-04-30", 0),
    snap("d", "2026-01-31", 50),
    snap("d", "2026-02-28", 0, "paid_off"),
    snap("d", "2026-03-31", 0, "paid_off"),
    snap("e", "2026-01-31", 55),
    snap("e", "2026-02-28", 170, "charged_off"),
    snap("f", "2026-01-31", 33),
]


def test_roll_rate_keeps_end_states(duckdb_tables):
    tables = duckdb_tables({"account_snapshots": ROWS})

    points = get_kpi("roll_rate").series(tables, {}, PERIODS)

    assert points[0].value is None  # no snapshot before January
    february = points[1]
    # All six were 30-59 in January; only a is 60-89 in February.
    assert (february.numerator, february.denominator) == (1, 6)
    assert february.detail["matrix"]["30-59"] == {
        "current": 2,
        "1-29": 0,
        "30-59": 0,
        "60-89": 1,
        "90-119": 0,
        "120+": 0,
        "paid_off": 1,
        "charged_off": 1,
        "missing": 1,
    }
    # March: from 30-59 nobody (c was current in Feb).
    assert points[2].value is None
    assert "no accounts in 30-59" in points[2].note


def test_roll_rate_to_worse_counts_charge_offs(duckdb_tables):
    tables = duckdb_tables({"account_snapshots": ROWS})

    points = get_kpi("roll_rate").series(
        tables, {"from_bucket": "30-59", "to_bucket": "worse"}, PERIODS
    )

    # a rolled to 60-89 and e charged off: 2 of 6
    assert points[1].value == pytest.approx(200 / 6)


def test_roll_rate_from_current(duckdb_tables):
    tables = duckdb_tables({"account_snapshots": ROWS})

    points = get_kpi("roll_rate").series(
        tables, {"from_bucket": "current", "to_bucket": "30-59"}, PERIODS
    )

    # Feb -> Mar: current b, c; c went to 30-59.
    assert (points[2].numerator, points[2].denominator) == (1, 2)


def test_cure_rate(duckdb_tables):
    tables = duckdb_tables({"account_snapshots": ROWS})

    points = get_kpi("cure_rate").series(tables, {}, PERIODS)

    # Feb: b and c cured out of six delinquent in January.
    assert (points[1].numerator, points[1].denominator) == (2, 6)
    assert points[1].detail["outcome"] == {
        "current": 2,
        "60-89": 1,
        "paid_off": 1,
        "charged_off": 1,
        "missing": 1,
    }
    # Apr: delinquent in Mar were a (95) and c (31); c is current again.
    assert (points[3].numerator, points[3].denominator) == (1, 2)


def test_sustained_cure_needs_consecutive_current_months(duckdb_tables):
    tables = duckdb_tables({"account_snapshots": ROWS})

    points = get_kpi("cure_rate").series(tables, {"sustained_months": 2}, PERIODS)

    # March: delinquent in January (6 accounts); current in both Feb and
    # Mar: only b (c relapsed in Mar).
    assert points[1].value is None
    assert (points[2].numerator, points[2].denominator) == (1, 6)


def test_cure_threshold_between_bucket_edges(duckdb_tables):
    tables = duckdb_tables({"account_snapshots": ROWS})

    points = get_kpi("cure_rate").series(tables, {"delinquent_from": 45}, PERIODS)

    # January accounts at 45+: c, d, e; only c is current in February.
    assert (points[1].numerator, points[1].denominator) == (1, 3)
