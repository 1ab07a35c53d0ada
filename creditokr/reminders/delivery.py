"""The delivery store: each message to each person, once per occurrence.

Everything that sends email or chat goes through `enqueue` (one message)
or `store` (many at once, as the planning pass does). A row is written per
channel; the worker sends it later (see `sending`). Storing the same
occurrence again adds nothing, so planning can run as often as it likes.
"""

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from creditokr.accounts.models import User
from creditokr.reminders.models import Channel, Delivery, Kind, Preference, Status

BATCH = 500


@dataclass(frozen=True)
class Wanted:
    """A person's choice for one kind of message."""

    enabled: bool = True
    email: bool = True
    chat: bool = False

    @property
    def channels(self) -> tuple[str, ...]:
        chosen = [(self.email, Channel.EMAIL), (self.chat, Channel.CHAT)]
        return tuple(channel.value for on, channel in chosen if on)


DEFAULT = Wanted()
Preferences = Mapping[tuple[int, str], Wanted]


@dataclass(frozen=True)
class Message:
    """What to send one person; rendered before it is stored."""

    recipient_id: int
    kind: str
    occurrence: str
    subject: str
    text: str
    html: str = ""
    attachments: Sequence[tuple[str, bytes, str]] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    channels: Sequence[str] = (Channel.EMAIL.value,)
    not_before: datetime | None = None


def enqueue(
    recipient: User,
    kind: str,
    occurrence: str,
    *,
    subject: str,
    text: str,
    html: str = "",
    attachments: Sequence[tuple[str, bytes, str]] = (),
    headers: Mapping[str, str] | None = None,
    channels: Sequence[str] = ("email",),
    not_before: datetime | None = None,
) -> list[Delivery]:
    """Store one message per channel for the worker to send.

    Enqueueing an occurrence again is a no-op that returns the rows already
    there. Invitations go by email only and ignore unsubscribes (they are
    calendar messages); other kinds follow the person's preferences, and a
    channel they turned off is stored as skipped with the reason.
    """
    message = Message(
        recipient.pk,
        kind,
        occurrence,
        subject,
        text,
        html,
        attachments,
        headers or {},
        channels,
        not_before,
    )
    store([message], {recipient.pk: recipient.email}, preferences_of([recipient.pk]))
    return list(
        Delivery.objects.filter(
            recipient=recipient, kind=kind, occurrence=occurrence
        ).order_by("channel")
    )


def store(
    messages: Iterable[Message], emails: Mapping[int, str], preferences: Preferences
) -> int:
    """Write the rows for many messages in bulk; returns how many were new."""
    now = timezone.now()
    rows = [
        row
        for message in messages
        for row in _rows_for(
            message, emails.get(message.recipient_id, ""), preferences, now
        )
    ]
    if not rows:
        return 0

    before = Delivery.objects.count()
    Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=BATCH)
    return Delivery.objects.count() - before


def preferences_of(
    user_ids: Iterable[int] | None = None,
) -> dict[tuple[int, str], Wanted]:
    """Stated preferences, by (person, kind); None loads everyone's."""
    rows = Preference.objects.all()
    if user_ids is not None:
        rows = rows.filter(user_id__in=list(user_ids))
    return {
        (user_id, kind): Wanted(enabled, email, chat)
        for user_id, kind, enabled, email, chat in rows.values_list(
            "user_id", "kind", "enabled", "email", "chat"
        )
    }


def wanted(preferences: Preferences, user_id: int, kind: str) -> Wanted:
    return preferences.get((user_id, kind), DEFAULT)


def _rows_for(
    message: Message, email: str, preferences: Preferences, now: datetime
) -> list[Delivery]:
    channels = list(dict.fromkeys(message.channels))
    if message.kind == Kind.INVITATION:
        channels = [Channel.EMAIL.value]
    choice = wanted(preferences, message.recipient_id, message.kind)
    rows = []
    for channel in channels:
        reason = skip_reason(message.kind, channel, email, choice)
        by_email = channel == Channel.EMAIL
        rows.append(
            Delivery(
                recipient_id=message.recipient_id,
                kind=message.kind,
                occurrence=message.occurrence,
                channel=channel,
                status=Status.SKIPPED if reason else Status.PENDING,
                last_error=reason,
                next_attempt_at=message.not_before or now,
                subject=message.subject[:300],
                text=message.text,
                html=message.html if by_email else "",
                attachments=_encoded(message.attachments) if by_email else [],
                headers=dict(message.headers) if by_email else {},
            )
        )
    return rows


def skip_reason(kind: str, channel: str, email: str, choice: Wanted) -> str:
    """Why a message will not go out on this channel, or "" if it will."""
    if kind != Kind.INVITATION:
        if not choice.enabled:
            return "The person unsubscribed from this kind of message."
        if channel not in choice.channels:
            return f"The person turned {channel} off for this kind of message."
    if channel == Channel.EMAIL and not email:
        return "The person has no email address."
    if channel == Channel.CHAT and not settings.CHAT_URLS:
        return "No chat is configured (CHAT_URLS)."
    if channel not in Channel.values:
        return f"Unknown channel {channel!r}."
    return ""


def _encoded(attachments: Sequence[tuple[str, bytes, str]]) -> list[list[str]]:
    return [
        [name, base64.b64encode(content).decode("ascii"), mimetype]
        for name, content, mimetype in attachments
    ]


def decoded(attachments: Sequence[Sequence[str]]) -> list[tuple[str, bytes, str]]:
    return [
        (name, base64.b64decode(content), mimetype)
        for name, content, mimetype in attachments
    ]
