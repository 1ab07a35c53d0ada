from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.contrib.auth.forms import SetPasswordMixin, UserCreationForm, UsernameField
from django.db.models import QuerySet

from creditokr.accounts import invitations
from creditokr.accounts.models import Role, Team, User
from creditokr.okrs.access import Actor
from creditokr.okrs.fields import person_label


def zone_choices() -> list[tuple[str, str]]:
    zones = sorted(z for z in available_timezones() if "/" in z or z == "UTC")
    return [("", "The organisation's time zone"), *((z, z) for z in zones)]


class ProfileForm(forms.ModelForm[User]):
    time_zone = forms.ChoiceField(choices=zone_choices, required=False)

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "time_zone"]


# Invitations


class InviteForm(forms.Form):
    """Whom to invite, to which team, with which role.

    Only the teams and roles this actor may give are offered; anything else
    posted is refused by `invitations.invite` with why.
    """

    email = forms.EmailField(
        label="Email address",
        help_text="The invitation link is sent here; it works once, for 7 days.",
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(),
        error_messages={"invalid_choice": "Pick a team from the list."},
    )
    role = forms.ChoiceField(
        choices=Role.choices,
        initial=Role.MEMBER,
        help_text="Viewers read; members change what they own or are given; "
        "managers run the team's objectives.",
        error_messages={"invalid_choice": "Pick a role from the list."},
    )

    def __init__(self, actor: Actor, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        teams = invitations.teams_to_invite_to(actor)
        self.fields["team"].widget.choices = [
            ("", "— Choose a team —"),
            *((team.pk, team.name) for team in teams),
        ]
        if teams.count() == 1:
            self.fields["team"].initial = teams.get().pk
        self.fields["role"].widget.choices = [
            (role.value, role.label) for role in invitations.roles_to_give(actor)
        ]


class InvitationSignupForm(UserCreationForm[User]):
    """A new person's username, name and password, from an invitation."""

    password1, password2 = SetPasswordMixin.create_password_fields()

    class Meta:
        model = User
        fields = ("username", "first_name", "last_name")
        field_classes = {"username": UsernameField}

    def __init__(self, email: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The password is checked against the email too: not too like it.
        self.instance.email = email
        self.fields["first_name"].required = True
        self.fields["password1"].help_text = STRONG_ENOUGH


STRONG_ENOUGH = (
    "At least 8 characters, not only digits, not a common password and not "
    "too like your name, username or email address."
)


# Deactivation


class HandoverForm(forms.Form):
    """Who takes each team's open work from someone leaving.

    One choice per team they have open work in; empty means each item goes
    to its objective's owner.
    """

    def __init__(
        self, teams: list[Team], people: QuerySet[User], *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.teams = teams
        for team in teams:
            self.fields[self.field_name(team)] = PersonField(
                queryset=people,
                required=False,
                empty_label="Each objective's owner",
                label=f"Give {team}'s work to",
            )
            # Changing a choice shows the new plan (static/js/app.js).
            self.fields[self.field_name(team)].widget.attrs["data-autosubmit"] = ""

    @staticmethod
    def field_name(team: Team) -> str:
        return f"team-{team.pk}"

    def chosen(self) -> dict[int, User | None]:
        return {
            team.pk: self.cleaned_data.get(self.field_name(team)) for team in self.teams
        }


class PersonField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return person_label(obj)
