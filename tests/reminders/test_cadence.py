"""When a cadence falls, worked out by hand from the calendar.

Europe/London changes to summer time on the last Sunday of March (28 March
2027: 01:00 GMT becomes 02:00 BST) and back on the last Sunday of October
(25 October 2026: 02:00 BST becomes 01:00 GMT).
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from creditokr.reminders.cadence import Cadence, Frequency, occurrences

LONDON = ZoneInfo("Europe/London")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_a_weekly_reminder_keeps_its_local_time_across_the_spring_change():
    sundays = Cadence(Frequency.WEEKLY, weekday=6, at=time(9, 0))

    found = occurrences(
        sundays, date(2027, 1, 1), LONDON, utc(2027, 3, 20), utc(2027, 4, 5)
    )

    # 09:00 GMT is 09:00 UTC; 09:00 BST is 08:00 UTC.
    assert found == [
        (date(2027, 3, 21), utc(2027, 3, 21, 9)),
        (date(2027, 3, 28), utc(2027, 3, 28, 8)),
        (date(2027, 4, 4), utc(2027, 4, 4, 8)),
    ]


def test_a_time_skipped_in_spring_moves_forward_by_the_gap():
    early = Cadence(Frequency.WEEKLY, weekday=6, at=time(1, 30))

    found = occurrences(
        early, date(2027, 1, 1), LONDON, utc(2027, 3, 27, 12), utc(2027, 3, 28, 12)
    )

    # 01:30 does not exist that night; 02:30 BST is 01:30 UTC.
    assert found == [(date(2027, 3, 28), utc(2027, 3, 28, 1, 30))]


def test_a_time_repeated_in_autumn_is_reminded_once():
    early = Cadence(Frequency.WEEKLY, weekday=6, at=time(1, 30))

    found = occurrences(
        early, date(2026, 10, 1), LONDON, utc(2026, 10, 24, 12), utc(2026, 10, 26)
    )

    # The first 01:30 (BST) is 00:30 UTC; the second one (GMT) is skipped.
    assert found == [(date(2026, 10, 25), utc(2026, 10, 25, 0, 30))]


def test_monthly_on_the_31st_falls_on_the_last_day_of_short_months():
    month_end = Cadence(Frequency.MONTHLY, day_of_month=31, at=time(9, 0))

    found = occurrences(
        month_end, date(2027, 1, 1), LONDON, utc(2027, 1, 1), utc(2027, 5, 1)
    )

    assert [day for day, _ in found] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]
    # 31 March is in summer time: 09:00 BST is 08:00 UTC.
    assert found[2][1] == utc(2027, 3, 31, 8)


def test_two_weekly_reminders_count_from_the_week_the_cycle_starts():
    # FY2027 Q4 starts on Friday 1 January 2027; its week began on Monday
    # 28 December 2026, so reminders fall on 28 Dec, 11 Jan, 25 Jan...
    mondays = Cadence(Frequency.FORTNIGHTLY, weekday=0, at=time(9, 0))

    found = occurrences(
        mondays, date(2027, 1, 1), LONDON, utc(2026, 12, 27), utc(2027, 2, 9)
    )

    assert [day for day, _ in found] == [
        date(2026, 12, 28),
        date(2027, 1, 11),
        date(2027, 1, 25),
        date(2027, 2, 8),
    ]


def test_two_weekly_reminders_restart_with_the_next_fiscal_year():
    # Q4 ends on 31 March 2027; FY2028 Q1 starts on Thursday 1 April, in
    # the week of Monday 29 March. Counted from Q4 the Mondays would be
    # 22 March and 5 April; counted from Q1 they are 29 March and 12 April.
    mondays = Cadence(Frequency.FORTNIGHTLY, weekday=0, at=time(9, 0))
    window = (utc(2027, 3, 20), utc(2027, 4, 13))

    q4 = occurrences(mondays, date(2027, 1, 1), LONDON, *window)
    q1 = occurrences(mondays, date(2027, 4, 1), LONDON, *window)

    assert [day for day, _ in q4] == [date(2027, 3, 22), date(2027, 4, 5)]
    assert [day for day, _ in q1] == [date(2027, 3, 29), date(2027, 4, 12)]


def test_far_time_zones_get_their_reminder_at_their_own_nine_oclock():
    mondays = Cadence(Frequency.WEEKLY, weekday=0, at=time(9, 0))
    window = (utc(2026, 11, 15), utc(2026, 11, 17, 23))

    kiritimati = occurrences(
        mondays, date(2026, 10, 1), ZoneInfo("Pacific/Kiritimati"), *window
    )
    pago_pago = occurrences(
        mondays, date(2026, 10, 1), ZoneInfo("Pacific/Pago_Pago"), *window
    )

    # UTC+14: Monday 09:00 is Sunday 19:00 UTC. UTC-11: Monday 20:00 UTC.
    assert kiritimati == [(date(2026, 11, 16), utc(2026, 11, 15, 19))]
    assert pago_pago == [(date(2026, 11, 16), utc(2026, 11, 16, 20))]
