"""Inviting people by email to a team, with a role.

Managers invite people to the teams they manage, with a role no higher than
their own; administrators invite anyone to any team, as administrators too.
The email holds a one-time link, valid for seven days. Only the SHA-256 hash
of its token is stored, so reading the database opens nobody's account.

Opening the link, a new person picks a username, their name and a password,
and their account and membership are made in one transaction. Someone who
has an account already (the invitation's email is theirs) signs in first,
and accepting adds the membership to that account. An expired, revoked or
used link changes nothing and says which it is. Sending an invitation again
makes a new link (the old one stops working) valid for another seven days.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, mailers
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from creditokr.accounts.models import (
    ROLE_RANK,
    Invitation,
    InvitationState,
    Membership,
    Organisation,
    Role,
    Team,
    User,
)
from creditokr.activity.recording import attribute
from creditokr.okrs.access import Actor

logger = logging.getLogger(__name__)

VALID_FOR = timedelta(days=7)
TOKEN_BYTES = 32

REFUSED = {
    InvitationState.ACCEPTED: "This invitation has been used already. If it was "
    "you, sign in with the account you made; otherwise ask for a new one.",
    InvitationState.REVOKED: "This invitation was withdrawn. Ask the person "
    "who invited you for a new one if you still need access.",
    InvitationState.EXPIRED: "This invitation has expired. Ask the person who "
    "invited you to send it again.",
}


# Who may invite whom


def can_invite(actor: Actor) -> bool:
    """Administrators and managers of at least one team invite people."""
    return actor.is_admin or bool(actor.managed_team_ids)


def teams_to_invite_to(actor: Actor) -> QuerySet[Team]:
    if actor.is_admin:
        return Team.objects.all()
    return Team.objects.filter(pk__in=actor.managed_team_ids)


def roles_to_give(actor: Actor, team_id: int | None = None) -> list[Role]:
    """The roles this actor may invite people with (in a team they manage).

    A manager gives no role above their own, and never the administrator's,
    which spans the whole organisation.
    """
    if actor.is_admin:
        return list(Role)
    if team_id is not None and not actor.has_role(team_id, Role.MANAGER):
        return []
    if not actor.managed_team_ids:
        return []
    return [role for role in Role if ROLE_RANK[role] <= ROLE_RANK[Role.MANAGER]]


def invitations_for(actor: Actor) -> QuerySet[Invitation]:
    """The invitations this actor manages: to the teams they may invite to."""
    invitations = Invitation.objects.select_related("team", "invited_by")
    if actor.is_admin:
        return invitations
    return invitations.filter(team_id__in=actor.managed_team_ids)


def open_invitations(actor: Actor) -> QuerySet[Invitation]:
    """Invitations not accepted or revoked (expired ones included)."""
    return invitations_for(actor).filter(accepted_at=None, revoked_at=None)


# Making, sending, revoking


@dataclass(frozen=True)
class NewLink:
    invitation: Invitation
    token: str


def invite(
    actor: Actor, email: str, team: Team, role: str, now: datetime | None = None
) -> NewLink:
    """Make an invitation; the token in the result is the only copy.

    Refused with a ValidationError, writing nothing, when the actor may not
    give this role in this team, or the person is in the team already, has
    a deactivated account, or has an invitation to it still waiting.
    """
    now = now or timezone.now()
    email = normalised_email(email)
    _check_allowed(actor, team, role)
    _check_person(email, team, now)

    token = new_token()
    invitation = Invitation.objects.create(
        email=email,
        team=team,
        role=role,
        token_hash=digest(token),
        invited_by=actor.user,
        expires_at=now + VALID_FOR,
    )
    logger.info(
        "invitation %s to team %s made by user %s",
        invitation.pk,
        team.pk,
        actor.user.pk,
    )
    return NewLink(invitation, token)


def _check_allowed(actor: Actor, team: Team, role: str) -> None:
    allowed = roles_to_give(actor, team.pk)
    if not allowed:
        raise ValidationError(
            {"team": f"You do not manage {team}; its managers invite people to it."}
        )
    if role in allowed:
        return
    if role == Role.ADMIN:
        message = "Only an administrator can invite an administrator."
    else:
        message = "You cannot give a role above your own."
    raise ValidationError({"role": message})


def _check_person(email: str, team: Team, now: datetime) -> None:
    accounts = User.objects.filter(email__iexact=email)
    active = accounts.filter(is_active=True)
    if accounts.exists() and not active.exists():
        raise ValidationError(
            {
                "email": f"{email} belongs to a deactivated account. An "
                "administrator can reactivate it from People."
            }
        )
    membership = Membership.objects.filter(team=team, user__in=active).first()
    if membership is not None:
        person, role = membership.user, membership.get_role_display()
        raise ValidationError(
            {"email": f"{person} ({person.email}) is in {team} already, as {role}."}
        )
    waiting = Invitation.objects.filter(
        email__iexact=email,
        team=team,
        accepted_at=None,
        revoked_at=None,
        expires_at__gt=now,
    ).first()
    if waiting is not None:
        raise ValidationError(
            {
                "email": f"{email} has an invitation to {team} waiting, sent "
                f"{_day(waiting.created_at)}. Send that one again from the list "
                "below instead."
            }
        )


def resend(invitation: Invitation, now: datetime | None = None) -> NewLink:
    """A new link for an invitation not used or revoked, for seven more days.

    The old link stops working: only the new token's hash is kept.
    """
    now = now or timezone.now()
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        state = invitation.state(now)
        if state in (InvitationState.ACCEPTED, InvitationState.REVOKED):
            raise ValidationError(
                f"The invitation for {invitation.email} was {state.label.lower()}; "
                "it cannot be sent again. Invite them afresh if needed."
            )
        token = new_token()
        invitation.token_hash = digest(token)
        invitation.expires_at = now + VALID_FOR
        invitation.save(update_fields=["token_hash", "expires_at"])
    return NewLink(invitation, token)


def revoke(actor: Actor, invitation: Invitation, now: datetime | None = None) -> bool:
    """Withdraw an invitation; False if it was used or withdrawn already."""
    now = now or timezone.now()
    changed = Invitation.objects.filter(
        pk=invitation.pk, accepted_at=None, revoked_at=None
    ).update(revoked_at=now, revoked_by=actor.user)
    invitation.refresh_from_db()
    return bool(changed)


def send(link: NewLink, now: datetime | None = None) -> None:
    """Email the link. Raises whatever the mail server says if it refuses."""
    invitation = link.invitation
    organisation = Organisation.get()
    context = {
        "invitation": invitation,
        "organisation": organisation,
        "inviter": invitation.invited_by,
        "link": f"{settings.SITE_URL}{reverse('invitation_accept', args=[link.token])}",
        "expires": date_format(
            timezone.localtime(invitation.expires_at, organisation.zone),
            "j F Y, H:i T",
        ),
    }
    subject = render_to_string("accounts/email/invitation_subject.txt", context)
    body = render_to_string("accounts/email/invitation.txt", context)
    message = EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        to=[invitation.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    if not mailers.default.send_messages([message]):
        raise RuntimeError("the mail server accepted nothing")
    Invitation.objects.filter(pk=invitation.pk).update(
        sent_at=now or timezone.now(), times_sent=invitation.times_sent + 1
    )
    logger.info("invitation %s emailed", invitation.pk)


# Following the link


def find(token: str) -> Invitation | None:
    """The invitation behind a link's token, whatever its state."""
    if not token or len(token) > 100:
        return None
    found = Invitation.objects.select_related("team", "invited_by")
    return found.filter(token_hash=digest(token)).first()


def refusal(invitation: Invitation, now: datetime | None = None) -> str:
    """Why the link can no longer be used, or "" while it can."""
    state = invitation.state(now or timezone.now())
    return REFUSED.get(state, "")


def accounts_for(invitation: Invitation) -> QuerySet[User]:
    """The active accounts the invitation's email belongs to."""
    return User.objects.filter(email__iexact=invitation.email, is_active=True)


def accept_new_person(invitation: Invitation, person: User) -> User:
    """Make the invited person's account and membership, in one transaction.

    `person` is unsaved, with the username, name and password they chose.
    """
    with transaction.atomic():
        invitation = _usable(invitation)
        if accounts_for(invitation).exists():
            raise ValidationError(
                f"{invitation.email} has an account already; sign in to accept."
            )
        person.email = invitation.email
        person.save()
        _join(invitation, person, reason="Accepted an invitation and joined")
    logger.info("invitation %s accepted by new user %s", invitation.pk, person.pk)
    return person


def accept_existing(invitation: Invitation, person: User) -> Membership:
    """Add the invited team to someone signed in with the invitation's email.

    Someone in the team already keeps their role if it is the higher one.
    """
    if person.email.lower() != invitation.email.lower():
        raise ValidationError(
            f"This invitation is for {invitation.email}; you are signed in as "
            f"{person} ({person.email or 'no email address'}). Sign out and "
            "open the link again, or sign in with the account for that address."
        )
    with transaction.atomic():
        invitation = _usable(invitation)
        membership = _join(invitation, person, reason="Accepted an invitation")
    logger.info("invitation %s accepted by user %s", invitation.pk, person.pk)
    return membership


def _usable(invitation: Invitation) -> Invitation:
    """The invitation, locked, if it can still be used; else a refusal."""
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    problem = refusal(locked)
    if problem:
        raise ValidationError(problem)
    return locked


def _join(invitation: Invitation, person: User, reason: str) -> Membership:
    membership = Membership.objects.filter(user=person, team=invitation.team).first()
    invited = Role(invitation.role)
    if membership is None:
        membership = Membership(user=person, team=invitation.team, role=invited)
        attribute(membership, person, reason)
        membership.save()
    elif ROLE_RANK[Role(membership.role)] < ROLE_RANK[invited]:
        membership.role = invited
        attribute(membership, person, reason)
        membership.save()
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = person
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


# Small helpers


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalised_email(email: str) -> str:
    """The address as stored: trimmed, with its domain in lower case."""
    local, _, domain = email.strip().rpartition("@")
    return f"{local}@{domain.lower()}" if local else email.strip()


def suggested_username(email: str) -> str:
    """A username from the address's local part, free if possible."""
    base = "".join(c for c in email.split("@")[0].lower() if c.isalnum() or c in "._-")[
        :140
    ]
    base = base or "user"
    candidate, number = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        number += 1
        candidate = f"{base}{number}"
    return candidate


def _day(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "j M Y")
