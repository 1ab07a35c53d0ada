"""Creating cycles on the fiscal calendar, with their cadence events.

Who made a cycle, or moved it on or back, is kept in the change history:
the operations take the person (`user`) and write it with the change.
"""

from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from creditokr.accounts.models import Organisation, Team, User
from creditokr.activity.recording import acting, record
from creditokr.cycles.fiscal import FiscalPeriod, local_datetime
from creditokr.cycles.models import (
    CadenceEvent,
    CadenceKind,
    Cycle,
    CycleKind,
    CycleState,
)
from creditokr.okrs.wording import format_day

# (kind, which day, local start time, minutes) for each quarter's rhythm.
CADENCE = [
    (CadenceKind.PLANNING, "start", time(10, 0), 120),
    (CadenceKind.MID_REVIEW, "midpoint", time(10, 0), 60),
    (CadenceKind.END_EVALUATION, "end", time(14, 0), 120),
]
SATURDAY = 5


def ensure_cycle(
    organisation: Organisation,
    period: FiscalPeriod,
    today: date,
    attendees: Team | None = None,
    user: User | None = None,
) -> Cycle:
    """The cycle for a fiscal period, created (with its cadence) if missing.

    Raises ValidationError, creating nothing, when the cycle for that fiscal
    year and quarter exists with other dates: it was made before the
    organisation's fiscal-year start changed, and returning it would pass
    off its old dates as the new period's.
    """
    kind = CycleKind.YEAR if period.quarter is None else CycleKind.QUARTER
    with transaction.atomic(), acting(user):
        cycle, created = Cycle.objects.get_or_create(
            kind=kind,
            fiscal_year=period.fiscal_year,
            quarter=period.quarter,
            defaults={
                "name": period.label,
                "start_date": period.start,
                "end_date": period.end,
                "state": _initial_state(period, today),
            },
        )
        if created and kind == CycleKind.QUARTER:
            add_cadence_events(organisation, cycle, attendees)

    if (cycle.start_date, cycle.end_date) != (period.start, period.end):
        # Made before the fiscal-year start moved: same name, other dates.
        raise ValidationError(
            f"{period.label} already exists with dates {format_day(cycle.start_date)} "
            f"to {format_day(cycle.end_date)} from the earlier fiscal calendar; an "
            "administrator can change its dates in the admin (or delete it if "
            "it holds no objectives) first."
        )
    return cycle


def _initial_state(period: FiscalPeriod, today: date) -> CycleState:
    if today < period.start:
        return CycleState.PLANNING
    if today <= period.end:
        return CycleState.ACTIVE
    return CycleState.IN_REVIEW


def add_cadence_events(
    organisation: Organisation, cycle: Cycle, attendees: Team | None = None
) -> list[CadenceEvent]:
    """Planning at the start, review at the midpoint, evaluation at the end.

    Each lands on a working day: a planning session or mid-quarter review
    that would fall on a Saturday or Sunday moves to the Monday after, and
    an end-of-quarter evaluation on a weekend moves to the Friday before,
    so all three stay inside the quarter. Public holidays differ by country
    and are not known here; people reschedule those by hand.
    """
    period = cycle.period
    days = {
        "start": _weekday_on_or_after(period.start),
        "midpoint": _weekday_on_or_after(period.midpoint),
        "end": _weekday_on_or_before(period.end),
    }
    events = []
    for kind, which, at, minutes in CADENCE:
        event, _ = CadenceEvent.objects.get_or_create(
            cycle=cycle,
            kind=kind,
            defaults={
                "title": f"{cycle.name} {kind.label.lower()}",
                "starts_at": local_datetime(days[which], at, organisation.zone),
                "duration_minutes": minutes,
                "attendees": attendees,
            },
        )
        events.append(event)
    return events


def _weekday_on_or_after(day: date) -> date:
    if day.weekday() < SATURDAY:
        return day
    return day + timedelta(days=7 - day.weekday())


def _weekday_on_or_before(day: date) -> date:
    if day.weekday() < SATURDAY:
        return day
    return day - timedelta(days=day.weekday() - SATURDAY + 1)


def following_period(organisation: Organisation, cycle: Cycle) -> FiscalPeriod:
    """The period after `cycle` on the organisation's current calendar.

    It is the quarter (or fiscal year) that holds the day after the cycle
    ends, worked out from the cycle's own dates. A cycle made before the
    fiscal-year start moved therefore still has a next one; it may overlap
    the old cycle, since the new calendar's periods start on other months.
    """
    calendar = organisation.calendar
    day_after = cycle.end_date + timedelta(days=1)
    if cycle.kind == CycleKind.YEAR:
        return calendar.year_containing(day_after)
    return calendar.quarter_of(day_after)


def next_cycle(
    organisation: Organisation, cycle: Cycle, today: date, user: User | None = None
) -> Cycle:
    """The cycle after `cycle` (next quarter, across the fiscal-year end).

    Raises ValidationError if that fiscal year and quarter are taken by a
    cycle made under an earlier fiscal calendar (see `ensure_cycle`).
    """
    period = following_period(organisation, cycle)
    return ensure_cycle(organisation, period, today, user=user)


def cycles_containing(day: date) -> QuerySet[Cycle]:
    return Cycle.objects.filter(start_date__lte=day, end_date__gte=day)


def default_cycle(visible_objective_filter: Q, today: date) -> Cycle | None:
    """The cycle a dashboard opens on: the running one with most objectives.

    Quarters win ties over years, so a team that plans quarterly lands on its
    quarter, and one whose objectives sit in the fiscal year lands there.
    """
    candidates = (
        cycles_containing(today)
        .exclude(state=CycleState.CLOSED)
        .annotate(
            live=Count(
                "objectives",
                filter=Q(objectives__archived=False) & visible_objective_filter,
            )
        )
        .order_by("-live", "kind", "start_date")
    )
    return candidates.first() or Cycle.objects.order_by("-start_date").first()


def find_cycle(period: FiscalPeriod) -> Cycle | None:
    """The cycle already made for a fiscal period, if there is one."""
    kind = CycleKind.YEAR if period.quarter is None else CycleKind.QUARTER
    return Cycle.objects.filter(
        kind=kind, fiscal_year=period.fiscal_year, quarter=period.quarter
    ).first()


# A cycle moves one step at a time: on through these states, and back only
# when an administrator steps it back (reopens it).
STATE_ORDER = [
    CycleState.PLANNING,
    CycleState.ACTIVE,
    CycleState.IN_REVIEW,
    CycleState.CLOSED,
]


def following_state(cycle: Cycle) -> CycleState | None:
    """The state a cycle moves to next, or None once it is closed."""
    position = STATE_ORDER.index(CycleState(cycle.state))
    return STATE_ORDER[position + 1] if position + 1 < len(STATE_ORDER) else None


def previous_state(cycle: Cycle) -> CycleState | None:
    """The state a cycle steps back to, or None while it is planning."""
    position = STATE_ORDER.index(CycleState(cycle.state))
    return STATE_ORDER[position - 1] if position > 0 else None


def is_step_back(cycle: Cycle, to_state: str) -> bool:
    """Whether `to_state` lies before the cycle's state (however far)."""
    if to_state not in CycleState.values:
        return False
    here = STATE_ORDER.index(CycleState(cycle.state))
    return STATE_ORDER.index(CycleState(to_state)) < here


def check_advance(cycle: Cycle, to_state: str) -> CycleState:
    """The state `advance_cycle_state` would move to; refuses anything else."""
    expected = following_state(cycle)
    if expected is None:
        raise ValidationError({"state": f"{cycle} is closed; it cannot move on."})
    if to_state != expected:
        now, then = _state_name(cycle.state), _state_name(expected)
        raise ValidationError(
            {"state": f"{cycle} is {now}; it can only move to {then} next."}
        )
    return expected


def check_reopen(cycle: Cycle, to_state: str) -> CycleState:
    """The state `reopen_cycle` would step back to; refuses anything else."""
    previous = previous_state(cycle)
    if previous is None:
        raise ValidationError(
            {"state": f"{cycle} is planning; there is no earlier state."}
        )
    if to_state != previous:
        now, then = _state_name(cycle.state), _state_name(previous)
        raise ValidationError(
            {"state": f"{cycle} is {now}; it can only go back to {then}."}
        )
    return previous


def advance_cycle_state(cycle: Cycle, to_state: str, user: User | None = None) -> None:
    """Move a cycle on: planning, active, in review, closed.

    The update only happens if the cycle is still in the state the person
    saw, so two people pressing the same button move it one step, not two.
    """
    _move(cycle, check_advance(cycle, to_state), user)


def reopen_cycle(cycle: Cycle, to_state: str, user: User | None = None) -> None:
    """Step a cycle back one state: closed, in review, active, planning.

    Reopening a closed cycle lets objectives, templates and rescheduled
    meetings into it again. Like `advance_cycle_state`, it moves one step
    however many times it is asked from the same state.
    """
    _move(cycle, check_reopen(cycle, to_state), user)


def _move(cycle: Cycle, to_state: CycleState, user: User | None) -> None:
    """Take the step, and write it to the history (an update sends no
    signals)."""
    with transaction.atomic():
        moved = Cycle.objects.filter(pk=cycle.pk, state=cycle.state).update(
            state=to_state
        )
        if not moved:
            raise ValidationError(
                {
                    "state": f"Someone else changed the state of {cycle}; "
                    "reload the page."
                }
            )
        record(cycle, user, {"state": [cycle.state, to_state.value]})
    cycle.state = to_state


def _state_name(state: str) -> str:
    return CycleState(state).label.lower()


# What a calendar shows of a meeting: changing any of these makes every
# copy out of date, so the event's sequence goes up.
CALENDAR_FIELDS = ("starts_at", "duration_minutes", "location", "title")


def update_cadence_event(
    event: CadenceEvent,
    organisation: Organisation,
    *,
    day: date,
    at: time,
    user: User | None = None,
) -> bool:
    """Save a cadence event starting at `at` on `day`, organisation time.

    The start is stored in UTC; a time the clocks skip moves forward by the
    length of the gap (see `fiscal.local_datetime`). Returns whether the
    meeting changed as calendars see it (time, length, place or title): its
    sequence then goes up, and invitations already sent are out of date.
    """
    event.starts_at = local_datetime(day, at, organisation.zone)
    event.updated_by = user
    event.full_clean()
    moved = bump_sequence_if_moved(event)
    event.save()
    return moved


def bump_sequence_if_moved(event: CadenceEvent) -> bool:
    """Raise an unsaved event's sequence if calendars would see it changed
    (time, length, place or title) against what is stored."""
    saved = CadenceEvent.objects.filter(pk=event.pk).values(*CALENDAR_FIELDS).first()
    moved = saved is not None and any(
        saved[name] != getattr(event, name) for name in CALENDAR_FIELDS
    )
    if moved:
        event.sequence += 1
    return moved


def cancel_cadence_event(event: CadenceEvent, user: User | None = None) -> bool:
    """Call a meeting off; returns False if it was already cancelled.

    The event stays (calendars show it as cancelled for a while) and its
    sequence goes up, so a calendar holding the earlier version takes the
    cancellation as newer.
    """
    return _set_cancelled(event, timezone.now(), user)


def restore_cadence_event(event: CadenceEvent, user: User | None = None) -> bool:
    """Put a cancelled meeting back; returns False if it was not cancelled."""
    return _set_cancelled(event, None, user)


def _set_cancelled(
    event: CadenceEvent, when: datetime | None, user: User | None
) -> bool:
    if (event.cancelled_at is None) == (when is None):
        return False

    changed = CadenceEvent.objects.filter(
        pk=event.pk, cancelled_at__isnull=when is not None
    ).update(
        cancelled_at=when,
        sequence=F("sequence") + 1,
        updated_by=user,
        updated_at=timezone.now(),
    )
    if changed:
        event.refresh_from_db(fields=["cancelled_at", "sequence", "updated_at"])
        event.updated_by = user
    return bool(changed)
