"""Tests for the fiscal calendar and local-time helpers.

Expected dates are worked out by hand in the comments beside them rather
than recomputed with the code under test.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from creditokr.cycles.fiscal import (
    FiscalCalendar,
    FiscalPeriod,
    YearLabel,
    local_datetime,
    local_today,
    parse_time_zone,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14 all year
# POSIX-style names invert the sign: Etc/GMT+12 is twelve hours behind UTC.
BEHIND_12 = ZoneInfo("Etc/GMT+12")

JANUARY = FiscalCalendar(1)
APRIL = FiscalCalendar(4)
APRIL_START_LABEL = FiscalCalendar(4, YearLabel.START)
JULY = FiscalCalendar(7)
MARCH = FiscalCalendar(3)

# No example database, so a test run leaves no files behind in the tree.
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, database=None)

calendars = st.builds(
    FiscalCalendar, st.integers(min_value=1, max_value=12), st.sampled_from(YearLabel)
)
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))


def period(fiscal_year: int, quarter: int | None, start: str, end: str) -> FiscalPeriod:
    return FiscalPeriod(
        fiscal_year, quarter, date.fromisoformat(start), date.fromisoformat(end)
    )


# Quarter boundaries


def test_january_start_quarters_are_the_calendar_quarters() -> None:
    assert JANUARY.quarters_of_year(2026) == (
        period(2026, 1, "2026-01-01", "2026-03-31"),
        period(2026, 2, "2026-04-01", "2026-06-30"),
        period(2026, 3, "2026-07-01", "2026-09-30"),
        period(2026, 4, "2026-10-01", "2026-12-31"),
    )


def test_april_start_quarters_run_april_to_march() -> None:
    # FY2027 runs from April 2026 to March 2027 and is named for 2027.
    assert APRIL.quarters_of_year(2027) == (
        period(2027, 1, "2026-04-01", "2026-06-30"),
        period(2027, 2, "2026-07-01", "2026-09-30"),
        period(2027, 3, "2026-10-01", "2026-12-31"),
        period(2027, 4, "2027-01-01", "2027-03-31"),
    )


def test_july_start_quarters_run_july_to_june() -> None:
    assert JULY.quarters_of_year(2027) == (
        period(2027, 1, "2026-07-01", "2026-09-30"),
        period(2027, 2, "2026-10-01", "2026-12-31"),
        period(2027, 3, "2027-01-01", "2027-03-31"),
        period(2027, 4, "2027-04-01", "2027-06-30"),
    )


def test_start_label_names_the_same_dates_after_the_first_year() -> None:
    # April 2026 - March 2027 is FY2026 when named for the year it starts.
    assert APRIL_START_LABEL.year_period(2026) == period(
        2026, None, "2026-04-01", "2027-03-31"
    )
    assert APRIL_START_LABEL.quarter_period(2026, 4) == period(
        2026, 4, "2027-01-01", "2027-03-31"
    )


def test_year_period_spans_twelve_months() -> None:
    assert APRIL.year_period(2027) == period(2027, None, "2026-04-01", "2027-03-31")
    assert JANUARY.year_period(2026) == period(2026, None, "2026-01-01", "2026-12-31")
    assert JULY.year_period(2027) == period(2027, None, "2026-07-01", "2027-06-30")


# Labels


@pytest.mark.parametrize(
    ("calendar", "day", "label"),
    [
        (APRIL, date(2026, 5, 10), "FY2027 Q1"),
        (APRIL_START_LABEL, date(2026, 5, 10), "FY2026 Q1"),
        (APRIL, date(2027, 2, 1), "FY2027 Q4"),
        (APRIL_START_LABEL, date(2027, 2, 1), "FY2026 Q4"),
        (JULY, date(2026, 12, 4), "FY2027 Q2"),
        (FiscalCalendar(7, YearLabel.START), date(2026, 12, 4), "FY2026 Q2"),
        (JULY, date(2026, 6, 30), "FY2026 Q4"),
        (JULY, date(2026, 7, 1), "FY2027 Q1"),
        (JANUARY, date(2026, 10, 1), "FY2026 Q4"),
        (FiscalCalendar(1, YearLabel.START), date(2026, 10, 1), "FY2026 Q4"),
    ],
)
def test_quarter_label_follows_the_naming_rule(
    calendar: FiscalCalendar, day: date, label: str
) -> None:
    assert calendar.quarter_of(day).label == label


def test_both_naming_rules_agree_for_a_january_start() -> None:
    day = date(2026, 8, 15)
    assert FiscalCalendar(1, YearLabel.END).fiscal_year_of(day) == 2026
    assert FiscalCalendar(1, YearLabel.START).fiscal_year_of(day) == 2026


def test_year_label_has_no_quarter() -> None:
    assert APRIL.year_period(2027).label == "FY2027"
    assert str(APRIL.quarter_period(2027, 3)) == "FY2027 Q3"


def test_year_label_accepts_its_stored_string() -> None:
    calendar = FiscalCalendar(4, "start")  # type: ignore[arg-type]
    assert calendar.year_label is YearLabel.START
    assert calendar.fiscal_year_of(date(2026, 5, 10)) == 2026


# Stepping between periods


def test_next_quarter_after_q4_is_q1_of_the_next_year() -> None:
    q4 = APRIL.quarter_period(2027, 4)
    assert q4 == period(2027, 4, "2027-01-01", "2027-03-31")
    assert APRIL.next_period(q4) == period(2028, 1, "2027-04-01", "2027-06-30")


def test_next_quarter_after_january_start_q4_crosses_new_year() -> None:
    q4 = JANUARY.quarter_period(2026, 4)
    assert JANUARY.next_period(q4) == period(2027, 1, "2027-01-01", "2027-03-31")


def test_next_quarter_within_a_year() -> None:
    q2 = APRIL.quarter_period(2027, 2)
    assert APRIL.next_period(q2) == period(2027, 3, "2026-10-01", "2026-12-31")


def test_previous_quarter_before_q1_is_q4_of_the_previous_year() -> None:
    # FY2027 Q1 starts 2026-04-01, so FY2026 Q4 ends the day before.
    q1 = APRIL.quarter_period(2027, 1)
    assert APRIL.previous_period(q1) == period(2026, 4, "2026-01-01", "2026-03-31")
    january_q1 = JANUARY.quarter_period(2027, 1)
    assert JANUARY.previous_period(january_q1) == period(
        2026, 4, "2026-10-01", "2026-12-31"
    )


def test_next_and_previous_of_a_year_are_years() -> None:
    year = APRIL.year_period(2027)
    assert APRIL.next_period(year) == period(2028, None, "2027-04-01", "2028-03-31")
    assert APRIL.previous_period(year) == period(2026, None, "2025-04-01", "2026-03-31")


def test_stepping_refuses_a_period_from_another_calendar() -> None:
    january_q1 = JANUARY.quarter_period(2027, 1)
    with pytest.raises(ValueError, match="does not belong to this fiscal calendar"):
        APRIL.next_period(january_q1)
    with pytest.raises(ValueError, match="does not belong to this fiscal calendar"):
        APRIL_START_LABEL.previous_period(APRIL.year_period(2027))


# Month ends and leap years


def test_quarter_ending_in_february_ends_on_the_29th_in_a_leap_year() -> None:
    # A March start puts December-February in Q4.  FY2028 runs March 2027 to
    # February 2028, and 2028 is a leap year.
    q4 = MARCH.quarter_period(2028, 4)
    assert q4 == period(2028, 4, "2027-12-01", "2028-02-29")
    assert q4.days == 31 + 31 + 29
    assert MARCH.year_period(2028).days == 366


def test_quarter_ending_in_february_ends_on_the_28th_otherwise() -> None:
    q4 = MARCH.quarter_period(2027, 4)
    assert q4 == period(2027, 4, "2026-12-01", "2027-02-28")
    assert MARCH.year_period(2027).days == 365


def test_leap_day_belongs_to_the_quarter_ending_with_february() -> None:
    assert MARCH.quarter_of(date(2028, 2, 29)).label == "FY2028 Q4"
    assert MARCH.quarter_of(date(2028, 3, 1)).label == "FY2029 Q1"


@pytest.mark.parametrize(
    ("start_month", "label", "first_day"),
    [
        (1, "FY2026 Q4", date(2026, 10, 1)),  # Oct-Dec
        (2, "FY2027 Q4", date(2026, 11, 1)),  # Nov-Jan, FY ends Jan 2027
        (3, "FY2027 Q4", date(2026, 12, 1)),  # Dec-Feb, FY ends Feb 2027
        (4, "FY2027 Q3", date(2026, 10, 1)),  # Oct-Dec
        (7, "FY2027 Q2", date(2026, 10, 1)),  # Oct-Dec
        (10, "FY2027 Q1", date(2026, 10, 1)),  # Oct-Dec
        (12, "FY2027 Q1", date(2026, 12, 1)),  # Dec-Feb
    ],
)
def test_december_31_is_in_the_right_quarter(
    start_month: int, label: str, first_day: date
) -> None:
    quarter = FiscalCalendar(start_month).quarter_of(date(2026, 12, 31))
    assert (quarter.label, quarter.start) == (label, first_day)


# Period arithmetic


def test_days_counts_both_ends() -> None:
    assert period(2026, None, "2026-05-01", "2026-05-01").days == 1
    assert JANUARY.quarter_period(2026, 1).days == 31 + 28 + 31


def test_midpoint_of_an_even_length_rounds_to_the_later_half() -> None:
    # Jan-Mar 2026 has 90 days; 45 days after 1 January is 15 February, the
    # first day of the second half.
    assert JANUARY.quarter_period(2026, 1).midpoint == date(2026, 2, 15)


def test_midpoint_of_an_odd_length_is_the_middle_day() -> None:
    # Apr-Jun has 91 days; 16 May has 45 days on either side.
    assert JANUARY.quarter_period(2026, 2).midpoint == date(2026, 5, 16)
    # 2026 has 365 days; day 183 (2 July) has 182 on either side.
    assert JANUARY.year_period(2026).midpoint == date(2026, 7, 2)


def test_contains_includes_both_ends() -> None:
    q1 = APRIL.quarter_period(2027, 1)
    assert q1.contains(date(2026, 4, 1))
    assert q1.contains(date(2026, 6, 30))
    assert not q1.contains(date(2026, 3, 31))
    assert not q1.contains(date(2026, 7, 1))


# Validation


@pytest.mark.parametrize("month", [0, 13, -1])
def test_start_month_outside_1_to_12_is_rejected(month: int) -> None:
    message = f"fiscal-year start month must be 1-12, not {month}"
    with pytest.raises(ValueError, match=re.escape(message)):
        FiscalCalendar(month)


def test_unknown_year_label_is_rejected() -> None:
    with pytest.raises(ValueError, match="'middle' is not a valid YearLabel"):
        FiscalCalendar(4, "middle")  # type: ignore[arg-type]


@pytest.mark.parametrize("quarter", [0, 5])
def test_quarter_outside_1_to_4_is_rejected(quarter: int) -> None:
    with pytest.raises(ValueError, match=f"fiscal quarter must be 1-4, not {quarter}"):
        APRIL.quarter_period(2027, quarter)


def test_period_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="cannot end"):
        period(2027, 1, "2026-06-30", "2026-04-01")


# Properties over all start months, naming rules and dates


@PROPERTY_SETTINGS
@given(calendars, days)
def test_quarter_and_year_of_a_day_contain_it(
    calendar: FiscalCalendar, day: date
) -> None:
    quarter = calendar.quarter_of(day)
    year = calendar.year_containing(day)
    assert quarter.contains(day)
    assert year.contains(day)
    assert quarter.fiscal_year == year.fiscal_year == calendar.fiscal_year_of(day)


@PROPERTY_SETTINGS
@given(calendars, days)
def test_fiscal_year_is_named_for_its_end_or_start_year(
    calendar: FiscalCalendar, day: date
) -> None:
    year = calendar.year_containing(day)
    named_for = year.end if calendar.year_label is YearLabel.END else year.start
    assert calendar.fiscal_year_of(day) == named_for.year


@PROPERTY_SETTINGS
@given(calendars, days)
def test_quarters_exactly_tile_their_year(calendar: FiscalCalendar, day: date) -> None:
    fiscal_year = calendar.fiscal_year_of(day)
    year = calendar.year_period(fiscal_year)
    quarters = calendar.quarters_of_year(fiscal_year)
    assert [q.quarter for q in quarters] == [1, 2, 3, 4]
    assert quarters[0].start == year.start
    assert quarters[-1].end == year.end
    for earlier, later in pairwise(quarters):
        assert later.start == earlier.end + timedelta(days=1)
    assert sum(q.days for q in quarters) == year.days


@PROPERTY_SETTINGS
@given(calendars, days)
def test_quarters_are_three_whole_months_from_the_start_month(
    calendar: FiscalCalendar, day: date
) -> None:
    quarter = calendar.quarter_of(day)
    assert quarter.quarter is not None
    months_in = 3 * (quarter.quarter - 1)
    assert quarter.start.day == 1
    assert quarter.start.month == (calendar.start_month - 1 + months_in) % 12 + 1
    assert (quarter.end + timedelta(days=1)).day == 1
    assert 89 <= quarter.days <= 92


@PROPERTY_SETTINGS
@given(calendars, days, st.booleans())
def test_next_period_starts_the_day_after_and_steps_back(
    calendar: FiscalCalendar, day: date, whole_year: bool
) -> None:
    current = calendar.year_containing(day) if whole_year else calendar.quarter_of(day)
    following = calendar.next_period(current)
    assert following.start == current.end + timedelta(days=1)
    assert (following.quarter is None) == whole_year
    assert calendar.previous_period(following) == current
    assert calendar.next_period(calendar.previous_period(current)) == current


@PROPERTY_SETTINGS
@given(st.integers(min_value=2, max_value=12), days)
def test_start_label_is_one_less_than_end_label(start_month: int, day: date) -> None:
    by_end = FiscalCalendar(start_month, YearLabel.END).quarter_of(day)
    by_start = FiscalCalendar(start_month, YearLabel.START).quarter_of(day)
    assert by_start.fiscal_year == by_end.fiscal_year - 1
    assert (by_start.start, by_start.end) == (by_end.start, by_end.end)


@pytest.mark.parametrize("start_month", range(1, 13))
def test_walking_day_by_day_only_ever_steps_to_the_next_quarter(
    start_month: int,
) -> None:
    # Every day of three years, leap day included: tomorrow is either in
    # today's quarter or in the one next_period names.
    calendar = FiscalCalendar(start_month)
    day = date(2027, 1, 1)
    quarter = calendar.quarter_of(day)
    while day < date(2030, 1, 1):
        day += timedelta(days=1)
        tomorrows = calendar.quarter_of(day)
        if tomorrows != quarter:
            assert tomorrows == calendar.next_period(quarter)
            assert tomorrows.start == day
        quarter = tomorrows


# Today in the organisation's time zone, with the real clock frozen


def test_local_today_on_new_years_eve_depends_on_the_zone() -> None:
    # 23:30 UTC on 31 December: +14h is 13:30 on 1 January in Kiritimati,
    # -12h is 11:30 on 31 December in Etc/GMT+12.
    with time_machine.travel(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), tick=False):
        assert local_today(KIRITIMATI) == date(2027, 1, 1)
        assert local_today(BEHIND_12) == date(2026, 12, 31)


def test_local_today_can_be_two_days_apart() -> None:
    # 10:30 UTC on 1 January: -12h is 22:30 on 31 December in Etc/GMT+12,
    # +14h is 00:30 on 2 January in Kiritimati.
    with time_machine.travel(datetime(2027, 1, 1, 10, 30, tzinfo=UTC), tick=False):
        assert local_today(BEHIND_12) == date(2026, 12, 31)
        assert local_today(KIRITIMATI) == date(2027, 1, 2)


def test_calendar_year_quarter_differs_by_zone_at_new_year() -> None:
    # Same instant as above: Kiritimati has reached 1 January and so FY2027
    # Q1, while Etc/GMT+12 is still in FY2026 Q4.
    with time_machine.travel(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), tick=False):
        assert JANUARY.quarter_of(local_today(KIRITIMATI)).label == "FY2027 Q1"
        assert JANUARY.quarter_of(local_today(BEHIND_12)).label == "FY2026 Q4"


def test_april_fiscal_quarter_differs_by_zone_at_year_end() -> None:
    # British Summer Time began on 28 March 2027, so 23:30 UTC on 31 March is
    # 00:30 on 1 April in London: FY2028 Q1.  Los Angeles has been on PDT
    # (UTC-7) since 14 March, so it is 16:30 on 31 March there: FY2027 Q4.
    with time_machine.travel(datetime(2027, 3, 31, 23, 30, tzinfo=UTC), tick=False):
        assert local_today(LONDON) == date(2027, 4, 1)
        assert APRIL.quarter_of(local_today(LONDON)).label == "FY2028 Q1"
        assert local_today(LOS_ANGELES) == date(2027, 3, 31)
        assert APRIL.quarter_of(local_today(LOS_ANGELES)).label == "FY2027 Q4"


def test_local_today_prefers_an_explicit_instant_to_the_clock() -> None:
    # 20:00 EST on 31 December is 01:00 UTC on 1 January, which is 01:00 GMT
    # in London.
    new_years_eve = datetime(2026, 12, 31, 20, 0, tzinfo=NEW_YORK)
    with time_machine.travel(datetime(2026, 6, 1, 12, 0, tzinfo=UTC), tick=False):
        assert local_today(LONDON, new_years_eve) == date(2027, 1, 1)
        assert local_today(LONDON) == date(2026, 6, 1)


def test_local_today_rejects_a_naive_instant() -> None:
    naive = datetime(2026, 12, 31, 23, 30)  # noqa: DTZ001 - naive on purpose
    with pytest.raises(ValueError, match="must be timezone-aware"):
        local_today(LONDON, naive)


# Local wall-clock times across daylight-saving changes


def test_local_datetime_in_summer_time() -> None:
    # 15 July is in BST (UTC+1).
    result = local_datetime(date(2026, 7, 15), time(9, 0), LONDON)
    assert result == datetime(2026, 7, 15, 8, 0, tzinfo=UTC)
    assert result.tzinfo is UTC


def test_local_datetime_ahead_of_utc_crosses_back_a_day() -> None:
    # Midnight at UTC+14 is 10:00 the previous day in UTC.
    result = local_datetime(date(2027, 1, 1), time(0, 0), KIRITIMATI)
    assert result == datetime(2026, 12, 31, 10, 0, tzinfo=UTC)


def test_local_datetime_in_the_spring_gap_moves_forward() -> None:
    # London clocks jump from 01:00 GMT to 02:00 BST on 28 March 2027, so
    # 01:30 never happens.  Moving forward by the one-hour gap gives 02:30
    # BST, which is 01:30 UTC.
    result = local_datetime(date(2027, 3, 28), time(1, 30), LONDON)
    assert result == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert result.astimezone(LONDON).time() == time(2, 30)


def test_local_datetime_in_the_new_york_spring_gap_moves_forward() -> None:
    # New York jumps from 02:00 EST to 03:00 EDT on 14 March 2027; 02:30
    # becomes 03:30 EDT, which is 07:30 UTC.
    result = local_datetime(date(2027, 3, 14), time(2, 30), NEW_YORK)
    assert result == datetime(2027, 3, 14, 7, 30, tzinfo=UTC)
    assert result.astimezone(NEW_YORK).time() == time(3, 30)


def test_local_datetime_in_the_london_autumn_overlap_takes_the_first() -> None:
    # London falls back from 02:00 BST to 01:00 GMT on 31 October 2027, so
    # 01:30 happens twice; the first is 01:30 BST, which is 00:30 UTC.
    result = local_datetime(date(2027, 10, 31), time(1, 30), LONDON)
    assert result == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


def test_local_datetime_in_the_new_york_autumn_overlap_takes_the_first() -> None:
    # New York falls back from 02:00 EDT to 01:00 EST on 1 November 2026;
    # the first 01:30 is EDT (UTC-4), which is 05:30 UTC.
    result = local_datetime(date(2026, 11, 1), time(1, 30), NEW_YORK)
    assert result == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_local_datetime_ignores_a_requested_fold() -> None:
    result = local_datetime(date(2027, 10, 31), time(1, 30, fold=1), LONDON)
    assert result == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


def test_local_datetime_rejects_an_aware_time() -> None:
    with pytest.raises(ValueError, match="naive wall-clock time"):
        local_datetime(date(2026, 7, 15), time(9, 0, tzinfo=UTC), LONDON)


@PROPERTY_SETTINGS
@given(
    st.datetimes(
        min_value=datetime(1990, 1, 1),  # noqa: DTZ001 - bounds must be naive
        max_value=datetime(2100, 12, 31),  # noqa: DTZ001 - bounds must be naive
        timezones=st.just(UTC),
    ),
    st.sampled_from([LONDON, NEW_YORK, LOS_ANGELES, KIRITIMATI, BEHIND_12]),
)
def test_local_datetime_round_trips_first_occurrences(
    instant: datetime, tz: ZoneInfo
) -> None:
    wall = instant.astimezone(tz)
    result = local_datetime(wall.date(), wall.time(), tz)
    if wall.fold == 0:
        assert result == instant
    else:
        # The second of two repeated times maps back to the first.
        assert result < instant
        assert result.astimezone(tz).replace(tzinfo=None) == wall.replace(tzinfo=None)


# Time zone names


def test_parse_time_zone_accepts_iana_names_and_utc() -> None:
    assert parse_time_zone("Europe/London") == LONDON
    assert parse_time_zone("UTC").key == "UTC"


def test_parse_time_zone_rejects_an_unknown_name() -> None:
    message = "'Mars/Olympus' is not a known time zone"
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_time_zone("Mars/Olympus")


@pytest.mark.parametrize(
    "name", ["", "America", "../../etc/passwd", "/etc/localtime", "Europe/London "]
)
def test_parse_time_zone_rejects_names_that_are_not_zones(name: str) -> None:
    with pytest.raises(ValueError, match="is not a known time zone"):
        parse_time_zone(name)
