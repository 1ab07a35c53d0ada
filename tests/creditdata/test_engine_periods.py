"""Calendar months and fiscal quarters."""

from __future__ import annotations

from datetime import date

import pytest

from creditokr.creditdata.engine.periods import (
    month_periods,
    periods_for,
    quarter_periods,
)


def test_months_cover_the_range_with_labels():
    periods = month_periods(date(2025, 12, 15), date(2026, 2, 1))

    assert [(p.start, p.end, p.label) for p in periods] == [
        (date(2025, 12, 1), date(2025, 12, 31), "2025-12"),
        (date(2026, 1, 1), date(2026, 1, 31), "2026-01"),
        (date(2026, 2, 1), date(2026, 2, 28), "2026-02"),
    ]


def test_leap_february():
    [february] = month_periods(date(2028, 2, 10), date(2028, 2, 10))

    assert february.end == date(2028, 2, 29)
    assert february.days == 29


def test_quarters_follow_an_april_fiscal_year():
    periods = quarter_periods(date(2026, 5, 20), date(2027, 1, 5), 4)

    assert [(p.start, p.end, p.label) for p in periods] == [
        (date(2026, 4, 1), date(2026, 6, 30), "Q1 FY2027"),
        (date(2026, 7, 1), date(2026, 9, 30), "Q2 FY2027"),
        (date(2026, 10, 1), date(2026, 12, 31), "Q3 FY2027"),
        (date(2027, 1, 1), date(2027, 3, 31), "Q4 FY2027"),
    ]


def test_calendar_year_quarters_are_named_by_their_own_year():
    periods = periods_for("quarter", date(2026, 1, 1), date(2026, 3, 31), 1)

    assert [p.label for p in periods] == ["Q1 FY2026"]


def test_fiscal_year_starting_in_november_with_custom_labels():
    periods = quarter_periods(
        date(2026, 1, 15),
        date(2026, 2, 1),
        11,
        label=lambda year, quarter: f"FY{year % 100} Q{quarter}",
    )

    # Nov 2025 - Jan 2026 is Q1 of the year ending Oct 2026; Feb-Apr is Q2.
    assert [(p.start, p.label) for p in periods] == [
        (date(2025, 11, 1), "FY26 Q1"),
        (date(2026, 2, 1), "FY26 Q2"),
    ]
    assert periods[0].end == date(2026, 1, 31)


def test_bad_arguments():
    with pytest.raises(ValueError, match="before it starts"):
        month_periods(date(2026, 2, 1), date(2026, 1, 1))
    with pytest.raises(ValueError, match="from 1 to 12"):
        quarter_periods(date(2026, 1, 1), date(2026, 2, 1), 13)
    with pytest.raises(ValueError, match="unknown period grain"):
        periods_for("week", date(2026, 1, 1), date(2026, 2, 1))  # type: ignore[arg-type]
