"""Email invitations to cadence meetings (iTIP, RFC 5546).

An invitation is an email whose text part reads on its own and whose
`text/calendar; method=REQUEST` part (also attached as a file) calendar
programs turn into an Accept / Decline prompt. It carries the same UID as
the meeting in the feeds and the meeting's sequence, so a later update or
cancellation replaces it. Who was invited, and with which version, is kept
in `Invitation` rows: moving or cancelling a meeting tells those people.
"""

import email.policy
import importlib
import logging
from collections.abc import Callable
from datetime import datetime
from email.message import MIMEPart
from typing import Any

from django.apps import apps as django_apps
from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from icalendar import STATUS, vCalAddress

from creditokr.accounts.models import Organisation, User
from creditokr.calendars import ical
from creditokr.calendars.models import Invitation, InvitationMethod
from creditokr.cycles.fiscal import parse_time_zone
from creditokr.cycles.models import CadenceEvent

logger = logging.getLogger(__name__)

REQUEST = InvitationMethod.REQUEST
CANCEL = InvitationMethod.CANCEL
DELIVERY_MODULE = "creditokr.reminders.delivery"


def organizer_email() -> str:
    """Who invitations come from: CALENDAR_ORGANIZER_EMAIL, else the
    address all email is sent from."""
    configured: str = getattr(settings, "CALENDAR_ORGANIZER_EMAIL", "")
    return configured or settings.DEFAULT_FROM_EMAIL


def invitation(
    event: CadenceEvent, attendee: User, method: str = REQUEST
) -> tuple[str, str, bytes]:
    """The subject, plain text and iCalendar data of one invitation."""
    organisation = Organisation.get()
    method = InvitationMethod(method)
    return (
        _subject(event, organisation, method),
        _text(event, attendee, organisation, method),
        _calendar(event, attendee, organisation, method),
    )


def _calendar(
    event: CadenceEvent, attendee: User, organisation: Organisation, method: str
) -> bytes:
    component = ical.cadence_event(event, organisation.zone, timezone.now())
    if method == CANCEL:
        component.status = STATUS.CANCELLED
    component.add("organizer", vCalAddress.new(organizer_email(), cn=organisation.name))
    component.add(
        "attendee",
        vCalAddress.new(
            attendee.email,
            cn=str(attendee),
            cutype="INDIVIDUAL",
            role="REQ-PARTICIPANT",
            partstat="NEEDS-ACTION",
            rsvp=True,
        ),
    )
    calendar = ical.new_calendar(organisation.name, method=method)
    return ical.to_bytes(calendar, [component])


def _subject(event: CadenceEvent, organisation: Organisation, method: str) -> str:
    when = _when(event.starts_at, organisation.time_zone)
    if method == CANCEL:
        return f"Cancelled: {event.title}, {when}"
    if event.sequence:
        return f"Updated invitation: {event.title}, {when}"
    return f"Invitation: {event.title}, {when}"


def _text(
    event: CadenceEvent, attendee: User, organisation: Organisation, method: str
) -> str:
    own_zone = attendee.time_zone or organisation.time_zone
    organisation_time = _when(event.starts_at, organisation.time_zone)
    own_time = _when(event.starts_at, own_zone)
    context = {
        "event": event,
        "attendee": attendee,
        "cancelled": method == CANCEL,
        "updated": method == REQUEST and event.sequence > 0,
        "organisation_time": organisation_time,
        "own_time": "" if own_time == organisation_time else own_time,
        "link": ical.absolute(reverse("cycle_detail", args=[event.cycle_id])),
    }
    return render_to_string("calendars/email/invitation.txt", context)


def _when(moment: datetime, zone_name: str) -> str:
    local = timezone.localtime(moment, parse_time_zone(zone_name))
    return f"{date_format(local, 'D j M Y, H:i')} {local.tzname()} ({zone_name})"


def invitation_email(
    event: CadenceEvent, attendee: User, method: str = REQUEST
) -> EmailMessage:
    """The email itself: text and calendar as alternatives, plus the file.

    multipart/mixed
      multipart/alternative: text/plain, text/calendar; method=...
      application/ics (invite.ics)
    which is the shape Outlook, Google, Apple Mail and Thunderbird offer to
    accept or decline.
    """
    subject, text, data = invitation(event, attendee, method)
    message = EmailMessage(subject, "", to=[attendee.email])
    message.attach(_body_part(text, data, method))
    message.attach(_file_part(data, method))
    return message


def _body_part(text: str, data: bytes, method: str) -> MIMEPart:
    part = MIMEPart(policy=email.policy.default)
    part.set_content(text)
    part.add_alternative(
        data.decode(), subtype="calendar", params={"method": str(method)}
    )
    return part


def _file_part(data: bytes, method: str) -> MIMEPart:
    name = "cancel.ics" if method == CANCEL else "invite.ics"
    part = MIMEPart(policy=email.policy.default)
    part.set_content(data, maintype="application", subtype="ics", filename=name)
    return part


# Sending


def attendees(event: CadenceEvent) -> QuerySet[User]:
    """Who a meeting is for: its team's members, or everyone, with email."""
    people = User.objects.filter(is_active=True).exclude(email="")
    if event.attendees_id is not None:
        people = people.filter(memberships__team_id=event.attendees_id)
    return people.distinct().order_by("pk")


def invited(event: CadenceEvent) -> QuerySet[User]:
    """Who has been sent an invitation to this meeting (any version)."""
    return User.objects.filter(invitations__event=event).exclude(email="")


def send_invitations(event: CadenceEvent, method: str = REQUEST) -> int:
    """Send (queue) this version of the meeting; returns how many.

    A REQUEST goes to the meeting's attendees; a CANCEL to everyone who was
    invited. Nobody gets the same version with the same method twice, so
    pressing "send" again only reaches people who have not had it yet.
    """
    method = InvitationMethod(method)
    people = invited(event) if method == CANCEL else attendees(event)
    return _send(event, method, people)


def send_updates(event: CadenceEvent) -> int:
    """Tell people already invited about a moved or cancelled meeting."""
    method = CANCEL if event.is_cancelled else REQUEST
    return _send(event, method, invited(event))


def _send(event: CadenceEvent, method: InvitationMethod, people: Any) -> int:
    already = set(
        Invitation.objects.filter(
            event=event, sequence=event.sequence, method=method
        ).values_list("attendee_id", flat=True)
    )
    count = 0
    for person in people:
        if person.pk in already:
            continue
        _deliver(event, person, method)
        Invitation.objects.update_or_create(
            event=event,
            attendee=person,
            defaults={
                "sequence": event.sequence,
                "method": method,
                "sent_at": timezone.now(),
            },
        )
        count += 1
    logger.info(
        "cadence event %s: %s #%s sent to %s people",
        event.pk,
        method,
        event.sequence,
        count,
    )
    return count


def _deliver(event: CadenceEvent, person: User, method: InvitationMethod) -> None:
    enqueue = _enqueue()
    if enqueue is None:
        invitation_email(event, person, method).send()
        return

    subject, text, data = invitation(event, person, method)
    name = "cancel.ics" if method == CANCEL else "invite.ics"
    enqueue(
        person,
        "invitation",
        f"{event.pk}:{event.sequence}:{method}",
        subject=subject,
        text=text,
        # The sender turns a text/calendar attachment into the same shape as
        # invitation_email: a calendar alternative with its method, plus
        # the file.
        attachments=[(name, data, "text/calendar")],
    )


def _enqueue() -> Callable[..., object] | None:
    """The reminders app's delivery queue, when that app is installed.

    Without it, invitations are sent at once through Django's mail.
    """
    if not django_apps.is_installed(DELIVERY_MODULE.rpartition(".")[0]):
        return None
    try:
        module = importlib.import_module(DELIVERY_MODULE)
    except ModuleNotFoundError as error:
        if error.name not in {DELIVERY_MODULE, DELIVERY_MODULE.rpartition(".")[0]}:
            raise
        return None
    enqueue: Callable[..., object] = module.enqueue
    return enqueue
