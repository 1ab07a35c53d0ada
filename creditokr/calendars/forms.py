"""Choosing what a new calendar feed shows."""

from typing import Any

from django import forms
from django.db.models import QuerySet

from creditokr.accounts.models import Team, User
from creditokr.calendars.models import FeedScope
from creditokr.cycles.models import Cycle


class FeedCreateForm(forms.Form):
    """A feed of my own things, of a team I am in, or of a cycle."""

    scope = forms.ChoiceField(
        choices=FeedScope.choices,
        error_messages={"invalid_choice": "Pick what the calendar should show."},
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        required=False,
        error_messages={"invalid_choice": "Pick one of your teams."},
    )
    cycle = forms.ModelChoiceField(
        queryset=Cycle.objects.all(),
        required=False,
        error_messages={"invalid_choice": "Pick a cycle from the list."},
    )

    def __init__(self, owner: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = feed_teams(owner)  # type: ignore[attr-defined]
        # A choice the chosen kind of feed does not use is not checked.
        scope = self.data.get("scope")
        for name, used_by in (("team", FeedScope.TEAM), ("cycle", FeedScope.CYCLE)):
            if self.is_bound and scope != used_by:
                del self.fields[name]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        scope = cleaned.get("scope")
        if scope == FeedScope.TEAM and cleaned.get("team") is None:
            self.add_error("team", "Pick the team whose calendar you want.")
        if scope == FeedScope.CYCLE and cleaned.get("cycle") is None:
            self.add_error("cycle", "Pick the cycle whose calendar you want.")
        cleaned.setdefault("team", None)
        cleaned.setdefault("cycle", None)
        return cleaned


def feed_teams(owner: User) -> QuerySet[Team]:
    """The teams someone may make a team calendar for: their own."""
    return Team.objects.filter(memberships__user=owner).distinct()


def feed_cycles() -> QuerySet[Cycle]:
    return Cycle.objects.order_by("-start_date", "kind")
