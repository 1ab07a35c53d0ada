"""DSO, Best Possible DSO, ADD, CEI and receivables aging.

The worked examples come from docs credit-kpis.md; each fixture below
builds invoices whose balances reproduce the published inputs.
"""

from __future__ import annotations

from datetime import date

import pytest

from creditokr.creditdata.engine.contract import Filters, Period
from creditokr.creditdata.engine.kpis import FilterError, KPIError, get_kpi
from creditokr.creditdata.engine.kpis.receivables import count_back_days
from creditokr.creditdata.engine.periods import month_periods

Q1_2026 = Period(date(2026, 1, 1), date(2026, 3, 31), "Q1")
JUNE = Period(date(2026, 6, 1), date(2026, 6, 30), "2026-06")


def invoice(number, issued, due, amount, settled=None, **extra):
    return {
        "invoice_id": number,
        "customer_id": "C1",
        "invoice_date": issued,
        "due_date": due,
        "amount": amount,
        "settled_date": settled,
        **extra,
    }


# Published quarter: begin AR 12,327,157; month-end AR 16,935,357 /
# 17,936,658 / 13,663,598; sales 47,881,064; end current AR 7,846,547.
#   Dec 31: A (12,327,157)                                = 12,327,157
#   Jan 31: A + B (4,608,200)                             = 16,935,357
#   Feb 28: B + C (13,328,458), A settled in Feb          = 17,936,658
#   Mar 31: D (5,817,051, overdue) + E (7,846,547, due Apr) = 13,663,598
#   sales: B + C + D + E + F (16,280,808 settled in Jan)  = 47,881,064
QUARTER_INVOICES = [
    invoice("A", "2025-12-10", "2026-01-09", 12_327_157, "2026-02-15"),
    invoice("B", "2026-01-06", "2026-02-05", 4_608_200, "2026-03-10"),
    invoice("F", "2026-01-10", "2026-02-09", 16_280_808, "2026-01-20"),
    invoice("C", "2026-02-03", "2026-03-05", 13_328_458, "2026-03-20"),
    invoice("D", "2026-03-01", "2026-03-15", 5_817_051, "2026-04-30"),
    invoice("E", "2026-03-25", "2026-04-24", 7_846_547),
]


def test_quarterly_dso_matches_the_published_example(duckdb_tables):
    tables = duckdb_tables({"receivables": QUARTER_INVOICES})

    [point] = get_kpi("dso").series(tables, {"method": "quarterly"}, [Q1_2026])

    # (16,935,357 + 17,936,658 + 13,663,598) x 30 / 47,881,064 = 30.41
    assert point.value == pytest.approx(30.41, abs=0.005)
    assert point.detail["credit_sales"] == 47_881_064


def test_cei_with_n_three_matches_the_published_example(duckdb_tables):
    tables = duckdb_tables({"receivables": QUARTER_INVOICES})

    [point] = get_kpi("cei").series(tables, {}, [Q1_2026])

    assert point.detail["begin_ar"] == 12_327_157
    assert point.detail["end_ar"] == 13_663_598
    assert point.detail["end_current_ar"] == 7_846_547
    assert point.detail["n"] == 3
    assert point.value == pytest.approx(71.54, abs=0.005)


# Second CEI example: begin 6,200; sales 10,890; end 6,340; end current
# 3,590 -> 55.93 with N = 3, 79.63 when sales are not divided.
SMALL_CEI = [
    invoice("old", "2025-12-01", "2025-12-31", 6_200, "2026-01-15"),
    invoice("paid", "2026-01-05", "2026-02-04", 4_550, "2026-02-01"),
    invoice("late", "2026-02-01", "2026-03-01", 2_750),
    invoice("new", "2026-03-20", "2026-04-19", 3_590),
]


@pytest.mark.parametrize(("months", "expected"), [(0, 55.93), (3, 55.93), (1, 79.63)])
def test_cei_divisor_is_explicit(duckdb_tables, months, expected):
    tables = duckdb_tables({"receivables": SMALL_CEI})

    [point] = get_kpi("cei").series(tables, {"months": months}, [Q1_2026])

    assert point.detail["credit_sales"] == 10_890
    assert point.detail["end_ar"] == 6_340
    assert point.value == pytest.approx(expected, abs=0.005)


def test_cei_of_a_period_with_no_sales_and_nothing_open_is_undefined(
    duckdb_tables,
):
    """Where the data ends: "late" and "new" (2,750 + 3,590) are paid in
    May, nothing is invoiced after March. Q2 then has no credit sales and
    nothing open at its end (no rows at all), which used to read as 100 %;
    Q3 has nothing at all. Both are undefined.

    With "late" and "new" left unpaid (SMALL_CEI), Q2 is defined:
    (6,340 + 0 - 6,340) / (6,340 + 0 - 0) x 100 = 0."""
    paid_in_may = [
        *SMALL_CEI[:2],
        invoice("late", "2026-02-01", "2026-03-01", 2_750, "2026-05-10"),
        invoice("new", "2026-03-20", "2026-04-19", 3_590, "2026-05-20"),
    ]
    q2 = Period(date(2026, 4, 1), date(2026, 6, 30), "Q2")
    q3 = Period(date(2026, 7, 1), date(2026, 9, 30), "Q3")

    second, third = get_kpi("cei").series(
        duckdb_tables({"receivables": paid_in_may}), {}, [q2, q3]
    )
    [unpaid] = get_kpi("cei").series(
        duckdb_tables({"receivables": SMALL_CEI}), {}, [q2]
    )

    for point in (second, third):
        assert point.value is None
        assert point.detail["credit_sales"] == 0
        assert point.detail["end_ar"] == 0
        assert point.note == (
            "no credit sales in the period and nothing open at its end; the "
            "data may not cover this period"
        )
    assert second.detail["begin_ar"] == 6_340
    assert second.rows == 0
    assert unpaid.value == pytest.approx(0.0)
    assert unpaid.detail["begin_ar"] == 6_340


def test_cei_notes_a_period_that_opens_with_nothing_open(duckdb_tables):
    """The first quarter of the data has no opening balance: CEI is kept but
    flagged. Q1 2026 without "old": begin 0; sales 4,550 + 2,750 + 3,590 =
    10,890; end AR 6,340; end current 3,590 (due 19 April).
    (0 + 3,630 - 6,340) / (0 + 3,630 - 3,590) x 100 = -2,710 / 40 x 100
    = -6,775."""
    tables = duckdb_tables({"receivables": SMALL_CEI[1:]})

    [point] = get_kpi("cei").series(tables, {}, [Q1_2026])

    assert point.detail["begin_ar"] == 0
    assert point.value == pytest.approx(-6775.0)
    assert point.note == (
        "nothing was open at the start of the period; the data may start here"
    )


# ADD example: AR 15,000 of which 4,000 current; 30-day sales 10,000.
ADD_INVOICES = [
    invoice("X", "2026-05-10", "2026-06-09", 5_000),
    invoice("Y", "2026-06-05", "2026-06-20", 6_000),
    invoice("Z", "2026-06-25", "2026-07-25", 4_000),
]


@pytest.mark.parametrize(
    ("key", "expected"), [("dso", 45), ("best_possible_dso", 12), ("add", 33)]
)
def test_add_example(duckdb_tables, key, expected):
    tables = duckdb_tables({"receivables": ADD_INVOICES})

    [point] = get_kpi(key).series(tables, {}, [JUNE])

    assert point.value == pytest.approx(expected)
    assert point.detail["dso"] == pytest.approx(45)
    assert point.detail["best_possible_dso"] == pytest.approx(12)


def test_current_means_due_on_or_after_the_date(duckdb_tables):
    # Due on June 30 itself: zero days late, so still current.
    rows = [*ADD_INVOICES, invoice("W", "2026-06-01", "2026-06-30", 1_000)]
    tables = duckdb_tables({"receivables": rows})

    [point] = get_kpi("best_possible_dso").series(tables, {}, [JUNE])

    # (4,000 + 1,000) / 11,000 x 30
    assert point.value == pytest.approx(5_000 / 11_000 * 30)


# Count-back example: AR 212,000; sales newest first 100,000 / 80,000 /
# 70,000; 30-day months -> 30 + 30 + 32,000 / 70,000 x 30 = 73.71.
# April's invoice is partly paid (38,000) through the payments dataset.
COUNT_BACK = {
    "receivables": [
        invoice("apr", "2026-04-10", "2026-05-10", 70_000, settled="2026-04-11"),
        invoice("may", "2026-05-10", "2026-06-09", 80_000),
        invoice("jun", "2026-06-10", "2026-07-10", 100_000),
    ],
    "payments": [
        {"invoice_id": "apr", "payment_date": "2026-05-15", "amount": 30_000},
        {"invoice_id": "apr", "payment_date": "2026-06-30", "amount": 8_000},
        {"invoice_id": "apr", "payment_date": "2026-07-01", "amount": 32_000},
    ],
}


def test_count_back_dso_matches_the_published_example(duckdb_tables):
    tables = duckdb_tables(COUNT_BACK)

    [point] = get_kpi("dso").series(
        tables, {"method": "count_back", "month_days": "thirty"}, [JUNE]
    )

    assert point.detail["ar"] == 212_000
    assert point.value == pytest.approx(73.71, abs=0.005)


def test_count_back_with_calendar_months(duckdb_tables):
    tables = duckdb_tables(COUNT_BACK)

    [point] = get_kpi("dso").series(tables, {"method": "count_back"}, [JUNE])

    # June 30 + May 31 + 32,000 / 70,000 x April's 30 days
    assert point.value == pytest.approx(61 + 32_000 / 70_000 * 30)


def test_partial_payments_reduce_ar_on_their_date(duckdb_tables):
    tables = duckdb_tables(COUNT_BACK)
    may = Period(date(2026, 5, 1), date(2026, 5, 31), "2026-05")

    points = get_kpi("dso").series(tables, {}, [may, JUNE])

    # The settled date of "apr" is ignored because it has payment rows.
    # May 31: 70,000 - 30,000 + 80,000; June 30: 40,000 - 8,000 + 180,000.
    assert [p.detail["ar"] for p in points] == [120_000, 212_000]
    assert points[0].value == pytest.approx(120_000 / 80_000 * 31)


def test_count_back_walk_arithmetic():
    assert count_back_days(212_000, [(100_000, 30), (80_000, 30), (70_000, 30)]) == (
        pytest.approx(73.714, abs=0.001)
    )
    assert count_back_days(0, [(1, 30)]) == 0
    assert count_back_days(10, [(5, 30)]) is None


def test_quarterly_dso_refuses_month_periods(duckdb_tables):
    tables = duckdb_tables({"receivables": ADD_INVOICES})

    with pytest.raises(KPIError, match="three whole calendar months"):
        get_kpi("dso").series(tables, {"method": "quarterly"}, [JUNE])


def test_month_without_sales_has_no_dso(duckdb_tables):
    tables = duckdb_tables({"receivables": ADD_INVOICES})
    july = Period(date(2026, 7, 1), date(2026, 7, 31), "2026-07")

    [point] = get_kpi("dso").series(tables, {}, [july])

    assert point.value is None
    assert point.note == "no credit sales in the period"
    assert point.detail["ar"] == 15_000


def test_non_credit_sales_are_left_out_of_sales(duckdb_tables):
    rows = [
        *ADD_INVOICES,
        invoice("cash", "2026-06-02", "2026-06-02", 5_000, credit_sale=False),
    ]
    tables = duckdb_tables({"receivables": rows})

    [point] = get_kpi("dso").series(tables, {}, [JUNE])

    # The cash sale stays open (no settled date), so it is AR: 20,000.
    assert point.detail["credit_sales"] == 10_000
    assert point.value == pytest.approx(20_000 / 10_000 * 30)


def test_credit_notes_reduce_ar(duckdb_tables):
    rows = [*ADD_INVOICES, invoice("cn", "2026-06-15", "2026-06-15", -2_000)]
    tables = duckdb_tables({"receivables": rows})

    [point] = get_kpi("dso").series(tables, {}, [JUNE])

    assert point.detail["ar"] == 13_000
    assert point.detail["credit_sales"] == 8_000


def test_filters_by_segment(duckdb_tables):
    rows = [
        invoice("a", "2026-06-01", "2026-07-01", 1_000, segment="retail"),
        invoice("b", "2026-06-01", "2026-07-01", 3_000, segment="corporate"),
        invoice("c", "2026-06-01", "2026-07-01", 500, "2026-06-10", segment="retail"),
    ]
    tables = duckdb_tables({"receivables": rows})

    [point] = get_kpi("dso").series(tables, {}, [JUNE], Filters(segments=("retail",)))

    assert point.detail["ar"] == 1_000
    assert point.detail["credit_sales"] == 1_500


def test_filter_on_missing_column_is_refused(duckdb_tables):
    tables = duckdb_tables({"receivables": ADD_INVOICES})

    with pytest.raises(FilterError, match="no product column"):
        get_kpi("dso").series(tables, {}, [JUNE], Filters(products=("cards",)))


AGING = [
    # At June 30: due July 1 -> current; due June 30 -> current (age 0);
    # due June 29 -> 1 day; due May 31 -> 30 days; due May 30 -> 31 days;
    # due Jan 1 -> 180 days; the last one is paid in June.
    invoice("a", "2026-06-01", "2026-07-01", 100),
    invoice("b", "2026-06-01", "2026-06-30", 200),
    invoice("c", "2026-05-30", "2026-06-29", 300),
    invoice("d", "2026-05-01", "2026-05-31", 400),
    invoice("e", "2026-05-01", "2026-05-30", 500),
    invoice("f", "2025-12-01", "2026-01-01", 600),
    invoice("g", "2025-12-01", "2026-01-01", 9_999, "2026-06-15"),
]


def test_receivables_aging_from_due_date(duckdb_tables):
    tables = duckdb_tables({"receivables": AGING})

    [point] = get_kpi("receivables_aging").series(tables, {}, [JUNE])

    assert point.detail["buckets"] == {
        "current": 300,
        "1-30": 700,
        "31-60": 500,
        "61-90": 0,
        "91-120": 0,
        "121+": 600,
    }
    # over 30 days: 500 + 600 out of 2,100
    assert point.value == pytest.approx(1_100 / 2_100 * 100)


def test_receivables_aging_from_invoice_date(duckdb_tables):
    tables = duckdb_tables({"receivables": AGING})

    [point] = get_kpi("receivables_aging").series(
        tables, {"age_from": "invoice_date", "bucket": "1-30"}, [JUNE]
    )

    # Ages from invoice date: a, b 29 days; c 31; d, e 60; f 211.
    assert point.detail["buckets"]["1-30"] == 300
    assert point.detail["buckets"]["31-60"] == 1_200
    assert point.value == pytest.approx(300 / 2_100 * 100)


def test_monthly_series_has_one_point_per_month(duckdb_tables):
    tables = duckdb_tables({"receivables": ADD_INVOICES})
    periods = month_periods(date(2026, 5, 1), date(2026, 7, 31))

    points = get_kpi("dso").series(tables, {}, periods)

    assert [p.period.label for p in points] == ["2026-05", "2026-06", "2026-07"]
    # May: AR 5,000 (X) / sales 5,000 x 31 days
    assert points[0].value == pytest.approx(31)
