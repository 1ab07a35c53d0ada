"""Fiscal calendar arithmetic and local-time helpers.

An organisation's fiscal year begins on the first day of a configurable
month and is split into four three-month quarters.  Everything here works on
calendar dates, treats period end dates as inclusive, and is free of Django
and I/O so that it can be used from models, views and background jobs alike.

The time helpers exist because "today" depends on where the organisation
is: at a single instant two offices can be in different fiscal quarters.
"""

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "FiscalCalendar",
    "FiscalPeriod",
    "YearLabel",
    "local_datetime",
    "local_today",
    "parse_time_zone",
]

MONTHS_PER_QUARTER = 3
QUARTERS_PER_YEAR = 4


class YearLabel(StrEnum):
    """Which calendar year gives a fiscal year its name."""

    END = "end"
    START = "start"


@dataclass(frozen=True)
class FiscalPeriod:
    """A fiscal quarter, or a whole fiscal year when quarter is None.

    The end date is inclusive: it is the last day that belongs to the period.
    """

    fiscal_year: int
    quarter: int | None
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.quarter is not None:
            _check_quarter(self.quarter)
        if self.end < self.start:
            raise ValueError(
                f"a fiscal period cannot end ({self.end}) before it starts "
                f"({self.start})"
            )

    @property
    def label(self) -> str:
        """The display name, such as "FY2027 Q1" or "FY2027"."""
        year = f"FY{self.fiscal_year}"
        return year if self.quarter is None else f"{year} Q{self.quarter}"

    @property
    def days(self) -> int:
        """The number of days in the period, counting both ends."""
        return (self.end - self.start).days + 1

    @property
    def midpoint(self) -> date:
        """The day halfway through the period.

        This is start + days // 2.  For an odd number of days it is the exact
        middle day; for an even number it rounds later, to the first day of
        the second half (day 46 of a 90-day quarter).
        """
        return self.start + timedelta(days=self.days // 2)

    def contains(self, day: date) -> bool:
        """Whether day falls within the period, both ends included."""
        return self.start <= day <= self.end

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class FiscalCalendar:
    """An organisation's fiscal year: its first month and naming rule."""

    start_month: int
    year_label: YearLabel = YearLabel.END

    def __post_init__(self) -> None:
        if not 1 <= self.start_month <= 12:
            raise ValueError(
                f"fiscal-year start month must be 1-12, not {self.start_month}"
            )
        # Accept the plain strings a database or form hands over, and reject
        # unknown ones here rather than mislabelling years later.
        object.__setattr__(self, "year_label", YearLabel(self.year_label))

    def fiscal_year_of(self, day: date) -> int:
        """The label year of the fiscal year that contains day."""
        starts_in = day.year if day.month >= self.start_month else day.year - 1
        return starts_in + self._label_offset()

    def year_period(self, fiscal_year: int) -> FiscalPeriod:
        """The whole fiscal year with the given label year."""
        first = self._first_day(fiscal_year, 0)
        last = self._first_day(fiscal_year + 1, 0) - timedelta(days=1)
        return FiscalPeriod(fiscal_year, None, first, last)

    def quarter_period(self, fiscal_year: int, quarter: int) -> FiscalPeriod:
        """Quarter 1-4 of the fiscal year with the given label year."""
        _check_quarter(quarter)
        months_in = (quarter - 1) * MONTHS_PER_QUARTER
        first = self._first_day(fiscal_year, months_in)
        last_month = self._first_day(fiscal_year, months_in + 2)
        last_day = calendar.monthrange(last_month.year, last_month.month)[1]
        return FiscalPeriod(
            fiscal_year, quarter, first, last_month.replace(day=last_day)
        )

    def quarters_of_year(self, fiscal_year: int) -> tuple[FiscalPeriod, ...]:
        """The four quarters of a fiscal year, in order."""
        quarters = range(1, QUARTERS_PER_YEAR + 1)
        return tuple(self.quarter_period(fiscal_year, q) for q in quarters)

    def quarter_of(self, day: date) -> FiscalPeriod:
        """The fiscal quarter that contains day."""
        months_in = (day.month - self.start_month) % 12
        quarter = months_in // MONTHS_PER_QUARTER + 1
        return self.quarter_period(self.fiscal_year_of(day), quarter)

    def year_containing(self, day: date) -> FiscalPeriod:
        """The whole fiscal year that contains day."""
        return self.year_period(self.fiscal_year_of(day))

    def next_period(self, period: FiscalPeriod) -> FiscalPeriod:
        """The period of the same kind that starts the day after period ends.

        The fourth quarter is followed by the first quarter of the next
        fiscal year.
        """
        self._check_own(period)
        if period.quarter is None:
            return self.year_period(period.fiscal_year + 1)
        if period.quarter == QUARTERS_PER_YEAR:
            return self.quarter_period(period.fiscal_year + 1, 1)
        return self.quarter_period(period.fiscal_year, period.quarter + 1)

    def previous_period(self, period: FiscalPeriod) -> FiscalPeriod:
        """The period of the same kind that ends the day before period starts.

        The first quarter is preceded by the fourth quarter of the previous
        fiscal year.
        """
        self._check_own(period)
        if period.quarter is None:
            return self.year_period(period.fiscal_year - 1)
        if period.quarter == 1:
            return self.quarter_period(period.fiscal_year - 1, QUARTERS_PER_YEAR)
        return self.quarter_period(period.fiscal_year, period.quarter - 1)

    def _label_offset(self) -> int:
        # A year starting in January starts and ends in the same calendar
        # year, so both naming rules agree.
        if self.year_label is YearLabel.START or self.start_month == 1:
            return 0
        return 1

    def _first_day(self, fiscal_year: int, months_in: int) -> date:
        """The first day of the month months_in months into fiscal_year."""
        month_index = self.start_month - 1 + months_in
        year = fiscal_year - self._label_offset() + month_index // 12
        return date(year, month_index % 12 + 1, 1)

    def _check_own(self, period: FiscalPeriod) -> None:
        # A period built under another start month or naming rule would step
        # to a neighbour that is not adjacent to it; refuse instead.
        if period.quarter is None:
            expected = self.year_period(period.fiscal_year)
        else:
            expected = self.quarter_period(period.fiscal_year, period.quarter)
        if period != expected:
            raise ValueError(
                f"{period.label} ({period.start} to {period.end}) does not "
                f"belong to this fiscal calendar, which has it as "
                f"{expected.start} to {expected.end}"
            )


def local_today(tz: ZoneInfo, now: datetime | None = None) -> date:
    """The calendar date in tz at the instant now (default: the current time).

    now must be timezone-aware: a naive datetime does not name an instant, so
    it raises ValueError rather than being guessed at.
    """
    if now is None:
        now = datetime.now(UTC)
    elif now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got naive {now.isoformat()}")
    return now.astimezone(tz).date()


def local_datetime(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The instant, in UTC, at which the clocks in tz show at on day.

    Daylight-saving changes are resolved without raising:

    - A wall time skipped by a spring-forward gap is moved forward by the
      length of the gap.  In Europe/London the clocks jump from 01:00 to
      02:00 on 2027-03-28, so 01:30 becomes 02:30 local, which is 01:30 UTC.
    - A wall time repeated by an autumn fall-back is read as its first
      occurrence.  01:30 on 2027-10-31 in Europe/London is 01:30 BST, which
      is 00:30 UTC.

    Any fold set on at is ignored so that the result is the same for every
    caller.  at must be a naive wall-clock time; an aware one raises
    ValueError because its own offset would contradict tz.
    """
    if at.tzinfo is not None:
        raise ValueError(f"at must be a naive wall-clock time, got {at.isoformat()}")
    # With fold=0, zoneinfo applies the offset in force before a transition.
    # That picks the first of two repeated times, and for a skipped time it
    # yields an instant the length of the gap later, which is the forward
    # move described above.
    wall = datetime.combine(day, at.replace(fold=0), tzinfo=tz)
    return wall.astimezone(UTC)


def parse_time_zone(name: str) -> ZoneInfo:
    """The IANA time zone called name, such as "Europe/London" or "UTC".

    Raises ValueError for a name that is not a time zone, including empty
    names, directories such as "America" and paths outside the database.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"{name!r} is not a known time zone") from None


def _check_quarter(quarter: int) -> None:
    if not 1 <= quarter <= QUARTERS_PER_YEAR:
        raise ValueError(f"fiscal quarter must be 1-4, not {quarter}")
