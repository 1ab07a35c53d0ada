"""Invitations to cadence meetings: the iTIP messages and who gets them.

The mid-quarter review of FY2027 Q3 is Mon 16 Nov 2026 10:00 in London
(GMT), 60 minutes; it is given to Credit Risk, whose members with an email
are admin, manager, member and viewer (the outsider is in Sales).
"""

from datetime import UTC, date, datetime, time
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse

from creditokr.calendars import invitations
from creditokr.calendars.feeds import create_feed
from creditokr.calendars.invitations import (
    invitation,
    invitation_email,
    send_invitations,
    send_updates,
)
from creditokr.calendars.models import FeedScope
from creditokr.cycles import services
from creditokr.cycles.models import CadenceKind, CycleState
from tests.calendars.conftest import events_by_uid, parse_both, read_feed

CREDIT_RISK = {
    "admin@example.test",
    "manager@example.test",
    "member@example.test",
    "viewer@example.test",
}


@pytest.fixture(autouse=True)
def _send_directly(monkeypatch):
    """Send through Django's mail (the test outbox), not the queue."""
    monkeypatch.setattr(invitations, "_enqueue", lambda: None)


@pytest.fixture
def review(quarter, teams):
    event = quarter.cadence_events.get(kind=CadenceKind.MID_REVIEW)
    event.attendees = teams["credit_risk"]
    event.location = "Board room"
    event.save()
    return event


def recipients() -> set[str]:
    return {address for message in mail.outbox for address in message.to}


def calendar_part(message) -> bytes:
    parsed = message.message()
    parts = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    data = parts[0].get_payload(decode=True)
    assert isinstance(data, bytes)
    return data


def test_an_invitation_is_a_request_both_parsers_read(people, review):
    subject, text, data = invitation(review, people["member"])

    calendar, component = parse_both(data)
    assert calendar["METHOD"] == "REQUEST"
    assert component.method.value == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    (vevent,) = component.contents["vevent"]
    assert str(event["UID"]) == f"cadence-{review.pk}@okr.example.test"
    assert vevent.uid.value == str(event["UID"])
    assert event["SEQUENCE"] == 0
    assert vevent.dtstart.value.astimezone(UTC) == datetime(
        2026, 11, 16, 10, tzinfo=UTC
    )
    assert "DTSTART;TZID=Europe/London:20261116T100000" in data.decode()
    assert str(event["ORGANIZER"]) == "mailto:okr@example.test"
    assert vevent.organizer.value == "mailto:okr@example.test"
    attendee = vevent.attendee
    assert attendee.value == "mailto:member@example.test"
    assert attendee.params["PARTSTAT"] == ["NEEDS-ACTION"]
    assert attendee.params["RSVP"] == ["TRUE"]
    assert event["ATTENDEE"].params["CN"] == "Member"
    assert subject == (
        "Invitation: FY2027 Q3 mid-quarter review, "
        "Mon 16 Nov 2026, 10:00 GMT (Europe/London)"
    )
    assert "Where: Board room" in text


def test_the_invitation_has_the_same_uid_as_the_feed(client, people, review):
    _feed, token = create_feed(people["member"], FeedScope.PERSON)
    feed = events_by_uid(parse_both(read_feed(client, token))[0])

    _subject, _text, data = invitation(review, people["member"])

    (event,) = parse_both(data)[0].walk("VEVENT")
    assert str(event["UID"]) in feed


def test_a_cancellation_is_a_cancel_both_parsers_read(people, review):
    services.cancel_cadence_event(review)

    subject, text, data = invitation(review, people["member"], "CANCEL")

    calendar, component = parse_both(data)
    assert calendar["METHOD"] == "CANCEL"
    assert component.method.value == "CANCEL"
    (event,) = calendar.walk("VEVENT")
    assert (event["STATUS"], event["SEQUENCE"]) == ("CANCELLED", 1)
    assert component.vevent.status.value == "CANCELLED"
    assert component.vevent.sequence.value == "1"
    assert subject.startswith("Cancelled: FY2027 Q3 mid-quarter review")
    assert "This meeting has been cancelled" in text


def test_the_email_carries_the_calendar_as_an_alternative_and_a_file(people, review):
    message = invitation_email(review, people["viewer"]).message()

    assert message.get_content_type() == "multipart/mixed"
    body, attached = cast(list[Any], message.get_payload())
    assert body.get_content_type() == "multipart/alternative"
    text, calendar = body.get_payload()
    assert text.get_content_type() == "text/plain"
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_param("method") == "REQUEST"
    assert attached.get_content_type() == "application/ics"
    assert attached.get_filename() == "invite.ics"
    # A text part's line ends are the mail system's; SMTP sends CRLF.
    file_data = attached.get_payload(decode=True).replace(b"\r\n", b"\n")
    assert file_data == calendar.get_payload(decode=True)
    assert "You are invited to:" in text.get_content()


def test_the_text_gives_the_attendees_own_time_too(people, review):
    people["member"].time_zone = "America/New_York"
    people["member"].save()

    _subject, text, _data = invitation(review, people["member"])

    # 10:00 GMT on 16 Nov is 05:00 in New York (EST, UTC-5).
    assert "Your time: Mon 16 Nov 2026, 05:00 EST (America/New_York)" in text


def test_invitations_go_to_the_attending_team_once(people, review):
    assert send_invitations(review) == 4
    assert recipients() == CREDIT_RISK
    assert all(m.subject.startswith("Invitation:") for m in mail.outbox)

    assert send_invitations(review) == 0
    assert len(mail.outbox) == 4


def test_a_meeting_for_everyone_goes_to_everyone_with_an_email(people, review):
    review.attendees = None
    review.save()
    people["viewer"].email = ""
    people["viewer"].save()
    people["manager"].is_active = False
    people["manager"].save()

    send_invitations(review)

    assert recipients() == {
        "admin@example.test",
        "member@example.test",
        "outsider@example.test",
    }


def test_moving_a_meeting_updates_the_people_invited(people, organisation, review):
    send_invitations(review)
    mail.outbox.clear()
    day, at = date(2026, 11, 16), time(10, 0)
    review.attendees = None  # now for everyone; the outsider was not invited
    assert not services.update_cadence_event(review, organisation, day=day, at=at)
    review.location = "Room 2"

    assert services.update_cadence_event(review, organisation, day=day, at=at)
    assert send_updates(review) == 4

    assert recipients() == CREDIT_RISK
    data = calendar_part(mail.outbox[0])
    (event,) = parse_both(data)[0].walk("VEVENT")
    assert (event["SEQUENCE"], str(event["LOCATION"])) == (1, "Room 2")
    assert mail.outbox[0].subject.startswith("Updated invitation:")


def test_cancelling_tells_everyone_invited(people, review):
    send_invitations(review)
    mail.outbox.clear()

    services.cancel_cadence_event(review)
    assert send_updates(review) == 4
    assert send_updates(review) == 0

    assert recipients() == CREDIT_RISK
    calendar = parse_both(calendar_part(mail.outbox[0]))[0]
    assert calendar["METHOD"] == "CANCEL"


def test_invitations_are_queued_when_the_reminders_app_is_there(
    people, review, monkeypatch
):
    queued = []

    def enqueue(recipient, kind, occurrence, **message):
        queued.append((recipient, kind, occurrence, message))

    monkeypatch.setattr(invitations, "_enqueue", lambda: enqueue)
    services.cancel_cadence_event(review)
    services.restore_cadence_event(review)

    send_invitations(review)

    assert {r.email for r, *_ in queued} == CREDIT_RISK
    _recipient, kind, occurrence, message = queued[0]
    assert (kind, occurrence) == ("invitation", f"{review.pk}:2:REQUEST")
    ((name, data, mimetype),) = message["attachments"]
    assert (name, mimetype) == ("invite.ics", "text/calendar")
    assert parse_both(data)[0]["METHOD"] == "REQUEST"
    assert message["subject"].startswith("Updated invitation:")
    assert mail.outbox == []


# The cadence page


def test_a_planner_sends_invitations_from_the_cadence_page(client, people, review):
    client.force_login(people["manager"])

    page = client.get(reverse("cadence_edit", args=[review.pk]))
    response = client.post(reverse("cadence_invite", args=[review.pk]))

    assert "Send invitations" in page.text
    assert response.status_code == 302
    assert recipients() == CREDIT_RISK


def test_members_cannot_send_invitations_or_cancel(client, people, review):
    client.force_login(people["member"])

    for name in ("cadence_invite", "cadence_cancel", "cadence_restore"):
        response = client.post(reverse(name, args=[review.pk]), {"confirm": "yes"})
        assert response.status_code == 403
    review.refresh_from_db()
    assert review.cancelled_at is None
    assert mail.outbox == []


def test_cancelling_is_confirmed_first(client, people, review):
    send_invitations(review)
    mail.outbox.clear()
    client.force_login(people["manager"])
    url = reverse("cadence_cancel", args=[review.pk])

    question = client.post(url)
    review.refresh_from_db()
    assert question.status_code == 200
    assert "Everyone who was sent an invitation" in question.text
    assert review.cancelled_at is None

    done = client.post(url, {"confirm": "yes"})
    review.refresh_from_db()
    assert done.status_code == 302
    assert review.cancelled_at is not None
    assert recipients() == CREDIT_RISK
    detail = client.get(reverse("cycle_detail", args=[review.cycle_id]))
    assert "Cancelled" in detail.text


def test_restoring_sends_an_update(client, people, review):
    send_invitations(review)
    services.cancel_cadence_event(review)
    mail.outbox.clear()
    client.force_login(people["admin"])

    client.post(reverse("cadence_restore", args=[review.pk]))

    review.refresh_from_db()
    assert (review.cancelled_at, review.sequence) == (None, 2)
    assert recipients() == CREDIT_RISK
    calendar = parse_both(calendar_part(mail.outbox[0]))[0]
    assert calendar["METHOD"] == "REQUEST"


def test_rescheduling_on_the_page_updates_the_people_invited(client, people, review):
    send_invitations(review)
    mail.outbox.clear()
    client.force_login(people["manager"])

    response = client.post(
        reverse("cadence_edit", args=[review.pk]),
        {
            "day": "2026-11-17",
            "start_time": "11:00",
            "duration_minutes": "60",
            "attendees": review.attendees_id,
            "location": "Board room",
        },
    )

    assert response.status_code == 302
    assert recipients() == CREDIT_RISK
    (event,) = parse_both(calendar_part(mail.outbox[0]))[0].walk("VEVENT")
    assert event["SEQUENCE"] == 1
    assert event.start == datetime(2026, 11, 17, 11, tzinfo=ZoneInfo("Europe/London"))


def test_a_closed_cycles_meetings_cannot_be_cancelled(client, people, review):
    review.cycle.state = CycleState.CLOSED
    review.cycle.save()
    client.force_login(people["admin"])

    response = client.post(
        reverse("cadence_cancel", args=[review.pk]), {"confirm": "yes"}
    )

    assert response.status_code == 400
    review.refresh_from_db()
    assert review.cancelled_at is None
