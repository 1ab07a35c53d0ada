"""Turning what is due into messages: subject, text and HTML per person."""

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from creditokr.reminders.delivery import Message
from creditokr.reminders.tokens import make_token


@dataclass
class Person:
    """What planning needs to know about someone, loaded in bulk."""

    pk: int
    name: str
    email: str
    zone: ZoneInfo
    is_admin: bool = False
    team_ids: set[int] = field(default_factory=set)

    def can_see(self, visibility: str, team_id: int) -> bool:
        """The access rule of okrs.access, for rows loaded in bulk."""
        return self.is_admin or visibility == "org" or team_id in self.team_ids


def day_text(day: date) -> str:
    """15 Nov 2026, as pages write it; plain strftime, as it runs per line."""
    return f"{day.day} {day:%b %Y}"


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


_PLACEHOLDER = 987654321987


@functools.cache
def _pattern(name: str) -> str:
    return reverse(name, args=[_PLACEHOLDER]).replace(str(_PLACEHOLDER), "{}")


def link(name: str, pk: int) -> str:
    """The absolute address of a page that takes one id (reversed once)."""
    return absolute(_pattern(name).format(pk))


def unsubscribe_url(user_id: int, kind: str) -> str:
    token = make_token(user_id, kind)
    return absolute(reverse("reminder_unsubscribe", args=[token]))


def compose(
    person: Person,
    kind: str,
    occurrence: str,
    template: str,
    context: Mapping[str, Any],
    channels: Sequence[str],
    not_before: datetime | None = None,
) -> Message:
    """Render reminders/email/<template> for one person into a message."""
    unsubscribe = unsubscribe_url(person.pk, kind)
    full = {
        **context,
        "person": person,
        "site_url": settings.SITE_URL,
        "unsubscribe_url": unsubscribe,
        "preferences_url": absolute(reverse("notification_preferences")),
    }
    subject = render_to_string(f"reminders/email/{template}_subject.txt", full)
    return Message(
        recipient_id=person.pk,
        kind=kind,
        occurrence=occurrence,
        subject=" ".join(subject.split()),
        text=render_to_string(f"reminders/email/{template}.txt", full),
        html=render_to_string(f"reminders/email/{template}.html", full),
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        channels=channels,
        not_before=not_before,
    )
