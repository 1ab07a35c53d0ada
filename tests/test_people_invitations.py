"""Inviting people by email to a team, and the invitation's one-time link."""

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.urls import reverse

from creditokr.accounts.models import Invitation, Membership, Role, User
from creditokr.activity.models import ChangeRecord

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
LINK = re.compile(r"http://[^/\s]+/invitations/([A-Za-z0-9_-]+)/")


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def invite(client, by, email="new.analyst@example.test", team=None, role="member"):
    client.force_login(by)
    data = {"email": email, "team": team, "role": role}
    return client.post(reverse("invitation_list"), data, follow=True)


def token_in(message) -> str:
    found = LINK.search(message.body)
    assert found is not None, message.body
    return found.group(1)


@pytest.fixture
def invited(client, people, teams):
    """A member invitation to Credit Risk from its manager, and its token."""
    invite(client, people["manager"], team=teams["credit_risk"].pk)
    client.logout()
    (message,) = mail.outbox
    return Invitation.objects.get(), token_in(message)


def accept_url(token: str) -> str:
    return reverse("invitation_accept", args=[token])


def sign_up(client, token, **changes):
    data = {
        "username": "new.analyst",
        "first_name": "Nina",
        "last_name": "Analyst",
        "password1": "Receivables-2026!",
        "password2": "Receivables-2026!",
    }
    return client.post(accept_url(token), data | changes)


# Inviting


def test_a_manager_invites_a_member_and_the_email_carries_a_one_time_link(
    client, people, teams
):
    response = invite(client, people["manager"], team=teams["credit_risk"].pk)

    invitation = Invitation.objects.get()
    (message,) = mail.outbox
    token = token_in(message)
    assert "Invitation sent to new.analyst@example.test." in response.text
    assert message.to == ["new.analyst@example.test"]
    assert message.subject == "Manager invites you to Credit Risk on CreditOKR"
    assert "as Member" in message.body
    assert "until 22 November 2026" in message.body
    assert (invitation.team, invitation.role) == (teams["credit_risk"], Role.MEMBER)
    assert invitation.invited_by == people["manager"]
    assert invitation.expires_at == NOW + timedelta(days=7)
    assert (invitation.sent_at, invitation.times_sent) == (NOW, 1)
    # Only the hash of the token is kept.
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert token not in str(stored)


def test_a_manager_cannot_invite_an_administrator(client, people, teams):
    response = invite(
        client, people["manager"], team=teams["credit_risk"].pk, role="admin"
    )

    assert response.status_code == 400
    assert "Only an administrator can invite an administrator." in response.text
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_a_manager_cannot_invite_to_a_team_they_do_not_manage(client, people, teams):
    response = invite(client, people["manager"], team=teams["sales"].pk)

    assert response.status_code == 400
    assert "You do not manage Sales; its managers invite people to it." in (
        response.text
    )
    assert not Invitation.objects.exists()


def test_the_form_offers_managers_only_their_teams_and_roles(client, people):
    client.force_login(people["manager"])

    page = client.get(reverse("invitation_list")).text

    roles = set(re.findall(r'<option value="(\w+)"', page.split('name="role"')[1]))
    assert roles == {"viewer", "member", "manager"}
    assert ">Credit Risk<" in page
    assert ">Sales<" not in page


def test_an_administrator_invites_an_administrator_to_any_team(client, people, teams):
    invite(client, people["admin"], team=teams["sales"].pk, role="admin")

    invitation = Invitation.objects.get()
    assert (invitation.team, invitation.role) == (teams["sales"], Role.ADMIN)
    assert len(mail.outbox) == 1


def test_someone_in_the_team_already_is_not_invited_again(client, people, teams):
    response = invite(
        client,
        people["manager"],
        email="MEMBER@example.test",
        team=teams["credit_risk"].pk,
    )

    assert response.status_code == 400
    assert "Member (member@example.test) is in Credit Risk already, as Member." in (
        response.text
    )
    assert not Invitation.objects.exists()


def test_a_second_invitation_while_one_waits_is_refused(client, people, invited):
    invitation, _token = invited

    response = invite(client, people["manager"], team=invitation.team.pk)

    assert response.status_code == 400
    assert "has an invitation to Credit Risk waiting, sent 15 Nov 2026" in (
        response.text
    )
    assert Invitation.objects.count() == 1


def test_when_mail_is_down_the_invitation_is_kept_and_the_manager_told(
    client, people, teams, settings
):
    settings.MAILERS = {
        "default": {"BACKEND": "tests.reminders.backends.RefusingBackend"}
    }

    response = invite(client, people["manager"], team=teams["credit_risk"].pk)

    invitation = Invitation.objects.get()
    assert "is saved, but the email could not be sent (mail server is down)" in (
        response.text
    )
    assert (invitation.sent_at, invitation.times_sent) == (None, 0)


# Accepting


def test_a_new_person_makes_their_account_and_joins_in_one_step(
    client, people, invited
):
    invitation, token = invited

    form = client.get(accept_url(token))
    response = sign_up(client, token)

    assert form.status_code == 200
    assert 'value="new.analyst"' in form.text  # from the email address
    assert response.status_code == 302
    person = User.objects.get(username="new.analyst")
    assert person.email == "new.analyst@example.test"
    assert person.get_full_name() == "Nina Analyst"
    assert person.check_password("Receivables-2026!")
    membership = Membership.objects.get(user=person)
    assert (membership.team, membership.role) == (invitation.team, Role.MEMBER)
    invitation.refresh_from_db()
    assert (invitation.accepted_at, invitation.accepted_by) == (NOW, person)
    assert client.session[SESSION_KEY] == str(person.pk)
    content_type = ContentType.objects.get_for_model(Membership)
    record = ChangeRecord.objects.get(content_type=content_type, subject=person)
    assert record.actor == person
    assert record.team == invitation.team
    assert record.action == ChangeRecord.Action.CREATE


def test_a_password_the_validators_refuse_makes_nothing(client, invited):
    _invitation, token = invited

    response = sign_up(client, token, password1="12345678", password2="12345678")

    assert response.status_code == 400
    assert "This password is too common." in response.text
    assert "This password is entirely numeric." in response.text
    assert not User.objects.filter(username="new.analyst").exists()
    assert not Membership.objects.filter(user__username="new.analyst").exists()


def test_a_used_link_is_refused_and_changes_nothing(client, invited):
    _invitation, token = invited
    sign_up(client, token)
    client.logout()

    again = sign_up(client, token, username="second.try")

    assert again.status_code == 410
    assert "This invitation has been used already." in again.text
    assert not User.objects.filter(username="second.try").exists()


def test_an_expired_link_is_refused_and_changes_nothing(client, invited):
    _invitation, token = invited

    with time_machine.travel(NOW + timedelta(days=7, seconds=1), tick=False):
        page = client.get(accept_url(token))
        sent = sign_up(client, token)

    assert page.status_code == sent.status_code == 410
    assert "This invitation has expired." in page.text
    assert not User.objects.filter(username="new.analyst").exists()


def test_a_revoked_link_is_refused(client, people, invited):
    invitation, token = invited
    client.force_login(people["manager"])
    client.post(reverse("invitation_revoke", args=[invitation.pk]))
    client.logout()

    response = sign_up(client, token)

    invitation.refresh_from_db()
    assert invitation.revoked_by == people["manager"]
    assert response.status_code == 410
    assert "This invitation was withdrawn." in response.text
    assert not User.objects.filter(username="new.analyst").exists()


def test_sending_again_makes_a_new_link_and_the_old_one_stops_working(
    client, people, invited
):
    invitation, old_token = invited
    client.force_login(people["manager"])

    with time_machine.travel(NOW + timedelta(days=5), tick=False):
        client.post(reverse("invitation_resend", args=[invitation.pk]))
    client.logout()

    new_token = token_in(mail.outbox[1])
    invitation.refresh_from_db()
    assert new_token != old_token
    assert invitation.expires_at == NOW + timedelta(days=12)
    assert invitation.times_sent == 2
    assert client.get(accept_url(old_token)).status_code == 404
    assert client.get(accept_url(new_token)).status_code == 200


def test_an_unknown_link_is_a_clear_not_found_page(client, db):
    response = client.get(accept_url("not-a-real-token"))

    assert response.status_code == 404
    assert "This invitation link is not valid." in response.text


def test_someone_with_an_account_signs_in_and_the_team_is_added(client, people, teams):
    invite(
        client,
        people["manager"],
        email="outsider@example.test",
        team=teams["credit_risk"].pk,
        role="viewer",
    )
    client.logout()
    token = token_in(mail.outbox[0])

    asked = client.get(accept_url(token))
    client.force_login(people["outsider"])
    confirm = client.get(accept_url(token))
    joined = client.post(accept_url(token))

    assert "Sign in to accept" in asked.text
    assert f"next={accept_url(token).replace('/', '%2F')}" in asked.text
    assert "Join Credit Risk" in confirm.text
    assert joined.status_code == 302
    roles = dict(
        Membership.objects.filter(user=people["outsider"]).values_list(
            "team__slug", "role"
        )
    )
    assert roles == {"sales": Role.MEMBER, "credit-risk": Role.VIEWER}
    assert not User.objects.filter(email="outsider@example.test").exclude(
        pk=people["outsider"].pk
    )


def test_someone_signed_in_with_another_address_cannot_accept(client, people, invited):
    invitation, token = invited
    client.force_login(people["outsider"])

    response = client.post(accept_url(token))

    invitation.refresh_from_db()
    assert response.status_code == 403
    assert "This invitation is for new.analyst@example.test" in response.text
    assert invitation.accepted_at is None
    assert not Membership.objects.filter(
        user=people["outsider"], team=invitation.team
    ).exists()


def test_a_deactivated_account_is_not_invited(client, people, teams):
    people["viewer"].is_active = False
    people["viewer"].save()

    response = invite(
        client,
        people["manager"],
        email="viewer@example.test",
        team=teams["credit_risk"].pk,
    )

    assert response.status_code == 400
    assert "viewer@example.test belongs to a deactivated account." in response.text
    assert not Invitation.objects.exists()


def test_the_list_shows_waiting_invitations_with_resend_and_revoke(
    client, people, invited
):
    invitation, _token = invited
    client.force_login(people["manager"])

    page = client.get(reverse("invitation_list")).text

    assert "new.analyst@example.test" in page
    assert reverse("invitation_resend", args=[invitation.pk]) in page
    assert reverse("invitation_revoke", args=[invitation.pk]) in page
