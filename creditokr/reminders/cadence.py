"""When a reminder cadence falls, as instants, in a recipient's time zone.

Pure functions, no Django: a cadence is a frequency, a weekday (or a day
of the month) and a wall-clock time. The instants come from the
recipient's own zone, so 09:00 is nine in the morning where they are,
through daylight-saving changes and across the date line.
"""

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from creditokr.cycles.fiscal import local_datetime


class Frequency(StrEnum):
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"


@dataclass(frozen=True)
class Cadence:
    frequency: Frequency
    weekday: int = 0
    day_of_month: int = 1
    at: time = time(9, 0)

    def falls_on(self, day: date, anchor: date) -> bool:
        """Whether the cadence has a reminder on this local day.

        Two-weekly reminders count weeks from the Monday of the anchor's
        week (the cycle's first week), so they keep their rhythm whatever
        day a pass runs. Monthly ones on the 29th-31st fall on the last
        day of shorter months.
        """
        if self.frequency == Frequency.MONTHLY:
            last = calendar.monthrange(day.year, day.month)[1]
            return day.day == min(self.day_of_month, last)
        if day.weekday() != self.weekday:
            return False
        if self.frequency == Frequency.WEEKLY:
            return True
        weeks = (monday_of(day) - monday_of(anchor)).days // 7
        return weeks % 2 == 0


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def local_days(start: datetime, end: datetime, tz: ZoneInfo) -> Iterator[date]:
    """Every calendar day in tz that overlaps the instants start to end."""
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def occurrences(
    cadence: Cadence, anchor: date, tz: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[date, datetime]]:
    """(local day, UTC instant) of each reminder from start to end."""
    found = []
    for day in local_days(start, end, tz):
        if not cadence.falls_on(day, anchor):
            continue
        instant = local_datetime(day, cadence.at, tz)
        if start <= instant <= end:
            found.append((day, instant))
    return found


def at_local_time(
    day: date, at: time, tz: ZoneInfo, start: datetime, end: datetime
) -> datetime | None:
    """The instant `at` on `day` in tz, if it lies from start to end."""
    instant = local_datetime(day, at, tz)
    return instant if start <= instant <= end else None


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
