"""Sending stored deliveries: claims, records, retries and the lease."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail

from creditokr.reminders.delivery import enqueue
from creditokr.reminders.models import Delivery, DeliveryAttempt, Kind, Status
from creditokr.reminders.sending import claim, message_id, send_due
from tests.reminders.conftest import at

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@pytest.fixture
def queued(people):
    with at(T0):
        (delivery,) = enqueue(
            people["member"],
            Kind.CHECK_IN,
            "check-in:2026-11-16T09:00",
            subject="Time to check in",
            text="Plain words",
            html="<p>Plain words</p>",
            attachments=[("note.txt", b"hello", "text/plain")],
            headers={"List-Unsubscribe": "<http://okr.example.test/u/>"},
        )
    return delivery


@pytest.fixture
def refusing(settings):
    settings.MAILERS = {
        "default": {"BACKEND": "tests.reminders.backends.RefusingBackend"}
    }


def send_at(moment: datetime, worker: str = "w1") -> int:
    with at(moment):
        return send_due(worker)


def test_enqueueing_the_same_occurrence_twice_returns_the_same_rows(queued, people):
    again = enqueue(
        people["member"],
        Kind.CHECK_IN,
        "check-in:2026-11-16T09:00",
        subject="Something else",
        text="Other words",
    )

    assert [d.pk for d in again] == [queued.pk]
    assert Delivery.objects.get().subject == "Time to check in"


def test_a_sent_email_has_both_parts_its_headers_and_attachment(queued):
    assert send_at(T0) == 1

    (email,) = mail.outbox
    assert isinstance(email, mail.EmailMultiAlternatives)
    assert email.to == ["member@example.test"]
    assert email.body == "Plain words"
    assert email.alternatives[0][0] == "<p>Plain words</p>"
    assert email.attachments[0].filename == "note.txt"
    assert email.attachments[0].content == "hello"
    # The delivery, its kind and this installation's own part (from its
    # secret key), so two installations never share a Message-ID.
    install = hashlib.sha256(f"message-id:{settings.SECRET_KEY}".encode()).hexdigest()
    assert email.extra_headers["Message-ID"] == (
        f"<delivery-{queued.pk}.check_in.{install[:12]}@okr.example.test>"
    )
    queued.refresh_from_db()
    assert queued.status == Status.SENT
    assert queued.sent_at == T0
    (attempt,) = DeliveryAttempt.objects.all()
    assert (attempt.number, attempt.worker, attempt.outcome) == (1, "w1", "sent")


def test_nothing_is_sent_before_its_time(people):
    with at(T0):
        enqueue(
            people["member"],
            Kind.REVIEW,
            "review:1",
            subject="s",
            text="t",
            not_before=T0 + timedelta(hours=1),
        )

    assert send_at(T0) == 0
    assert send_at(T0 + timedelta(hours=1)) == 1


def test_failures_back_off_1_5_25_125_minutes_then_give_up(queued, refusing):
    moment = T0
    for wait in (1, 5, 25, 125):
        assert send_at(moment) == 1
        queued.refresh_from_db()
        assert queued.status == Status.FAILED
        assert queued.next_attempt_at == moment + timedelta(minutes=wait)
        # Not again until the wait is over.
        assert send_at(moment + timedelta(minutes=wait) - timedelta(seconds=1)) == 0
        moment += timedelta(minutes=wait)

    assert send_at(moment) == 1

    queued.refresh_from_db()
    assert queued.status == Status.DEAD
    assert queued.attempts == 5
    assert "mail server is down" in queued.last_error
    outcomes = list(DeliveryAttempt.objects.values_list("number", "outcome"))
    assert outcomes == [(n, "failed") for n in range(1, 6)]
    assert send_at(moment + timedelta(days=1)) == 0


def test_a_delivery_is_claimed_by_one_worker_only(queued):
    with at(T0):
        first = claim("w1")
        second = claim("w2")

    assert [d.pk for d in first] == [queued.pk]
    assert second == []


def test_a_delivery_stuck_in_sending_is_taken_again_after_the_lease(queued):
    with at(T0):
        claim("crashed")

    assert send_at(T0 + timedelta(minutes=9), "w2") == 0
    assert send_at(T0 + timedelta(minutes=11), "w2") == 1

    queued.refresh_from_db()
    assert (queued.status, queued.claimed_by, queued.attempts) == ("sent", "w2", 2)
    log = list(DeliveryAttempt.objects.values_list("worker", "outcome"))
    assert log == [("crashed", "abandoned"), ("w2", "sent")]
    # The resend carries the same Message-ID as the first try would have.
    assert mail.outbox[0].extra_headers["Message-ID"] == message_id(queued)


def test_a_late_worker_does_not_finish_what_another_took_over(queued):
    with at(T0):
        (mine,) = claim("slow")
    send_at(T0 + timedelta(minutes=11), "fast")

    from creditokr.reminders.sending import record_failure

    with at(T0 + timedelta(minutes=12)):
        record_failure(mine, "slow", RuntimeError("timed out"))

    queued.refresh_from_db()
    assert queued.status == Status.SENT


def test_an_unsent_reminder_past_the_cut_off_is_skipped(queued):
    assert send_at(T0 + timedelta(hours=7)) == 0

    queued.refresh_from_db()
    assert queued.status == Status.SKIPPED
    assert mail.outbox == []


def test_an_overdue_notice_is_still_sent_late(people):
    with at(T0):
        enqueue(people["member"], Kind.OVERDUE, "overdue:x", subject="s", text="t")

    assert send_at(T0 + timedelta(days=2)) == 1


def test_unsubscribed_and_unreachable_people_get_skipped_rows(people, settings):
    from creditokr.reminders.models import Preference

    Preference.objects.create(user=people["member"], kind=Kind.DEADLINE, enabled=False)
    Preference.objects.create(user=people["admin"], kind=Kind.DEADLINE, chat=True)
    people["viewer"].email = ""
    people["viewer"].save()

    (unsubscribed,) = enqueue(
        people["member"], Kind.DEADLINE, "d:1", subject="s", text="t"
    )
    (no_address,) = enqueue(
        people["viewer"], Kind.DEADLINE, "d:1", subject="s", text="t"
    )
    (no_chat,) = enqueue(
        people["admin"], Kind.DEADLINE, "d:1", subject="s", text="t", channels=["chat"]
    )

    assert unsubscribed.status == no_address.status == no_chat.status == "skipped"
    assert "unsubscribed" in unsubscribed.last_error
    assert "no email address" in no_address.last_error
    assert "CHAT_URLS" in no_chat.last_error


def test_invitations_ignore_unsubscribes_and_go_by_email_only(people):
    from creditokr.reminders.models import Preference

    for kind in (Kind.CHECK_IN, Kind.REVIEW):
        Preference.objects.create(user=people["member"], kind=kind, enabled=False)

    rows = enqueue(
        people["member"],
        Kind.INVITATION,
        "invite:7:0",
        subject="Mid-quarter review",
        text="t",
        attachments=[("invite.ics", b"BEGIN:VCALENDAR", "text/calendar")],
        channels=["email", "chat"],
    )

    assert [(d.channel, d.status) for d in rows] == [("email", "pending")]
