"""Cycles on the fiscal calendar, their cadence, and which one opens first.

The organisation's fiscal year starts in April and is named by the year it
ends in, so FY2027 Q3 runs 1 Oct - 31 Dec 2026 (92 days; its midpoint is day
46 counted from 0, 16 Nov).
"""

from datetime import UTC, date, datetime

import pytest

from creditokr.accounts.models import Organisation
from creditokr.cycles.fiscal import FiscalPeriod
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


def test_next_cycle_refuses_a_cycle_from_another_calendar(organisation):
    # A quarter made when the year started in January does not fit April.
    stray = ensure_cycle(
        organisation,
        FiscalPeriod(2026, 4, date(2026, 10, 1), date(2026, 12, 31)),
        TODAY,
    )

    with pytest.raises(ValueError, match="does not belong to this fiscal calendar"):
        next_cycle(organisation, stray, TODAY)


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
