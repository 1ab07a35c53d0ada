"""Comments and notifications: the shared world plus a colleague and a clock.

The world (tests/conftest.py): Credit Risk has an admin, a manager, a
member and a viewer; the outsider is a member of Sales only. The member
owns both objectives (one org-visible, one team-only) and their key
results. The clock is frozen on Sunday 15 November 2026, noon in London
(GMT, so noon UTC), inside FY2027 Q3 (1 October - 31 December 2026).

Notifications about changes are made once the change commits; tests that
need them run the commit callbacks with `committed`.
"""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine

from creditokr.accounts.models import Role, User
from creditokr.collab.models import Notification
from tests.conftest import make_user

NOON = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[None]:
    with time_machine.travel(NOON, tick=False):
        yield


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "http://okr.example.test"
    settings.CHAT_URLS = []


@pytest.fixture
def colleague(people, teams) -> User:
    """A second member of Credit Risk, who owns nothing yet."""
    return make_user("colleague", teams["credit_risk"], Role.MEMBER)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what waits for the commit (notifications about changes)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def notes(user: User, **filters: object) -> list[Notification]:
    """A person's notifications, oldest first."""
    found = Notification.objects.filter(recipient=user, **filters)
    return list(found.order_by("created_at", "pk"))
