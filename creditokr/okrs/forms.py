"""Forms for changing objectives, key results, check-ins and initiatives.

Forms parse what a person typed and offer only the choices this actor may
use; the rules about the data itself live in `services`, which the views
call to save. Every edit form carries the version it was loaded at, so a
save over someone else's newer change is caught instead of overwriting it.
The fields and choice helpers they share are in `fields`.
"""

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from creditokr.accounts.models import Role, Team, User
from creditokr.cycles.models import Cycle
from creditokr.okrs import access, participation, services
from creditokr.okrs.access import Actor
from creditokr.okrs.fields import (
    NumberField,
    ParentChoiceField,
    PersonChoiceField,
    RealDateField,
    VersionField,
    carry_submission_token,
    offer_people,
    people_for,
    submission_token,
)
from creditokr.okrs.models import (
    OVERRIDABLE_STATUSES,
    CheckIn,
    Confidence,
    Initiative,
    KeyResult,
    Objective,
    Visibility,
)
from creditokr.okrs.progress import Kind, TargetMode, format_decimal

HIDDEN_PARENT = "(an objective you cannot see)"
WIDE_TEXT = forms.TextInput(attrs={"size": "60"})


class VersionedForm[M: (Objective, KeyResult, Initiative)](forms.ModelForm[M]):
    """A model form that remembers the version an edit was loaded at.

    An edit also carries the values it showed (Django's hidden initial
    inputs), so after a conflict `changed_data` says what this editor
    changed rather than what differs from someone else's newer save. A new
    object's form carries a one-time token instead.

    An edit whose form sets `reason_help` also asks for the reason for the
    change, which the history keeps with it.
    """

    version = VersionField(required=False)
    reason_help = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            carry_submission_token(self)
            return

        if self.reason_help:
            self.fields["reason"] = forms.CharField(
                label="Reason for the change",
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=self.reason_help,
            )
        self.fields["version"].required = True
        self.initial.setdefault("version", self.instance.version)
        for name, field in self.fields.items():
            field.show_hidden_initial = name not in ("version", "reason")

    @property
    def loaded_version(self) -> int:
        version: int = self.cleaned_data["version"]
        return version

    @property
    def change_reason(self) -> str:
        """Why the editor made the change, as they said it ("" if unsaid)."""
        return str(self.cleaned_data.get("reason") or "").strip()

    @property
    def token(self) -> str:
        return submission_token(self)


# Objectives


class ObjectiveForm(VersionedForm[Objective]):
    parent = ParentChoiceField(
        queryset=Objective.objects.none(),
        required=False,
        label="Contributes to",
        help_text="The objective this one is aligned under, if any.",
        error_messages={
            "invalid_choice": "Pick a parent objective from the list; "
            "that one is not available to you."
        },
    )
    owner = PersonChoiceField(queryset=User.objects.none())

    class Meta:
        model = Objective
        fields = [
            "title",
            "description",
            "cycle",
            "team",
            "owner",
            "parent",
            "visibility",
            "priority",
        ]
        widgets = {"title": WIDE_TEXT, "description": forms.Textarea(attrs={"rows": 3})}

    reason_help = (
        "Optional; kept with this change in the objective's history, e.g. "
        "'Moved to Q4 after the portfolio sale'."
    )

    def __init__(self, actor: Actor, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        objective = self.instance
        team_ids = set(
            access.teams_for_new_objectives(actor).values_list("pk", flat=True)
        )
        if objective.pk:
            team_ids.add(objective.team_id)

        self._set_cycle_choices()
        self.fields["team"].queryset = Team.objects.filter(pk__in=team_ids)  # type: ignore[attr-defined]
        self.fields["team"].error_messages["invalid_choice"] = (
            "Pick one of the teams you can add objectives to."
        )
        self.fields["cycle"].error_messages["invalid_choice"] = (
            "Pick a cycle from the list."
        )
        self.fields["owner"].queryset = people_for(actor, team_ids, objective.owner_id)  # type: ignore[attr-defined]
        if not objective.pk:
            self.fields["owner"].initial = actor.user.pk
        # A new objective is organisation-wide unless said otherwise.
        visibility = objective.visibility if objective.pk else Visibility.ORGANISATION
        offer_people(
            self.fields["owner"], objective.team_id, visibility, objective.owner_id
        )
        self._set_parent_choices()

    def _set_cycle_choices(self) -> None:
        """Accept any cycle; offer the open ones and the objective's own.

        A closed cycle posted anyway is refused by the service, with why.
        """
        field: forms.ModelChoiceField[Cycle] = self.fields["cycle"]  # type: ignore[assignment]
        cycles = Cycle.objects.order_by("-start_date", "kind")
        field.queryset = cycles

        own = self.instance.cycle_id
        offered = [
            (cycle.pk, f"{cycle} (closed)" if cycle.is_closed else str(cycle))
            for cycle in cycles
            if not cycle.is_closed or cycle.pk == own
        ]
        empty = [] if field.empty_label is None else [("", field.empty_label)]
        field.widget.choices = empty + offered

    def _set_parent_choices(self) -> None:
        """Accept any visible objective; offer only the sensible ones.

        A current parent the actor cannot see is offered as "an objective
        you cannot see", so saving keeps it; its title never reaches them.
        """
        field: ParentChoiceField = self.fields["parent"]  # type: ignore[assignment]
        visible = access.visible_objectives(self.actor).select_related("cycle", "team")
        field.queryset = visible

        parent_id = self.instance.parent_id
        field.current = self.instance.parent if parent_id else None
        field.current_is_hidden = bool(
            parent_id and not visible.filter(pk=parent_id).exists()
        )
        excluded = _descendant_ids(self.instance) if self.instance.pk else set()
        offered = visible.filter(archived=False).exclude(pk__in=excluded)
        if parent_id:
            offered = offered | visible.filter(pk=parent_id)
        kept = [(field.KEEP, HIDDEN_PARENT)] if field.current_is_hidden else []
        field.widget.choices = [("", "— None —"), *kept] + [
            (o.pk, field.label_from_instance(o))
            for o in offered.order_by("-cycle__start_date", "team__name", "title")
        ]

    def clean_parent(self) -> Objective | None:
        parent: Objective | None = self.cleaned_data.get("parent")
        try:
            services.check_parent(self.instance, parent)
        except ValidationError as error:
            raise ValidationError(error.messages) from None
        return parent

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        team, owner = cleaned.get("team"), cleaned.get("owner")
        if team is None or owner is None:
            return cleaned

        if not access.can_assign_owner(self.actor, team.pk, owner.pk):
            if self.actor.has_role(team.pk, Role.MEMBER):
                message = f"In {team} you can only make yourself the owner."
                self.add_error("owner", message)
            else:
                self.add_error("team", f"You cannot add objectives to {team}.")
        return cleaned


def _descendant_ids(objective: Objective) -> set[int]:
    """The objective and everything aligned under it, level by level."""
    found = {objective.pk}
    level = {objective.pk}
    while level:
        level = set(
            Objective.objects.filter(parent_id__in=level)
            .exclude(pk__in=found)
            .values_list("pk", flat=True)
        )
        found |= level
    return found


class StatusOverrideForm(VersionedForm[Objective]):
    status_override = forms.ChoiceField(
        label="Status",
        choices=[("", "— Choose a status —"), *OVERRIDABLE_STATUSES],
        error_messages={"required": "Pick the status to show."},
    )
    status_override_reason = forms.CharField(
        label="Why",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown next to the status, e.g. 'Bureau feed delayed to May'.",
        error_messages={"required": "Say why you override the status."},
    )

    class Meta:
        model = Objective
        fields = ["status_override", "status_override_reason"]


# Key results


class KeyResultForm(VersionedForm[KeyResult]):
    owner = PersonChoiceField(queryset=User.objects.none())
    start_value = NumberField(
        required=False, label="Start value (baseline)", help_text="Where it is today."
    )
    target_value = NumberField(
        required=False,
        help_text="For a fixed target. Relative targets are worked out for you.",
    )
    target_change = NumberField(
        required=False,
        help_text="For relative targets: -15 means 15% (or 15 points) lower.",
    )
    due_date = RealDateField(
        required=False, help_text="Empty means the last day of the cycle."
    )
    weight = NumberField(
        max_digits=8,
        decimal_places=3,
        minimum=Decimal(0),
        minimum_message="A weight cannot be negative; use 0 to leave it out of "
        "the roll-up.",
        initial=Decimal(1),
        help_text="How much it counts in the objective's progress.",
    )

    class Meta:
        model = KeyResult
        fields = [
            "title",
            "definition",
            "owner",
            "kind",
            "unit",
            "currency_code",
            "unit_label",
            "start_value",
            "target_mode",
            "target_value",
            "target_change",
            "due_date",
            "weight",
        ]
        labels = {"currency_code": "Currency code", "target_mode": "Target is"}
        widgets = {"title": WIDE_TEXT, "definition": forms.Textarea(attrs={"rows": 2})}
        help_texts = {"currency_code": "Three capital letters, like GBP or EUR."}

    reason_help = (
        "The target is the kind, the baseline, the target and how it is set; "
        "other edits need no reason. Kept with the change in the key "
        "result's history."
    )

    def __init__(
        self, actor: Actor, objective: Objective, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.instance.objective = objective
        keep = self.instance.owner_id if self.instance.pk else None
        field = self.fields["owner"]
        field.queryset = people_for(actor, [objective.team_id], keep)  # type: ignore[attr-defined]
        field.initial = keep or (
            actor.user.pk if participation.takes_part(actor, objective) else None
        )
        offer_people(field, objective.team_id, objective.visibility, keep)

    def add_error(self, field: str | None, error: Any) -> None:
        """Put a relative target's problems under the change that set it.

        With a relative target the target value is worked out, not typed, so
        what is wrong with it is said about the target change instead.
        """
        worked_out = self.instance.target_mode != TargetMode.ABSOLUTE
        if field == "target_value" and worked_out and "target_change" in self.fields:
            field, error = "target_change", self._about_the_change(error)
        super().add_error(field, error)

    def _about_the_change(self, error: Any) -> list[str]:
        messages = ValidationError(error).messages
        target = self.instance.target_value
        if target is None:
            return messages
        puts = f"This change puts the target at {format_decimal(target)}."
        return [f"{puts} {message}" for message in messages]


# Check-ins


class CheckInForm(forms.ModelForm[CheckIn]):
    value = NumberField(
        label="Current value", error_messages={"required": "Enter the current value."}
    )
    done = forms.TypedChoiceField(
        label="Milestone",
        choices=[("yes", "Done"), ("no", "Not done yet")],
        coerce=lambda answer: answer == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the milestone is done."},
    )
    confidence = forms.ChoiceField(
        choices=[("", "Not saying"), *Confidence.choices],
        required=False,
        help_text="How likely you think the target is, whatever the numbers say.",
    )
    as_of = RealDateField(
        label="As of", help_text="The day the value describes; earlier days are fine."
    )

    class Meta:
        model = CheckIn
        fields = ["value", "done", "confidence", "note", "as_of"]
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}

    def __init__(
        self, key_result: KeyResult, today: date, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        carry_submission_token(self)
        self.key_result = key_result
        self.instance.key_result = key_result
        self.fields["as_of"].initial = today
        self.baseline_missing = services.lacks_baseline(key_result)
        self.data_fed = key_result.kind != Kind.MILESTONE and services.is_data_fed(
            key_result
        )
        self.data_reading = (
            services.latest_data_reading(key_result) if self.data_fed else None
        )
        if self.data_fed:
            # The value and its date come from the data; people add their
            # view of it.
            del self.fields["as_of"]
            self.baseline_missing = False
        if key_result.kind == Kind.MILESTONE or self.baseline_missing or self.data_fed:
            del self.fields["value"]
        if key_result.kind != Kind.MILESTONE:
            del self.fields["done"]
            suffix = key_result.unit_suffix.strip()
            if suffix and "value" in self.fields:
                self.fields["value"].label = f"Current value ({suffix})"

    @property
    def token(self) -> str:
        return submission_token(self)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.key_result.archived:
            raise ValidationError(
                "This key result is archived; restore it before checking in."
            )
        return cleaned


# Initiatives


class InitiativeForm(VersionedForm[Initiative]):
    assignee = PersonChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="— Nobody yet —",
    )
    due_date = RealDateField(required=False)

    class Meta:
        model = Initiative
        fields = [
            "title",
            "description",
            "key_result",
            "assignee",
            "priority",
            "state",
            "due_date",
        ]
        labels = {"key_result": "Moves key result"}
        widgets = {"title": WIDE_TEXT, "description": forms.Textarea(attrs={"rows": 3})}

    reason_help = "Optional; kept with this change in the objective's history."

    def __init__(
        self, actor: Actor, objective: Objective, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.instance.objective = objective
        initiative = self.instance
        key_results = objective.key_results.filter(archived=False)
        if not access.can_edit_objective(actor, objective):
            # Key result owners and assignees work inside what is theirs.
            key_results = key_results.filter(owner=actor.user)
        if initiative.key_result_id:
            key_results = key_results | objective.key_results.filter(
                pk=initiative.key_result_id
            )

        field = self.fields["key_result"]
        field.queryset = key_results  # type: ignore[attr-defined]
        field.empty_label = "— The objective as a whole —"  # type: ignore[attr-defined]
        field.error_messages["invalid_choice"] = (
            "Pick one of this objective's key results from the list."
        )
        field = self.fields["assignee"]
        keep = initiative.assignee_id
        field.queryset = people_for(actor, [objective.team_id], keep)  # type: ignore[attr-defined]
        if not initiative.pk and participation.takes_part(actor, objective):
            field.initial = actor.user.pk
        offer_people(field, objective.team_id, objective.visibility, keep)
