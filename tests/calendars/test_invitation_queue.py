"""Invitations through the reminders app's delivery queue, when installed.

The queue's contract: one Delivery per person, kind "invitation", keyed by
"<event>:<sequence>:<method>", sent by email whatever the person's
reminder settings.
"""

import base64

import pytest
from django.apps import apps

from creditokr.calendars.invitations import send_invitations
from creditokr.cycles import services
from creditokr.cycles.models import CadenceKind
from tests.calendars.conftest import parse_both

pytestmark = pytest.mark.skipif(
    not apps.is_installed("creditokr.reminders"),
    reason="the reminders app is not installed",
)


def test_each_attendee_gets_one_queued_invitation_per_version(people, quarter, teams):
    from creditokr.reminders.models import Delivery

    review = quarter.cadence_events.get(kind=CadenceKind.MID_REVIEW)
    review.attendees = teams["credit_risk"]
    review.save()

    assert send_invitations(review) == 4
    assert send_invitations(review) == 0
    services.cancel_cadence_event(review)
    assert send_invitations(review, "CANCEL") == 4

    rows = Delivery.objects.filter(kind="invitation").order_by("recipient", "pk")
    assert {(row.recipient.username, row.occurrence, row.channel) for row in rows} == {
        (name, f"{review.pk}:{sequence}:{method}", "email")
        for name in ("admin", "manager", "member", "viewer")
        for sequence, method in ((0, "REQUEST"), (1, "CANCEL"))
    }
    ((name, content, mimetype),) = rows[0].attachments
    calendar, _ = parse_both(base64.b64decode(content))
    assert (name, mimetype) == ("invite.ics", "text/calendar")
    assert calendar["METHOD"] == "REQUEST"


def test_a_queued_invitation_is_sent_as_a_calendar_request(people, quarter, teams):
    from creditokr.reminders.models import Delivery
    from creditokr.reminders.sending import build_email

    review = quarter.cadence_events.get(kind=CadenceKind.MID_REVIEW)
    review.attendees = teams["credit_risk"]
    review.save()
    send_invitations(review)
    delivery = Delivery.objects.filter(kind="invitation").first()
    assert delivery is not None

    message = build_email(delivery).message()

    # text/plain and text/calendar;method=REQUEST side by side, so calendar
    # clients offer Accept / Decline; the same calendar attached as a file.
    types = [part.get_content_type() for part in message.walk()]
    assert types == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/calendar",
        "application/ics",
    ]
    calendar_part = next(
        p for p in message.walk() if p.get_content_type() == "text/calendar"
    )
    assert calendar_part.get_param("method") == "REQUEST"
    data = calendar_part.get_payload(decode=True)
    assert isinstance(data, bytes)
    calendar, _ = parse_both(data)
    assert calendar["METHOD"] == "REQUEST"
    assert message["Message-ID"].startswith(f"<delivery-{delivery.pk}.invitation.")
