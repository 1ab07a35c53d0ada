"""iCalendar (RFC 5545) events for meetings and deadlines.

Every item has a UID that never changes (`cadence-12@okr.example.com`), so
a calendar program that fetches the feed again, or receives an invitation
for the same meeting, updates its copy instead of adding another. Meetings
are written in the organisation's time zone with its VTIMEZONE, so a review
set for 10:00 stays at 10:00 across a change of the clocks; deadlines are
all-day events (a DATE start and the next day as the exclusive end) that
do not block time. icalendar does the escaping and line folding.
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import STATUS, TRANSP, Calendar, Event

from creditokr.cycles.models import CadenceEvent
from creditokr.okrs.models import Initiative, KeyResult

PRODID = "-//CreditOKR//Calendars 1.0//EN"
DEFAULT_SITE_URL = "http://127.0.0.1:8000"
ONE_DAY = timedelta(days=1)
# How far either side of its events a calendar's time zone rules reach.
ZONE_MARGIN = timedelta(days=366)


def site_url() -> str:
    """Where people open the app, without a trailing slash."""
    configured: str = getattr(settings, "SITE_URL", "") or DEFAULT_SITE_URL
    return configured.rstrip("/")


def absolute(path: str) -> str:
    return f"{site_url()}{path}"


def uid_host() -> str:
    """The domain part of every UID: the app's host name."""
    return urlsplit(site_url()).hostname or "creditokr.invalid"


def cadence_uid(event: CadenceEvent) -> str:
    return f"cadence-{event.pk}@{uid_host()}"


def key_result_uid(key_result: KeyResult) -> str:
    return f"kr-due-{key_result.pk}@{uid_host()}"


def initiative_uid(initiative: Initiative) -> str:
    return f"initiative-due-{initiative.pk}@{uid_host()}"


def new_calendar(name: str, method: str | None = None) -> Calendar:
    """An empty VCALENDAR; `method` for invitations (REQUEST, CANCEL)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method is not None:
        calendar.add("method", method)
    calendar.add("x-wr-calname", name)
    return calendar


def to_bytes(calendar: Calendar, events: Iterable[Event] = ()) -> bytes:
    """The calendar with `events` and the VTIMEZONE components they use."""
    days = []
    for event in events:
        calendar.add_component(event)
        days.append(_day(event.start))
    if days:
        calendar.add_missing_timezones(
            first_date=min(days) - ZONE_MARGIN, last_date=max(days) + ZONE_MARGIN
        )
    data: bytes = calendar.to_ical()
    return data


def _day(moment: date | datetime) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def cadence_event(event: CadenceEvent, zone: ZoneInfo, stamp: datetime) -> Event:
    """A meeting, at its time in the organisation's zone (`zone`)."""
    cycle = event.cycle
    lines = [
        f"{event.get_kind_display()} of {cycle.name}.",
        f"Who attends: {event.attendees or 'everyone'}.",
    ]
    if event.notes:
        lines += ["", event.notes]
    link = absolute(reverse("cycle_detail", args=[cycle.pk]))
    component = Event.new(
        uid=cadence_uid(event),
        summary=event.title,
        start=timezone.localtime(event.starts_at, zone),
        end=timezone.localtime(event.ends_at, zone),
        stamp=_utc(stamp),
        sequence=event.sequence,
        status=STATUS.CANCELLED if event.is_cancelled else STATUS.CONFIRMED,
        description=_with_link(lines, link),
        url=link,
    )
    if event.location:
        component.add("location", event.location)
    if event.updated_at is not None:
        component.add("last-modified", _utc(event.updated_at))
    return component


def key_result_deadline(key_result: KeyResult, stamp: datetime) -> Event:
    """A key result's due date (the cycle's end when it has none)."""
    objective = key_result.objective
    lines = [
        f"Key result due: {key_result.title}",
        f"Objective: {objective.title} ({objective.cycle.name})",
        f"Owner: {key_result.owner}",
    ]
    link = absolute(reverse("objective_detail", args=[objective.pk]))
    return _deadline(
        key_result_uid(key_result),
        f"Due: {key_result.title}",
        key_result.effective_due_date,
        key_result.version,
        _with_link(lines, link),
        link,
        stamp,
    )


def initiative_deadline(initiative: Initiative, stamp: datetime) -> Event:
    """An initiative's due date; it must have one."""
    assert initiative.due_date is not None
    objective = initiative.objective
    lines = [
        f"Initiative due: {initiative.title} ({initiative.get_state_display()})",
        f"Objective: {objective.title}",
        f"Assigned to: {initiative.assignee or 'nobody yet'}",
    ]
    link = absolute(reverse("objective_detail", args=[objective.pk]))
    return _deadline(
        initiative_uid(initiative),
        f"Due: {initiative.title}",
        initiative.due_date,
        initiative.version,
        _with_link(lines, link),
        link,
        stamp,
    )


def _deadline(
    uid: str,
    summary: str,
    day: date,
    sequence: int,
    description: str,
    link: str,
    stamp: datetime,
) -> Event:
    # An all-day item ends (exclusively) at the start of the next day.
    return Event.new(
        uid=uid,
        summary=summary,
        start=day,
        end=day + ONE_DAY,
        stamp=_utc(stamp),
        sequence=sequence,
        transparency=TRANSP.TRANSPARENT,
        description=description,
        url=link,
    )


def _with_link(lines: list[str], link: str) -> str:
    return "\n".join([*lines, "", link])


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
