"""Inviting people, and the page an invitation's link opens.

Managers and administrators see the invitations to the teams they may
invite to, make new ones, send one again (a new link) or revoke it; anyone
else gets a 403. The link's page needs no sign-in: its token is the key,
and an unknown token is a 404 page saying so. A link that expired, was
revoked or was used shows which, and changes nothing.
"""

import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from creditokr.accounts import invitations
from creditokr.accounts.forms import InvitationSignupForm, InviteForm
from creditokr.accounts.invitations import NewLink
from creditokr.accounts.models import Invitation, Team, User
from creditokr.okrs import access
from creditokr.okrs.access import Actor

logger = logging.getLogger(__name__)

GET_OR_POST = require_http_methods(["GET", "POST"])


@GET_OR_POST
def invitation_list(request: HttpRequest) -> HttpResponse:
    """Invite someone; the invitations not yet used, to resend or revoke."""
    actor = access.actor_for(request.user)
    access.require(invitations.can_invite(actor))
    initial = {"team": access.as_id(request.GET.get("team"))}
    form = InviteForm(actor, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            link = invitations.invite(actor, data["email"], data["team"], data["role"])
        except ValidationError as error:
            for name, errors in error.error_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            _send(request, link, f"Invitation sent to {link.invitation.email}.")
            return redirect("invitation_list")

    now = timezone.now()
    waiting = invitations.open_invitations(actor)
    context = {
        "form": form,
        "rows": [(invitation, invitation.state(now)) for invitation in waiting],
    }
    status = HTTPStatus.BAD_REQUEST if form.errors else HTTPStatus.OK
    return render(request, "accounts/invitations.html", context, status=status)


@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    actor = access.actor_for(request.user)
    invitation = _managed(actor, pk)
    if invitations.revoke(actor, invitation):
        messages.success(
            request,
            f"Revoked the invitation for {invitation.email}; its link no longer works.",
        )
    else:
        state = invitation.state(timezone.now()).label.lower()
        messages.info(request, f"The invitation for {invitation.email} was {state}.")
    return redirect("invitation_list")


@require_POST
def invitation_resend(request: HttpRequest, pk: int) -> HttpResponse:
    actor = access.actor_for(request.user)
    invitation = _managed(actor, pk)
    try:
        link = invitations.resend(invitation)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        _send(
            request,
            link,
            f"Sent the invitation to {invitation.email} again, with a new link "
            "valid for 7 days; the earlier link no longer works.",
        )
    return redirect("invitation_list")


def _managed(actor: Actor, pk: int) -> Invitation:
    access.require(invitations.can_invite(actor))
    invitation = invitations.invitations_for(actor).filter(pk=pk).first()
    if invitation is None:
        raise Http404("No such invitation, or not to a team you manage.")
    return invitation


def _send(request: HttpRequest, link: NewLink, success: str) -> None:
    """Email the link; if the mail server refuses, say so and keep it."""
    try:
        invitations.send(link)
    except Exception as error:  # a mail server's refusal, whatever its kind
        logger.warning(
            "invitation %s could not be emailed: %s",
            link.invitation.pk,
            type(error).__name__,
        )
        messages.warning(
            request,
            f"The invitation for {link.invitation.email} is saved, but the email "
            f"could not be sent ({error}). Use “Send again” once mail works.",
        )
    else:
        messages.success(request, success)


# The link


@login_not_required
@GET_OR_POST
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Join a team from an invitation: new people make their account here."""
    invitation = invitations.find(token)
    if invitation is None:
        return _refused(
            request,
            "This invitation link is not valid. Check that the whole link from "
            "the email was opened, or ask for a new invitation.",
            HTTPStatus.NOT_FOUND,
        )
    problem = invitations.refusal(invitation)
    if problem:
        return _refused(request, problem, HTTPStatus.GONE)

    user = request.user
    if user.is_authenticated:
        assert isinstance(user, User)
        return _accept_signed_in(request, invitation, user)
    if invitations.accounts_for(invitation).exists():
        login_url = reverse("login")
        query = urlencode({"next": request.get_full_path()})
        context = {"invitation": invitation, "login_url": f"{login_url}?{query}"}
        return render(request, "accounts/invitation_sign_in.html", context)
    return _sign_up(request, invitation)


def _accept_signed_in(
    request: HttpRequest, invitation: Invitation, user: User
) -> HttpResponse:
    context: dict[str, Any] = {"invitation": invitation, "error": ""}
    if user.email.lower() != invitation.email.lower():
        context["error"] = (
            f"This invitation is for {invitation.email}; you are signed in as "
            f"{user} ({user.email or 'no email address'}). Sign out and open "
            "the link again, or sign in with the account for that address."
        )
        return render(request, "accounts/invitation_accept.html", context, status=403)
    if request.method == "POST":
        try:
            membership = invitations.accept_existing(invitation, user)
        except ValidationError as error:
            return _refused(request, " ".join(error.messages), HTTPStatus.GONE)
        messages.success(
            request,
            f"You are now in {membership.team} as {membership.get_role_display()}.",
        )
        return redirect("dashboard")
    return render(request, "accounts/invitation_accept.html", context)


def _sign_up(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    initial = {"username": invitations.suggested_username(invitation.email)}
    form = InvitationSignupForm(invitation.email, data, initial=initial)
    if data is not None and form.is_valid():
        try:
            person = invitations.accept_new_person(invitation, form.save(commit=False))
        except ValidationError as error:
            return _refused(request, " ".join(error.messages), HTTPStatus.GONE)
        login(request, person, backend="django.contrib.auth.backends.ModelBackend")
        team: Team = invitation.team
        messages.success(
            request,
            f"Welcome, {person}. You are in {team} as {invitation.get_role_display()}.",
        )
        return redirect("dashboard")

    context = {"invitation": invitation, "form": form}
    status = HTTPStatus.BAD_REQUEST if form.errors else HTTPStatus.OK
    return render(request, "accounts/invitation_sign_up.html", context, status=status)


def _refused(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(
        request, "accounts/invitation_refused.html", {"message": message}, status=status
    )
