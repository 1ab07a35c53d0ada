"""Sending stored deliveries: claim, send, record, retry.

A worker claims due rows in one short transaction (row locks skipped by
others on PostgreSQL; on SQLite the write lock taken at BEGIN makes
workers queue), marks them sending under its name, commits, and only then
sends. Each send is recorded as a DeliveryAttempt. A row left in sending
longer than the lease (its worker died) is claimed again; its email keeps
the same Message-ID, so a resend after a crash is recognisably the same
message.
"""

import hashlib
import logging
import os
import re
import socket
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from email import policy
from email.message import MIMEPart
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, mailers
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from creditokr.reminders.delivery import decoded
from creditokr.reminders.models import (
    Channel,
    Delivery,
    DeliveryAttempt,
    Kind,
    Outcome,
    Status,
)

logger = logging.getLogger(__name__)

BATCH = 20
MAX_ATTEMPTS = 5
BACKOFF_MINUTES = (1, 5, 25, 125)  # after attempts 1 to 4; the 5th is final
SEND_JOB_SECONDS = 8.0
# Reminders about a moment; these are still worth sending late.
LASTING_KINDS = {Kind.OVERDUE, Kind.INVITATION}


class ChatError(Exception):
    """The chat service did not accept the message."""


def worker_name() -> str:
    """The name this process claims under: --worker-name, else host:pid."""
    name = os.environ.get("CREDITOKR_WORKER_NAME")
    return name or f"{socket.gethostname()}:{os.getpid()}"


def send_job() -> int:
    """The worker's job: send batches until none is due or time is up."""
    started = time.monotonic()
    total = 0
    while time.monotonic() - started < SEND_JOB_SECONDS:
        sent = send_due()
        total += sent
        if not sent:
            break
    return total


def send_due(worker: str | None = None, limit: int = BATCH) -> int:
    """Claim up to `limit` due deliveries and send them; returns how many."""
    worker = worker or worker_name()
    skip_stale(timezone.now())
    claimed = claim(worker, limit)
    for delivery in claimed:
        attempt(delivery, worker)
    return len(claimed)


def skip_stale(now: datetime) -> int:
    """Leave unsent reminders that are now too late to be of use."""
    too_old = now - timedelta(hours=settings.REMINDER_LATE_CUTOFF_HOURS)
    return (
        Delivery.objects.filter(
            status=Status.PENDING, attempts=0, next_attempt_at__lt=too_old
        )
        .exclude(kind__in=LASTING_KINDS)
        .update(status=Status.SKIPPED, last_error="Too late to be useful; not sent.")
    )


def due_filter(now: datetime) -> Q:
    lease = timedelta(seconds=settings.REMINDER_LEASE_SECONDS)
    waiting = Q(status__in=[Status.PENDING, Status.FAILED], next_attempt_at__lte=now)
    abandoned = Q(status=Status.SENDING, claimed_at__lt=now - lease)
    return waiting | abandoned


def claim(worker: str, limit: int = BATCH) -> list[Delivery]:
    """Mark due deliveries as this worker's, in one committed transaction."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(due_filter(now))
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return []

        DeliveryAttempt.objects.filter(
            delivery_id__in=ids, outcome=Outcome.STARTED
        ).update(outcome=Outcome.ABANDONED, finished_at=now)
        Delivery.objects.filter(pk__in=ids).update(
            status=Status.SENDING,
            claimed_by=worker,
            claimed_at=now,
            attempts=F("attempts") + 1,
        )
        claimed = list(
            Delivery.objects.filter(pk__in=ids)
            .select_related("recipient")
            .order_by("next_attempt_at", "pk")
        )
        DeliveryAttempt.objects.bulk_create(
            DeliveryAttempt(
                delivery=delivery,
                number=delivery.attempts,
                worker=worker,
                started_at=now,
            )
            for delivery in claimed
        )
    return claimed


def attempt(delivery: Delivery, worker: str) -> bool:
    """Send one claimed delivery and record the outcome; True if sent."""
    if not renew(delivery, worker):
        logger.info("delivery %s was taken over; %s leaves it", delivery.pk, worker)
        return False

    try:
        if delivery.channel == Channel.CHAT:
            send_chat(delivery)
        else:
            send_email(delivery)
    except Exception as error:  # any failure is recorded and retried
        record_failure(delivery, worker, error)
        return False

    record_success(delivery, worker)
    return True


def renew(delivery: Delivery, worker: str) -> bool:
    """Restart the lease just before sending; False if it is no longer ours.

    A batch can outlast the lease when the mail server is slow; renewing per
    message keeps a second worker from taking a row this one still holds.
    """
    now = timezone.now()
    renewed = Delivery.objects.filter(
        pk=delivery.pk, status=Status.SENDING, claimed_by=worker
    ).update(claimed_at=now)
    return renewed == 1


def record_success(delivery: Delivery, worker: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk, claimed_by=worker).update(
            status=Status.SENT, sent_at=now, last_error=""
        )
        _finish_attempt(delivery, worker, now, Outcome.SENT, "")
    logger.info("delivery %s sent by %s", delivery.pk, delivery.channel)


def record_failure(delivery: Delivery, worker: str, error: Exception) -> None:
    now = timezone.now()
    message = f"{type(error).__name__}: {error}"[:2000]
    if delivery.attempts >= MAX_ATTEMPTS:
        status, next_at = Status.DEAD, now
    else:
        status = Status.FAILED
        next_at = now + backoff(delivery.attempts)
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk, claimed_by=worker).update(
            status=status, next_attempt_at=next_at, last_error=message
        )
        _finish_attempt(delivery, worker, now, Outcome.FAILED, message)
    logger.warning(
        "delivery %s attempt %s failed (%s): %s",
        delivery.pk,
        delivery.attempts,
        status,
        type(error).__name__,
    )


def backoff(attempts: int) -> timedelta:
    """How long to wait after the given number of failed attempts."""
    index = min(max(attempts, 1), len(BACKOFF_MINUTES)) - 1
    return timedelta(minutes=BACKOFF_MINUTES[index])


def _finish_attempt(
    delivery: Delivery, worker: str, now: datetime, outcome: str, error: str
) -> None:
    DeliveryAttempt.objects.filter(
        delivery_id=delivery.pk,
        number=delivery.attempts,
        worker=worker,
        outcome=Outcome.STARTED,
    ).update(outcome=outcome, finished_at=now, error=error)


def message_id(delivery: Delivery) -> str:
    """The same Message-ID every time this delivery is sent, and never the
    same as another installation's (a reinstall or a staging copy starts
    its ids again): the install's part comes from its secret key."""
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    install = hashlib.sha256(f"message-id:{settings.SECRET_KEY}".encode()).hexdigest()
    return f"<delivery-{delivery.pk}.{delivery.kind}.{install[:12]}@{host}>"


CALENDAR = "text/calendar"
METHOD_LINE = re.compile(rb"^METHOD:([A-Z-]+)\r?$", re.MULTILINE)


def build_email(delivery: Delivery) -> EmailMessage:
    headers = {**delivery.headers, "Message-ID": message_id(delivery)}
    headers.setdefault("Auto-Submitted", "auto-generated")
    files = decoded(delivery.attachments)
    invitations = [(n, data) for n, data, kind in files if kind == CALENDAR]
    if invitations:
        return _calendar_email(delivery, headers, *invitations[0])
    email = EmailMultiAlternatives(
        subject=delivery.subject,
        body=delivery.text,
        to=[delivery.recipient.email],
        headers=headers,
        attachments=decoded(delivery.attachments),
    )
    if delivery.html:
        email.attach_alternative(delivery.html, "text/html")
    return email


def _calendar_email(
    delivery: Delivery, headers: dict[str, str], name: str, data: bytes
) -> EmailMessage:
    """A meeting invitation in the shape calendar clients accept:

    multipart/mixed
      multipart/alternative: text/plain, text/calendar; method=...
      application/ics (the same calendar as a file)
    """
    found = METHOD_LINE.search(data)
    method = found.group(1).decode() if found else "PUBLISH"
    email = EmailMessage(
        subject=delivery.subject,
        body="",
        to=[delivery.recipient.email],
        headers=headers,
    )
    body = MIMEPart(policy=policy.default)
    body.set_content(delivery.text)
    body.add_alternative(data.decode(), subtype="calendar", params={"method": method})
    email.attach(body)
    file = MIMEPart(policy=policy.default)
    file.set_content(data, maintype="application", subtype="ics", filename=name)
    email.attach(file)
    return email


def send_email(delivery: Delivery) -> None:
    sent = mailers.default.send_messages([build_email(delivery)])
    if not sent:
        raise RuntimeError("the mail server accepted nothing")


CHAT_NOTICES = {
    "check_in": "check-ins are due",
    "deadline": "a deadline is coming up",
    "overdue": "something is overdue",
    "review": "a review meeting is tomorrow",
    "digest": "the weekly digest is ready",
    "mention": "someone mentioned you",
}


def chat_text(delivery: Delivery) -> tuple[str, str]:
    """A short notice for a shared chat channel: who and what kind, never
    the items themselves (a channel's members may not see them) nor the
    person's unsubscribe link. The details are one click away."""
    person = delivery.recipient.get_full_name() or delivery.recipient.username
    what = CHAT_NOTICES.get(delivery.kind, "there is something new")
    link = f"{settings.SITE_URL}/my-work/"
    return f"CreditOKR: {person}", f"{person}: {what} in CreditOKR. {link}"


def send_chat(delivery: Delivery, urls: Sequence[str] | None = None) -> None:
    """Post a short notice to every configured chat address."""
    import apprise  # loaded only by workers that send chat

    notifier = apprise.Apprise()
    for url in settings.CHAT_URLS if urls is None else urls:
        notifier.add(url)
    if not len(notifier):
        raise ChatError("no usable chat address is configured")
    title, body = chat_text(delivery)
    if not notifier.notify(body=body, title=title):
        raise ChatError("the chat service refused the message")
