"""The filters of the activity feed and of an objective's history.

Both are GET forms. What they offer comes through `access`, and a value not
offered (a team, person, key result or initiative that does not exist or
belongs elsewhere) is refused with a message saying what to pick, rather
than quietly showing everything.
"""

from typing import Any

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from creditokr.accounts.models import Membership, Team, User
from creditokr.activity.models import ChangeRecord
from creditokr.cycles.models import Cycle
from creditokr.okrs import access
from creditokr.okrs.access import Actor
from creditokr.okrs.fields import person_label
from creditokr.okrs.models import CheckIn, Initiative, KeyResult, Objective

KINDS: dict[str, tuple[str, type[Any]]] = {
    "objective": ("Objectives", Objective),
    "keyresult": ("Key results", KeyResult),
    "initiative": ("Initiatives", Initiative),
    "checkin": ("Check-ins", CheckIn),
    "cycle": ("Cycles", Cycle),
    "membership": ("Team memberships", Membership),
    "user": ("Accounts", User),
}


class PersonField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return person_label(obj)


class FeedFilters(forms.Form):
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        required=False,
        empty_label="All teams",
        error_messages={"invalid_choice": "Pick a team from the list."},
    )
    person = PersonField(
        queryset=User.objects.none(),
        required=False,
        label="Changed by",
        empty_label="Anyone",
        error_messages={"invalid_choice": "Pick a person from the list."},
    )
    kind = forms.ChoiceField(
        choices=[("", "Everything"), *((k, label) for k, (label, _) in KINDS.items())],
        required=False,
        label="What",
        error_messages={
            "invalid_choice": "Pick what to show from the list: objectives, "
            "key results, initiatives, check-ins, cycles, team memberships or "
            "accounts."
        },
    )

    def __init__(self, actor: Actor, data: Any = None) -> None:
        super().__init__(data)
        self.fields["team"].queryset = access.visible_teams(actor)  # type: ignore[attr-defined]
        self.fields["person"].queryset = User.objects.all()  # type: ignore[attr-defined]

    @property
    def active(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.values())

    def apply(self, records: QuerySet[ChangeRecord]) -> QuerySet[ChangeRecord]:
        """The records the (valid) filters keep.

        A team keeps changes to its objectives (where they are now) and
        its memberships; changes with no team, like cycles, are left out.
        """
        team: Team | None = self.cleaned_data.get("team")
        person: User | None = self.cleaned_data.get("person")
        kind: str = self.cleaned_data.get("kind") or ""
        if team is not None:
            records = records.filter(
                Q(objective__team=team) | Q(objective__isnull=True, team=team)
            )
        if person is not None:
            records = records.filter(actor=person)
        if kind:
            model = KINDS[kind][1]
            records = records.filter(
                content_type=ContentType.objects.get_for_model(model)
            )
        return records


class ObjectiveHistoryFilters(forms.Form):
    """Narrow an objective's history to some of its key results or
    initiatives; with neither, everything in the objective shows."""

    key_result = forms.ModelChoiceField(
        queryset=KeyResult.objects.none(),
        required=False,
        empty_label="All key results",
        error_messages={
            "invalid_choice": "Pick one of this objective's key results from the list."
        },
    )
    initiative = forms.ModelChoiceField(
        queryset=Initiative.objects.none(),
        required=False,
        empty_label="All initiatives",
        error_messages={
            "invalid_choice": "Pick one of this objective's initiatives from the list."
        },
    )

    def __init__(self, actor: Actor, objective: Objective, data: Any = None) -> None:
        super().__init__(data)
        key_results = access.visible_key_results(actor).filter(objective=objective)
        initiatives = access.visible_initiatives(actor).filter(objective=objective)
        self.fields["key_result"].queryset = key_results.order_by(  # type: ignore[attr-defined]
            "archived", "-is_headline", "position", "pk"
        )
        self.fields["initiative"].queryset = initiatives.order_by("position", "pk")  # type: ignore[attr-defined]

    @property
    def active(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.values())

    def apply(self, records: QuerySet[ChangeRecord]) -> QuerySet[ChangeRecord]:
        key_result: KeyResult | None = self.cleaned_data.get("key_result")
        initiative: Initiative | None = self.cleaned_data.get("initiative")
        wanted = Q()
        if key_result is not None:
            # The key result itself and its check-ins.
            wanted |= Q(key_result=key_result)
        if initiative is not None:
            wanted |= Q(
                content_type=ContentType.objects.get_for_model(Initiative),
                object_id=initiative.pk,
            )
        return records.filter(wanted) if wanted else records
