"""Secret feed addresses and what each feed holds.

A feed is read with its owner's eyes, as they stand at the time of the
fetch: everything goes through `okrs.access` with `actor_of(owner)`, so a
feed never shows what its owner could not open in the app. A revoked
feed, one whose owner is deactivated, and a team feed whose owner has
left the team answer like an address that never existed.
"""

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from icalendar import Event

from creditokr.accounts.models import Membership, Organisation, Team, User
from creditokr.calendars import ical
from creditokr.calendars.models import CalendarFeed, FeedScope
from creditokr.cycles.models import CadenceEvent, Cycle, CycleState
from creditokr.okrs import access
from creditokr.okrs.models import Initiative, KeyResult

logger = logging.getLogger(__name__)

# A cancelled meeting stays in feeds, marked cancelled, for this long, so
# calendars that fetch now and then still learn about the cancellation.
CANCELLED_KEPT_FOR = timedelta(days=30)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(token: str) -> str:
    return ical.absolute(reverse("calendar_feed", args=[token]))


def create_feed(
    owner: User,
    scope: FeedScope,
    *,
    team: Team | None = None,
    cycle: Cycle | None = None,
) -> tuple[CalendarFeed, str]:
    """A new feed and its secret token, which is not stored and not shown
    again: only its hash is kept."""
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(
        owner=owner, scope=scope, team=team, cycle=cycle, token_hash=token_hash(token)
    )
    logger.info("calendar feed %s (%s) created by user %s", feed.pk, scope, owner.pk)
    return feed, token


def revoke_feed(feed: CalendarFeed) -> bool:
    """Stop a feed for good; returns False if it was already revoked."""
    revoked = CalendarFeed.objects.filter(pk=feed.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    feed.refresh_from_db(fields=["revoked_at"])
    if revoked:
        logger.info("calendar feed %s revoked", feed.pk)
    return bool(revoked)


def live_feeds(owner: User) -> QuerySet[CalendarFeed]:
    return CalendarFeed.objects.filter(
        owner=owner, revoked_at__isnull=True
    ).select_related("team", "cycle")


def feed_for_token(token: str) -> CalendarFeed | None:
    """The live feed behind a token, or None when it may not be read."""
    feed = (
        CalendarFeed.objects.filter(
            token_hash=token_hash(token),
            revoked_at__isnull=True,
            owner__is_active=True,
        )
        .select_related("owner", "team", "cycle")
        .first()
    )
    if feed is None:
        return None
    if feed.scope == FeedScope.TEAM and not _is_member(feed.owner, feed.team):
        return None
    return feed


def _is_member(person: User, team: Team | None) -> bool:
    return Membership.objects.filter(user=person, team=team).exists()


def mark_fetched(feed: CalendarFeed) -> None:
    CalendarFeed.objects.filter(pk=feed.pk).update(last_fetched_at=timezone.now())


# What a feed holds


def render_feed(feed: CalendarFeed, organisation: Organisation) -> bytes:
    """The whole feed as iCalendar bytes, read as its owner sees things."""
    now = timezone.now()
    zone = organisation.zone
    components: list[Event] = [
        ical.cadence_event(event, zone, now) for event in _cadence_events(feed, now)
    ]
    components += [ical.key_result_deadline(kr, now) for kr in _key_results(feed)]
    components += [ical.initiative_deadline(i, now) for i in _initiatives(feed)]
    return ical.to_bytes(ical.new_calendar(feed.name), components)


def _live_cycles() -> QuerySet[Cycle]:
    return Cycle.objects.exclude(state=CycleState.CLOSED)


def _cadence_events(feed: CalendarFeed, now: datetime) -> QuerySet[CadenceEvent]:
    events = CadenceEvent.objects.filter(
        Q(cancelled_at__isnull=True) | Q(cancelled_at__gte=now - CANCELLED_KEPT_FOR)
    ).select_related("cycle", "attendees")
    everyone = Q(attendees__isnull=True)
    if feed.scope == FeedScope.CYCLE:
        return events.filter(cycle=feed.cycle)
    events = events.filter(cycle__in=_live_cycles())
    if feed.scope == FeedScope.TEAM:
        return events.filter(everyone | Q(attendees=feed.team))
    teams = Membership.objects.filter(user=feed.owner).values("team_id")
    return events.filter(everyone | Q(attendees_id__in=teams))


def _key_results(feed: CalendarFeed) -> QuerySet[KeyResult]:
    actor = access.actor_of(feed.owner)
    key_results = (
        access.visible_key_results(actor)
        .filter(archived=False, objective__archived=False)
        .select_related("objective__cycle", "owner")
    )
    if feed.scope == FeedScope.CYCLE:
        return key_results.filter(objective__cycle=feed.cycle)
    key_results = key_results.filter(objective__cycle__in=_live_cycles())
    if feed.scope == FeedScope.TEAM:
        return key_results.filter(objective__team=feed.team)
    return key_results.filter(owner=feed.owner)


def _initiatives(feed: CalendarFeed) -> QuerySet[Initiative]:
    if feed.scope == FeedScope.CYCLE:
        return Initiative.objects.none()
    actor = access.actor_of(feed.owner)
    initiatives = (
        access.visible_initiatives(actor)
        .filter(
            Q(key_result__isnull=True) | Q(key_result__archived=False),
            due_date__isnull=False,
            objective__archived=False,
            objective__cycle__in=_live_cycles(),
        )
        .select_related("objective", "assignee")
    )
    if feed.scope == FeedScope.TEAM:
        return initiatives.filter(objective__team=feed.team)
    return initiatives.filter(assignee=feed.owner)
