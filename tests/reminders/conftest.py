"""Helpers for the reminder tests: a frozen clock and a pass at a moment.

The shared world (tests/conftest.py) works in Europe/London with FY2027 Q3
running 1 Oct - 31 Dec 2026. In November London is on GMT, so local
Monday 16 November 09:00 is 09:00 UTC.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
import time_machine

from creditokr.reminders.models import Delivery
from creditokr.reminders.planning import plan

MONDAY_9AM = datetime(2026, 11, 16, 9, 0, 30, tzinfo=UTC)


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    with time_machine.travel(moment, tick=False):
        yield


def plan_at(moment: datetime) -> int:
    with at(moment):
        return plan()


def deliveries(**filters: object) -> list[Delivery]:
    return list(Delivery.objects.filter(**filters).order_by("recipient_id", "pk"))


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "http://okr.example.test"
    settings.CHAT_URLS = []
    settings.REMINDER_LATE_CUTOFF_HOURS = 6
    settings.REMINDER_LEASE_SECONDS = 600
