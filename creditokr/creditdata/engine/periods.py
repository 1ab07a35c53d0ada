"""Reporting periods: calendar months and fiscal quarters.

Pure date arithmetic, free of Ibis and Django. Every period is a
`Period` with both ends inclusive, listed oldest first.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date
from typing import Literal

from creditokr.creditdata.engine.contract import Period

Grain = Literal["month", "quarter"]
QuarterLabel = Callable[[int, int], str]


def month_end(year: int, month: int) -> date:
    """The last day of a calendar month."""
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(year: int, month: int, count: int) -> tuple[int, int]:
    """The (year, month) that lies `count` months after the given one."""
    index = year * 12 + (month - 1) + count
    return index // 12, index % 12 + 1


def month_periods(first: date, last: date) -> list[Period]:
    """The calendar months covering `first` to `last`, labelled "2026-03"."""
    _check_range(first, last)
    periods = []
    year, month = first.year, first.month
    while date(year, month, 1) <= last:
        periods.append(
            Period(date(year, month, 1), month_end(year, month), f"{year}-{month:02d}")
        )
        year, month = add_months(year, month, 1)
    return periods


def default_quarter_label(fiscal_year: int, quarter: int) -> str:
    """A label such as "Q1 FY2027"."""
    return f"Q{quarter} FY{fiscal_year}"


def quarter_periods(
    first: date,
    last: date,
    fiscal_start_month: int,
    label: QuarterLabel | None = None,
) -> list[Period]:
    """Fiscal quarters covering `first` to `last`.

    Quarters are aligned to the first day of `fiscal_start_month`; a fiscal
    year is named after the calendar year in which it ends. `label` receives
    the fiscal year and the quarter number (1 to 4).
    """
    _check_range(first, last)
    if not 1 <= fiscal_start_month <= 12:
        raise ValueError(
            f"the fiscal year must start in a month from 1 to 12, "
            f"not {fiscal_start_month}"
        )
    name = label or default_quarter_label

    offset = (first.month - fiscal_start_month) % 12
    year, month = add_months(first.year, first.month, -(offset % 3))
    periods = []
    while date(year, month, 1) <= last:
        fiscal_offset = (month - fiscal_start_month) % 12
        start_year, _ = add_months(year, month, -fiscal_offset)
        fiscal_year = start_year + (0 if fiscal_start_month == 1 else 1)
        end_year, end_month = add_months(year, month, 2)
        periods.append(
            Period(
                date(year, month, 1),
                month_end(end_year, end_month),
                name(fiscal_year, fiscal_offset // 3 + 1),
            )
        )
        year, month = add_months(year, month, 3)
    return periods


def periods_for(
    grain: Grain, first: date, last: date, fiscal_start_month: int = 1
) -> list[Period]:
    """Months or fiscal quarters covering `first` to `last`."""
    if grain == "month":
        return month_periods(first, last)
    if grain == "quarter":
        return quarter_periods(first, last, fiscal_start_month)
    raise ValueError(f"unknown period grain {grain!r}: use 'month' or 'quarter'")


def months_in(period: Period) -> int:
    """How many calendar months a period touches."""
    return (
        (period.end.year - period.start.year) * 12
        + period.end.month
        - period.start.month
        + 1
    )


def is_whole_months(period: Period) -> bool:
    """Whether a period starts on a 1st and ends on a month end."""
    return period.start.day == 1 and period.end == month_end(
        period.end.year, period.end.month
    )


def _check_range(first: date, last: date) -> None:
    if last < first:
        raise ValueError(f"the range ends ({last}) before it starts ({first})")
