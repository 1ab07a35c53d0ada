"""Cycles on the fiscal calendar, their cadence, and which one opens first.

The organisation's fiscal year starts in April and is named by the year it
ends in, so FY2027 Q3 runs 1 Oct - 31 Dec 2026 (92 days; its midpoint is day
46 counted from 0, 16 Nov).
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from creditokr.accounts.models import Organisation
from creditokr.cycles.fiscal import FiscalPeriod
from creditokr.cycles.forms import CadenceEventForm
from creditokr.cycles.models import (
    CadenceEvent,
    CadenceKind,
    Cycle,
    CycleKind,
    CycleState,
)
from creditokr.cycles.services import default_cycle, ensure_cycle, next_cycle
from creditokr.okrs.access import actor_for, visibility_filter
from creditokr.okrs.models import Visibility
from tests.conftest import TODAY, make_objective

pytestmark = pytest.mark.django_db


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def events_of(cycle: Cycle) -> list[tuple[str, datetime, int]]:
    return [
        (e.kind, e.starts_at, e.duration_minutes)
        for e in cycle.cadence_events.order_by("starts_at")
    ]


def with_calendar(organisation: Organisation, start_month: int, zone: str = "UTC"):
    organisation.fiscal_year_start_month = start_month
    organisation.time_zone = zone
    organisation.save()
    return organisation


# --- ensure_cycle ---------------------------------------------------------


def test_ensure_cycle_creates_the_quarter_with_its_dates(organisation, calendar):
    cycle = ensure_cycle(organisation, calendar.quarter_period(2027, 3), TODAY)

    assert (cycle.name, cycle.kind, cycle.fiscal_year, cycle.quarter) == (
        "FY2027 Q3",
        CycleKind.QUARTER,
        2027,
        3,
    )
    assert (cycle.start_date, cycle.end_date) == (date(2026, 10, 1), date(2026, 12, 31))


def test_ensure_cycle_creates_a_quarter_only_once(organisation, calendar):
    period = calendar.quarter_period(2027, 3)

    first = ensure_cycle(organisation, period, TODAY)
    second = ensure_cycle(organisation, period, date(2027, 2, 1))

    assert first.pk == second.pk
    assert Cycle.objects.count() == 1
    assert CadenceEvent.objects.count() == 3


def test_a_quarter_gets_planning_review_and_evaluation_in_utc(organisation, calendar):
    # London: 1 Oct is BST (UTC+1), 16 Nov and 31 Dec are GMT (UTC+0).
    cycle = ensure_cycle(organisation, calendar.quarter_period(2027, 3), TODAY)

    assert events_of(cycle) == [
        (CadenceKind.PLANNING, utc(2026, 10, 1, 9, 0), 120),
        (CadenceKind.MID_REVIEW, utc(2026, 11, 16, 10, 0), 60),
        (CadenceKind.END_EVALUATION, utc(2026, 12, 31, 14, 0), 120),
    ]
    assert cycle.cadence_events.get(kind=CadenceKind.PLANNING).title == (
        "FY2027 Q3 planning session"
    )


def test_cadence_times_follow_a_far_east_organisation(organisation, calendar):
    # Kiritimati is UTC+14: 10:00 on 1 Oct there is 20:00 on 30 Sep in UTC.
    with_calendar(organisation, 4, "Pacific/Kiritimati")

    cycle = ensure_cycle(organisation, calendar.quarter_period(2027, 3), TODAY)

    assert events_of(cycle)[0][1] == utc(2026, 9, 30, 20, 0)


def test_a_fiscal_year_cycle_has_no_cadence_events(organisation, calendar):
    cycle = ensure_cycle(organisation, calendar.year_period(2027), TODAY)

    assert (cycle.name, cycle.kind, cycle.quarter) == ("FY2027", CycleKind.YEAR, None)
    assert (cycle.start_date, cycle.end_date) == (date(2026, 4, 1), date(2027, 3, 31))
    assert not cycle.cadence_events.exists()


def test_a_year_and_its_quarters_live_side_by_side(organisation, calendar):
    year = ensure_cycle(organisation, calendar.year_period(2027), TODAY)
    quarter = ensure_cycle(organisation, calendar.quarter_period(2027, 3), TODAY)

    assert year.pk != quarter.pk
    assert ensure_cycle(organisation, calendar.year_period(2027), TODAY) == year


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (date(2026, 9, 30), CycleState.PLANNING),
        (date(2026, 10, 1), CycleState.ACTIVE),
        (date(2026, 12, 31), CycleState.ACTIVE),
        (date(2027, 1, 1), CycleState.IN_REVIEW),
    ],
)
def test_a_new_cycle_starts_in_the_state_its_dates_imply(
    organisation, calendar, today, state
):
    cycle = ensure_cycle(organisation, calendar.quarter_period(2027, 3), today)

    assert cycle.state == state


# --- next_cycle -----------------------------------------------------------


def test_next_cycle_crosses_the_fiscal_year_end(organisation, calendar):
    q4 = ensure_cycle(organisation, calendar.quarter_period(2027, 4), TODAY)

    following = next_cycle(organisation, q4, TODAY)

    assert (following.name, following.start_date, following.end_date) == (
        "FY2028 Q1",
        date(2027, 4, 1),
        date(2027, 6, 30),
    )
    assert following.state == CycleState.PLANNING
    # 1 Apr 2027 is in BST, so 10:00 local is 09:00 UTC.
    assert events_of(following)[0][1] == utc(2027, 4, 1, 9, 0)


def test_next_cycle_reuses_an_existing_cycle(organisation, calendar):
    q3 = ensure_cycle(organisation, calendar.quarter_period(2027, 3), TODAY)

    first = next_cycle(organisation, q3, TODAY)
    second = next_cycle(organisation, q3, TODAY)

    assert first == second
    assert (first.name, first.start_date) == ("FY2027 Q4", date(2027, 1, 1))
    assert Cycle.objects.count() == 2


def test_next_cycle_after_a_fiscal_year_is_the_next_year(organisation, calendar):
    year = ensure_cycle(organisation, calendar.year_period(2027), TODAY)

    following = next_cycle(organisation, year, TODAY)

    assert (following.name, following.start_date, following.end_date) == (
        "FY2028",
        date(2027, 4, 1),
        date(2028, 3, 31),
    )


def test_a_january_start_organisation_rolls_from_q4_into_q1(organisation):
    with_calendar(organisation, 1)
    q4 = ensure_cycle(organisation, organisation.calendar.quarter_of(TODAY), TODAY)

    following = next_cycle(organisation, q4, TODAY)

    assert (q4.name, q4.start_date, q4.end_date) == (
        "FY2026 Q4",
        date(2026, 10, 1),
        date(2026, 12, 31),
    )
    assert (following.name, following.start_date, following.end_date) == (
        "FY2027 Q1",
        date(2027, 1, 1),
        date(2027, 3, 31),
    )


def test_a_july_start_organisation_rolls_from_q4_into_q1(organisation):
    with_calendar(organisation, 7)
    current = ensure_cycle(organisation, organisation.calendar.quarter_of(TODAY), TODAY)
    q4 = ensure_cycle(
        organisation, organisation.calendar.quarter_period(2027, 4), TODAY
    )

    following = next_cycle(organisation, q4, TODAY)

    assert (current.name, current.start_date) == ("FY2027 Q2", date(2026, 10, 1))
    assert (q4.start_date, q4.end_date) == (date(2027, 4, 1), date(2027, 6, 30))
    assert (following.name, following.start_date, following.end_date) == (
        "FY2028 Q1",
        date(2027, 7, 1),
        date(2027, 9, 30),
    )


def test_next_cycle_follows_a_cycle_made_under_an_older_calendar(organisation):
    # FY2026 Q4 was made when the year started in January (Oct - Dec 2026);
    # the organisation now starts its year in April. The next quarter is the
    # one that holds the day after the old quarter ended.
    stray = ensure_cycle(
        organisation,
        FiscalPeriod(2026, 4, date(2026, 10, 1), date(2026, 12, 31)),
        TODAY,
    )

    following = next_cycle(organisation, stray, TODAY)

    assert (following.name, following.start_date, following.end_date) == (
        "FY2027 Q4",
        date(2027, 1, 1),
        date(2027, 3, 31),
    )


def test_next_cycle_after_a_year_from_an_older_calendar(organisation):
    # A January-start FY2026 was Jan - Dec 2026; from April, 1 Jan 2027 lies
    # in FY2027 (Apr 2026 - Mar 2027).
    stray = ensure_cycle(
        organisation,
        FiscalPeriod(2026, None, date(2026, 1, 1), date(2026, 12, 31)),
        TODAY,
    )

    following = next_cycle(organisation, stray, TODAY)

    assert (following.name, following.start_date, following.end_date) == (
        "FY2027",
        date(2026, 4, 1),
        date(2027, 3, 31),
    )


@pytest.fixture
def moved_to_may(organisation, calendar) -> Cycle:
    """FY2027 Q1 made from April, then the year moved to start in May."""
    old_q1 = ensure_cycle(organisation, calendar.quarter_period(2027, 1), TODAY)
    with_calendar(organisation, 5, "Europe/London")
    return old_q1


def test_a_cycle_with_dates_from_an_older_calendar_is_not_passed_off_as_new(
    organisation, moved_to_may
):
    new_q1 = organisation.calendar.quarter_period(2027, 1)

    with pytest.raises(ValidationError) as refused:
        ensure_cycle(organisation, new_q1, TODAY)

    [message] = refused.value.messages
    assert message.startswith(
        "FY2027 Q1 already exists with dates 1 Apr 2026 to 30 Jun 2026 from the "
        "earlier fiscal calendar"
    )
    assert Cycle.objects.count() == 1


def test_next_cycle_into_a_period_taken_under_an_older_calendar_says_why(
    organisation, calendar, moved_to_may
):
    # From May, FY2027 Q4 (Feb - Apr 2027) is followed by FY2028 Q1, which
    # already exists with its April-start dates (Apr - Jun 2027).
    ensure_cycle(organisation, calendar.quarter_period(2028, 1), TODAY)
    q4 = ensure_cycle(
        organisation, organisation.calendar.quarter_period(2027, 4), TODAY
    )

    with pytest.raises(ValidationError, match="FY2028 Q1 already exists with dates"):
        next_cycle(organisation, q4, TODAY)


# --- cadence on working days ----------------------------------------------


def local_days(cycle: Cycle) -> list[date]:
    zone = ZoneInfo("Europe/London")
    return [
        timezone.localtime(e.starts_at, zone).date()
        for e in cycle.cadence_events.order_by("starts_at")
    ]


@pytest.mark.parametrize(
    ("fiscal_year", "quarter", "days"),
    [
        # Mid-quarter review on Sat 16 May moves to Mon 18 May.
        (2027, 1, [date(2026, 4, 1), date(2026, 5, 18), date(2026, 6, 30)]),
        # Sun 16 Aug moves to Mon 17 Aug.
        (2027, 2, [date(2026, 7, 1), date(2026, 8, 17), date(2026, 9, 30)]),
        # Fri 1 Jan 2027 is a working day as far as we can know.
        (2027, 4, [date(2027, 1, 1), date(2027, 2, 15), date(2027, 3, 31)]),
        # Planning on Sat 1 Apr 2028 moves to Mon 3 Apr.
        (2029, 1, [date(2028, 4, 3), date(2028, 5, 16), date(2028, 6, 30)]),
        # Planning on Sat 1 Jul moves to Mon 3 Jul; the evaluation on
        # Sat 30 Sep moves back to Fri 29 Sep, inside the quarter.
        (2029, 2, [date(2028, 7, 3), date(2028, 8, 16), date(2028, 9, 29)]),
    ],
)
def test_cadence_events_fall_on_working_days(
    organisation, calendar, fiscal_year, quarter, days
):
    cycle = ensure_cycle(
        organisation, calendar.quarter_period(fiscal_year, quarter), TODAY
    )

    assert local_days(cycle) == days
    assert all(day.weekday() < 5 for day in days)


def test_an_evaluation_on_a_sunday_moves_back_to_the_friday(organisation):
    # No April quarter ends on a Sunday soon, so use a period from another
    # calendar (Aug - Oct 2027) that ends on Sun 31 Oct 2027.
    cycle = ensure_cycle(
        organisation,
        FiscalPeriod(2028, 3, date(2027, 8, 1), date(2027, 10, 31)),
        TODAY,
    )

    assert local_days(cycle)[-1] == date(2027, 10, 29)


# --- rescheduling cadence events ------------------------------------------


def reschedule(organisation: Organisation, cycle: Cycle, day: str) -> CadenceEventForm:
    event = cycle.cadence_events.get(kind=CadenceKind.PLANNING)
    data = {"day": day, "start_time": "10:00", "duration_minutes": "60"}
    return CadenceEventForm(organisation, data, instance=event)


@pytest.mark.parametrize("day", ["2026-09-01", "2026-10-01", "2027-01-30"])
def test_an_event_may_move_up_to_30_days_either_side_of_its_cycle(
    organisation, quarter, day
):
    form = reschedule(organisation, quarter, day)

    assert form.is_valid(), form.errors


@pytest.mark.parametrize("day", ["2026-08-31", "2027-01-31", "2030-10-01"])
def test_an_event_far_from_its_cycle_is_refused_naming_the_range(
    organisation, quarter, day
):
    form = reschedule(organisation, quarter, day)

    assert not form.is_valid()
    assert form.errors["day"] == [
        "Pick a date from 1 Sep 2026 to 30 Jan 2027: up to 30 days before or "
        "after FY2027 Q3 (1 Oct 2026 to 31 Dec 2026)."
    ]


# --- default_cycle --------------------------------------------------------


@pytest.fixture
def running(quarter, fiscal_year) -> tuple[Cycle, Cycle]:
    return quarter, fiscal_year


def opens_on(user, today: date = TODAY) -> Cycle | None:
    return default_cycle(visibility_filter(actor_for(user), "objectives__"), today)


def test_default_cycle_is_the_running_one_with_most_objectives(running, teams, people):
    quarter, year = running
    for title in ("Cut losses", "Grow recoveries"):
        make_objective(year, teams["credit_risk"], people["member"], title=title)
    make_objective(quarter, teams["credit_risk"], people["member"])

    assert opens_on(people["member"]) == year


def test_default_cycle_prefers_the_quarter_on_a_tie(running, teams, people):
    quarter, year = running
    make_objective(year, teams["credit_risk"], people["member"])
    make_objective(quarter, teams["credit_risk"], people["member"])

    assert opens_on(people["member"]) == quarter


def test_default_cycle_prefers_the_quarter_when_both_are_empty(running, people):
    quarter, _ = running

    assert opens_on(people["member"]) == quarter


def test_default_cycle_counts_only_objectives_the_viewer_may_see(
    running, teams, people
):
    quarter, year = running
    for title in ("Watch list", "Limit breaches"):
        make_objective(
            year,
            teams["credit_risk"],
            people["member"],
            title=title,
            visibility=Visibility.TEAM,
        )
    make_objective(quarter, teams["credit_risk"], people["member"])

    assert opens_on(people["member"]) == year
    assert opens_on(people["outsider"]) == quarter


def test_default_cycle_ignores_archived_objectives(running, teams, people):
    quarter, year = running
    for title in ("Old one", "Older one"):
        make_objective(
            year, teams["credit_risk"], people["member"], title=title, archived=True
        )
    make_objective(quarter, teams["credit_risk"], people["member"])

    assert opens_on(people["member"]) == quarter


def test_default_cycle_skips_closed_and_finished_cycles(
    running, organisation, calendar, teams, people
):
    quarter, year = running
    year.state = CycleState.CLOSED
    year.save()
    previous = ensure_cycle(organisation, calendar.quarter_period(2027, 2), TODAY)
    for title in ("A", "B", "C"):
        make_objective(previous, teams["credit_risk"], people["member"], title=title)
    make_objective(year, teams["credit_risk"], people["member"])

    assert opens_on(people["member"]) == quarter


def test_default_cycle_falls_back_to_the_latest_cycle(organisation, calendar, people):
    ensure_cycle(organisation, calendar.quarter_period(2027, 3), TODAY)
    latest = ensure_cycle(organisation, calendar.quarter_period(2027, 4), TODAY)

    assert opens_on(people["member"], today=date(2028, 6, 1)) == latest


def test_default_cycle_is_none_without_cycles(people):
    assert opens_on(people["member"]) is None
