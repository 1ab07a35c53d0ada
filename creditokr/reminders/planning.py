"""The scheduling pass: work out what is due and store it as deliveries.

A pass looks at the window from the late cut-off to now. Check-in,
deadline, review and digest reminders whose time (in the recipient's own
zone) falls inside it are stored, one message per person per occurrence;
earlier ones are left unsent, because a weekly reminder two days late is
noise. Overdue notices are about a state that lasts, so they are sent even
after the worker was down, once per person and item.
"""

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from creditokr.accounts.models import Organisation
from creditokr.cycles.fiscal import local_datetime
from creditokr.cycles.models import CadenceEvent, CycleState
from creditokr.okrs.progress import Tolerances
from creditokr.reminders import digest
from creditokr.reminders.cadence import Cadence, at_local_time, occurrences
from creditokr.reminders.compose import Person, compose, day_text, link
from creditokr.reminders.delivery import Message, Preferences, preferences_of, store
from creditokr.reminders.delivery import wanted as wanted_for
from creditokr.reminders.models import (
    Delivery,
    Kind,
    OverdueNotice,
    ReminderRule,
    ReminderSettings,
)
from creditokr.reminders.world import (
    GRACE_DAYS,
    LiveKeyResult,
    OpenInitiative,
    Rules,
    group_by_team,
    load_initiatives,
    load_key_results,
    load_people,
    load_recent_check_ins,
    load_rules,
)

logger = logging.getLogger(__name__)

# Overdue notices look back this far, so a new installation does not send
# one for every item that ever slipped.
OVERDUE_LOOKBACK_DAYS = 7


@dataclass
class Pass:
    """One scheduling pass: the window, and what was loaded for it."""

    now: datetime
    start: datetime
    organisation: Organisation
    settings: ReminderSettings
    people: dict[int, Person]
    preferences: Preferences
    stored: set[tuple[int, str, str]] = field(default_factory=set)
    messages: list[Message] = field(default_factory=list)
    notices: list[OverdueNotice] = field(default_factory=list)

    def is_new(self, person: Person, kind: str, occurrence: str) -> bool:
        """Whether this occurrence still needs composing (not stored yet)."""
        return (person.pk, kind, occurrence) not in self.stored

    @property
    def tolerances(self) -> Tolerances:
        return self.organisation.tolerances

    def wanted(self, person: Person, kind: str) -> tuple[str, ...]:
        """The channels this person wants for kind; () if unsubscribed."""
        choice = wanted_for(self.preferences, person.pk, kind)
        return choice.channels if choice.enabled else ()

    def today(self, person: Person) -> date:
        return self.now.astimezone(person.zone).date()


def plan_job() -> int:
    return plan()


def plan(now: datetime | None = None) -> int:
    """Store what is due from the late cut-off to now; returns new rows."""
    now = now or timezone.now()
    start = now - timedelta(hours=settings.REMINDER_LATE_CUTOFF_HOURS)
    organisation = Organisation.get()
    run = Pass(
        now,
        start,
        organisation,
        ReminderSettings.get(),
        load_people(organisation),
        preferences_of(),
        already_stored(start),
    )
    # Local "today" differs by up to a day either side across time zones.
    first_day = start.date() - timedelta(days=2)
    last_day = now.date() + timedelta(days=2)
    ahead = timedelta(days=run.settings.deadline_days_before)
    key_results = load_key_results(first_day, last_day + ahead)

    plan_check_ins(run, key_results, load_rules())
    plan_deadlines(run, key_results, first_day, last_day)
    plan_reviews(run)
    digest.plan_digests(run)

    with transaction.atomic():
        OverdueNotice.objects.bulk_create(run.notices, ignore_conflicts=True)
        people = run.people
        emails = {m.recipient_id: people[m.recipient_id].email for m in run.messages}
        created = store(run.messages, emails, run.preferences)
    if created:
        logger.info("planned %s deliveries", created)
    return created


def already_stored(start: datetime) -> set[tuple[int, str, str]]:
    """Occurrences stored lately, so a pass does not compose them again."""
    recent = Delivery.objects.filter(created_at__gte=start - timedelta(days=1))
    return set(recent.values_list("recipient_id", "kind", "occurrence"))


# Check-ins


def plan_check_ins(run: Pass, key_results: list[LiveKeyResult], rules: Rules) -> None:
    """One message per person per reminder time, listing every key result."""
    longest = max(
        [rules.organisation, *rules.by_team.values(), *rules.by_key_result.values()],
        key=lambda rule: rule.skip_if_checked_in_days,
    )
    recent = load_recent_check_ins(
        run.start - timedelta(days=longest.skip_if_checked_in_days)
    )
    cache: dict[tuple[int, str, date | None], list[tuple[date, datetime]]] = {}
    due: dict[tuple[int, date, datetime], list[LiveKeyResult]] = defaultdict(list)

    for key_result in key_results:
        owner = run.people.get(key_result.owner_id)
        rule = rules.for_key_result(key_result.pk, key_result.team_id)
        if owner is None or not rule.enabled or not run.wanted(owner, Kind.CHECK_IN):
            continue
        if not owner.can_see(key_result.visibility, key_result.team_id):
            continue
        for day, instant in _rule_times(run, cache, rule, owner.zone, key_result):
            if not _in_cycle(key_result, day):
                continue
            checked = recent.get((key_result.pk, owner.pk))
            skip = timedelta(days=rule.skip_if_checked_in_days)
            if checked is not None and checked >= instant - skip:
                continue
            if key_result.is_complete(day, run.tolerances):
                continue
            due[(owner.pk, day, instant)].append(key_result)

    for (person_id, day, instant), items in due.items():
        person = run.people[person_id]
        local = instant.astimezone(person.zone)
        occurrence = f"check-in:{day.isoformat()}T{local:%H:%M}"
        if not run.is_new(person, Kind.CHECK_IN, occurrence):
            continue
        run.messages.append(
            compose(
                person,
                Kind.CHECK_IN,
                occurrence,
                "check_in",
                {"day": day, "items": [_key_result_line(kr) for kr in items]},
                run.wanted(person, Kind.CHECK_IN),
                not_before=instant,
            )
        )


def _rule_times(
    run: Pass,
    cache: dict[tuple[int, str, date | None], list[tuple[date, datetime]]],
    rule: ReminderRule,
    zone: ZoneInfo,
    key_result: LiveKeyResult,
) -> list[tuple[date, datetime]]:
    cadence: Cadence = rule.cadence
    # Only two-weekly cadences depend on the cycle they count weeks from.
    anchor = key_result.cycle_start if cadence.frequency == "fortnightly" else None
    key = (rule.pk, str(zone), anchor)
    if key not in cache:
        cache[key] = occurrences(
            cadence, anchor or key_result.cycle_start, zone, run.start, run.now
        )
    return cache[key]


def _in_cycle(key_result: LiveKeyResult, day: date) -> bool:
    """Never before the cycle starts; a week's grace after it ends."""
    last = key_result.cycle_end + timedelta(days=GRACE_DAYS)
    return key_result.cycle_start <= day <= last


def _key_result_line(key_result: LiveKeyResult) -> dict[str, Any]:
    return {
        "title": key_result.title,
        "objective": key_result.objective_title,
        "due_text": day_text(key_result.due),
        "url": link("check_in_create", key_result.pk),
    }


# Deadlines and overdue notices


@dataclass(frozen=True)
class Item:
    """A key result or initiative with a due date, as one line in a message."""

    key: str
    title: str
    objective: str
    due: date
    url: str

    @property
    def due_text(self) -> str:
        return day_text(self.due)


def plan_deadlines(
    run: Pass, key_results: list[LiveKeyResult], first_day: date, last_day: date
) -> None:
    days_before = run.settings.deadline_days_before
    lookback = first_day - timedelta(days=OVERDUE_LOOKBACK_DAYS)
    items = list(
        _deadline_items(
            run, key_results, lookback, last_day + timedelta(days=days_before)
        )
    )
    already = set(
        OverdueNotice.objects.filter(due_date__gte=lookback).values_list(
            "recipient_id", "item", "due_date"
        )
    )
    coming: dict[tuple[int, date, datetime], list[Item]] = defaultdict(list)
    overdue: dict[int, list[Item]] = defaultdict(list)
    for person, item in items:
        at = run.settings.notice_time
        warn_day = item.due - timedelta(days=days_before)
        instant = at_local_time(warn_day, at, person.zone, run.start, run.now)
        if instant is not None and run.wanted(person, Kind.DEADLINE):
            coming[(person.pk, warn_day, instant)].append(item)
        late = local_datetime(item.due + timedelta(days=1), at, person.zone)
        told = (person.pk, item.key, item.due) in already
        if late <= run.now and not told and run.wanted(person, Kind.OVERDUE):
            overdue[person.pk].append(item)

    for (person_id, day, instant), found in coming.items():
        person = run.people[person_id]
        occurrence = f"deadline:{day.isoformat()}"
        if not run.is_new(person, Kind.DEADLINE, occurrence):
            continue
        run.messages.append(
            compose(
                person,
                Kind.DEADLINE,
                occurrence,
                "deadline",
                {"items": found, "days": days_before},
                run.wanted(person, Kind.DEADLINE),
                not_before=instant,
            )
        )
    for person_id, found in overdue.items():
        _plan_overdue(run, run.people[person_id], found)


def _plan_overdue(run: Pass, person: Person, found: list[Item]) -> None:
    keys = sorted(f"{item.key}@{item.due}" for item in found)
    fingerprint = hashlib.sha256("|".join(keys).encode()).hexdigest()[:16]
    run.messages.append(
        compose(
            person,
            Kind.OVERDUE,
            f"overdue:{run.today(person).isoformat()}:{fingerprint}",
            "overdue",
            {"items": found},
            run.wanted(person, Kind.OVERDUE),
        )
    )
    run.notices.extend(
        OverdueNotice(recipient_id=person.pk, item=item.key, due_date=item.due)
        for item in found
    )


def _deadline_items(
    run: Pass, key_results: list[LiveKeyResult], first_day: date, last_day: date
) -> Iterable[tuple[Person, Item]]:
    """(recipient, item) for everything due from first_day to last_day."""
    for kr in key_results:
        owner = run.people.get(kr.owner_id)
        if owner is None or not first_day <= kr.due <= last_day:
            continue
        if not owner.can_see(kr.visibility, kr.team_id):
            continue
        if kr.is_complete(run.today(owner), run.tolerances):
            continue
        url = link("objective_detail", kr.objective_id)
        yield (
            owner,
            Item(f"key_result:{kr.pk}", kr.title, kr.objective_title, kr.due, url),
        )

    initiatives: list[OpenInitiative] = load_initiatives(first_day, last_day)
    for initiative in initiatives:
        url = link("objective_detail", initiative.objective_id)
        item = Item(
            f"initiative:{initiative.pk}",
            initiative.title,
            initiative.objective_title,
            initiative.due,
            url,
        )
        for person_id in sorted(initiative.recipients):
            person = run.people.get(person_id)
            if person and person.can_see(initiative.visibility, initiative.team_id):
                yield person, item


# Review meetings


def plan_reviews(run: Pass) -> None:
    """The day before each meeting, to everyone in its attendees team."""
    events = (
        CadenceEvent.objects.filter(
            attendees__isnull=False,
            starts_at__gte=run.start,
            starts_at__lte=run.now + timedelta(days=3),
        )
        .exclude(cycle__state=CycleState.CLOSED)
        .select_related("cycle")
    )
    teams = group_by_team(run.people)
    at = run.settings.notice_time
    for event in events:
        if getattr(event, "cancelled_at", None) is not None:
            continue
        for person in teams.get(event.attendees_id or 0, []):
            local = event.starts_at.astimezone(person.zone)
            eve = local.date() - timedelta(days=1)
            instant = at_local_time(eve, at, person.zone, run.start, run.now)
            channels = run.wanted(person, Kind.REVIEW)
            occurrence = f"review:{event.pk}:{event.starts_at:%Y%m%dT%H%M}"
            if instant is None or not channels:
                continue
            if not run.is_new(person, Kind.REVIEW, occurrence):
                continue
            run.messages.append(
                compose(
                    person,
                    Kind.REVIEW,
                    occurrence,
                    "review",
                    {
                        "event": event,
                        "when": f"{local:%A} {local.day} {local:%B %Y, %H:%M}",
                        "when_short": f"{local:%a} {local.day} {local:%b %H:%M}",
                        "url": link("cycle_detail", event.cycle_id),
                    },
                    channels,
                    not_before=instant,
                )
            )
