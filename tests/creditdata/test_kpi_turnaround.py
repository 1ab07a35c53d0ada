"""Credit approval turnaround: statistics, day bases and pending work."""

from __future__ import annotations

from datetime import date

import pytest

from creditokr.creditdata.engine.contract import Period
from creditokr.creditdata.engine.kpis import get_kpi

JUNE = Period(date(2026, 6, 1), date(2026, 6, 30), "2026-06")
JULY = Period(date(2026, 7, 1), date(2026, 7, 31), "2026-07")


def event(app, name, at, decision=None):
    return {
        "application_id": app,
        "event": name,
        "occurred_at": at,
        "decision": decision,
    }


def app(number, received, decided, decision="approved"):
    return [
        event(number, "received", received),
        event(number, "decision", decided, decision),
    ]


# Durations in calendar days (hours / 24): 1, 2, 3, ..., 10, all decided in
# June 2026 (received on June 1 at 09:00 plus n days later).
TEN = [
    row
    for n in range(1, 11)
    for row in app(f"a{n}", "2026-06-01T09:00", f"2026-06-{1 + n:02d}T09:00")
]


@pytest.mark.parametrize(
    ("statistic", "expected"),
    [
        ("mean", 5.5),
        # type 7: h = (10 - 1) x 0.5 = 4.5 -> between 5 and 6
        ("median", 5.5),
        # type 7: h = (10 - 1) x 0.9 = 8.1 -> 9 + 0.1 x (10 - 9)
        ("p90", 9.1),
    ],
)
def test_statistics_use_type_seven_percentiles(duckdb_tables, statistic, expected):
    tables = duckdb_tables({"application_events": TEN})

    [point] = get_kpi("approval_turnaround").series(
        tables, {"statistic": statistic}, [JUNE]
    )

    assert point.value == pytest.approx(expected)
    assert point.rows == 10


def test_p90_of_odd_sized_sample(duckdb_tables):
    # durations 1, 2, 4 hours... in days: 0.5, 1, 3 -> h = 2 x 0.9 = 1.8
    rows = [
        *app("x", "2026-06-01T00:00", "2026-06-01T12:00"),
        *app("y", "2026-06-02T00:00", "2026-06-03T00:00"),
        *app("z", "2026-06-03T00:00", "2026-06-06T00:00"),
    ]
    tables = duckdb_tables({"application_events": rows})

    [point] = get_kpi("approval_turnaround").series(
        tables, {"statistic": "p90"}, [JUNE]
    )

    assert point.value == pytest.approx(1 + 0.8 * (3 - 1))
    assert point.detail["median"] == pytest.approx(1)


def test_business_days_skip_the_weekend(duckdb_tables):
    # Friday 5 June 2026 -> Monday 8 June: 3 calendar days, 1 business day.
    # Saturday 6 June -> Monday 8 June: 1 business day (Monday).
    # Monday 8 June 17:00 -> Monday 8 June 18:00: 0 business days.
    rows = [
        *app("fri", "2026-06-05T16:00", "2026-06-08T10:00"),
        *app("sat", "2026-06-06T10:00", "2026-06-08T10:00"),
        *app("mon", "2026-06-08T17:00", "2026-06-08T18:00"),
        *app("2wk", "2026-06-01T09:00", "2026-06-15T09:00"),
    ]
    tables = duckdb_tables({"application_events": rows})
    kpi = get_kpi("approval_turnaround")

    [business] = kpi.series(
        tables, {"day_basis": "business", "statistic": "mean"}, [JUNE]
    )
    [calendar] = kpi.series(tables, {"statistic": "mean"}, [JUNE])

    # business: 1 + 1 + 0 + 10 (two full weeks)
    assert business.value == pytest.approx(12 / 4)
    # calendar: 18/24 + 2 + 1/24 + 14 days
    assert calendar.value == pytest.approx((2 + 18 / 24 + 2 + 1 / 24 + 14) / 4)


def test_period_is_the_end_event_date(duckdb_tables):
    rows = [
        *app("june", "2026-06-20T09:00", "2026-06-30T23:59"),
        *app("july", "2026-06-25T09:00", "2026-07-01T00:00"),
    ]
    tables = duckdb_tables({"application_events": rows})

    points = get_kpi("approval_turnaround").series(
        tables, {"statistic": "mean"}, [JUNE, JULY]
    )

    assert [p.rows for p in points] == [1, 1]
    assert points[1].value == pytest.approx(5 + 15 / 24)


def test_start_event_complete_and_end_event_funded(duckdb_tables):
    rows = [
        event("a", "received", "2026-06-01T00:00"),
        event("a", "complete", "2026-06-03T00:00"),
        event("a", "decision", "2026-06-04T00:00", "approved"),
        event("a", "funded", "2026-06-10T00:00"),
        # declined: never funded, so not pending either
        event("b", "complete", "2026-06-03T00:00"),
        event("b", "decision", "2026-06-04T00:00", "declined"),
        # approved but not funded yet: pending at June 30
        event("c", "complete", "2026-06-20T00:00"),
        event("c", "decision", "2026-06-22T00:00", "approved"),
    ]
    tables = duckdb_tables({"application_events": rows})

    [point] = get_kpi("approval_turnaround").series(
        tables,
        {"start_event": "complete", "end_event": "funded", "statistic": "mean"},
        [JUNE],
    )

    assert point.value == pytest.approx(7)
    assert point.detail["pending"] == 1
    assert point.detail["pending_longer"] == 1  # open 11 days > 5


def test_pending_applications_are_reported(duckdb_tables):
    rows = [
        *app("done", "2026-06-01T09:00", "2026-06-02T09:00"),
        event("old", "received", "2026-06-10T09:00"),
        event("new", "received", "2026-06-29T09:00"),
        event("gone", "received", "2026-06-02T09:00"),
        event("gone", "withdrawn", "2026-06-05T09:00"),
        # decided in July: still pending at the end of June
        *app("later", "2026-06-28T09:00", "2026-07-02T09:00"),
    ]
    tables = duckdb_tables({"application_events": rows})

    [june, july] = get_kpi("approval_turnaround").series(
        tables, {"open_longer_than": 3}, [JUNE, JULY]
    )

    # Pending at June 30: old (20.6 days), new (1.6), later (2.6).
    assert june.detail["pending"] == 3
    assert june.detail["pending_longer"] == 1
    assert june.detail["pending_longer_share"] == pytest.approx(100 / 3)
    assert july.detail["pending"] == 2
    assert july.rows == 1


def test_period_without_decisions(duckdb_tables):
    tables = duckdb_tables({"application_events": TEN})

    [point] = get_kpi("approval_turnaround").series(tables, {}, [JULY])

    assert point.value is None
    assert point.note == "no applications ended in this period"
