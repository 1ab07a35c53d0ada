"""Calendar tests: a frozen clock, feeds made for the personas, and the two
independent parsers every feed and invitation is read back with."""

from datetime import UTC, datetime
from typing import Any

import icalendar
import pytest
import time_machine
import vobject
from django.urls import reverse

from creditokr.calendars.feeds import create_feed
from creditokr.calendars.models import FeedScope

# Sunday 15 November 2026, noon in London (GMT, UTC+0 since 25 October).
NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://okr.example.test"
    settings.DEFAULT_FROM_EMAIL = "okr@example.test"


def make_feed(owner, scope=FeedScope.PERSON, **target) -> str:
    """A new feed's token."""
    _feed, token = create_feed(owner, scope, **target)
    return token


def fetch(client, token: str):
    return client.get(reverse("calendar_feed", args=[token]))


def read_feed(client, token: str) -> bytes:
    response = fetch(client, token)
    assert response.status_code == 200, response.status_code
    content: bytes = response.content
    return content


def parse_both(data: bytes):
    """The calendar as icalendar and as vobject read it."""
    return icalendar.Calendar.from_ical(data), vobject.readOne(data.decode())


def events_by_uid(calendar) -> dict[str, Any]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def vevents_by_uid(component) -> dict[str, Any]:
    return {event.uid.value: event for event in component.contents.get("vevent", [])}
