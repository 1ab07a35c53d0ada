"""Forms for changing objectives, key results, check-ins and initiatives.

Forms parse what a person typed and offer only the choices this actor may
use; the rules about the data itself live in `services`, which the views
call to save. Every edit form carries the version it was loaded at, so a
save over someone else's newer change is caught instead of overwriting it.
"""

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from creditokr.accounts.models import Role, Team, User
from creditokr.cycles.models import Cycle
from creditokr.okrs import access, participation, services, submissions
from creditokr.okrs.access import Actor
from creditokr.okrs.models import (
    OVERRIDABLE_STATUSES,
    VALUE_DECIMAL_PLACES,
    VALUE_MAX_DIGITS,
    CheckIn,
    Confidence,
    Initiative,
    KeyResult,
    Objective,
    Visibility,
)
from creditokr.okrs.progress import Kind, TargetMode, format_decimal

FINITE_NUMBER = "Enter a finite number, like 4.25."
OUT_OF_DATE = "This form is out of date; reload the page."
HIDDEN_PARENT = "(an objective you cannot see)"
NUMBER_PATTERN = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)
ISO_DATE_PATTERN = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
WIDE_TEXT = forms.TextInput(attrs={"size": "60"})


# Fields


class NumberField(forms.Field):
    """A decimal as a person types it: finite, plain and small enough to store.

    Django's own DecimalField lets some spellings of infinity through to the
    validators and answers others with a generic message; this one gives the
    same clear message for every non-number.
    """

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})

    def __init__(
        self,
        *,
        max_digits: int = VALUE_MAX_DIGITS,
        decimal_places: int = VALUE_DECIMAL_PLACES,
        minimum: Decimal | None = None,
        minimum_message: str = "",
        **kwargs: Any,
    ) -> None:
        self.max_whole_digits = max_digits - decimal_places
        self.decimal_places = decimal_places
        self.minimum = minimum
        self.minimum_message = minimum_message
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:
        if isinstance(value, Decimal):
            return value
        text = "" if value is None else str(value).strip()
        if not text:
            return None
        if "," in text:
            raise ValidationError(
                "Use a point for decimals and no thousands separators, like 1234.5.",
                code="invalid",
            )
        if text.endswith("%") and NUMBER_PATTERN.fullmatch(text[:-1].strip()):
            raise ValidationError(
                f"Leave out the % sign: enter {text[:-1].strip()} for {text}.",
                code="invalid",
            )
        if not NUMBER_PATTERN.fullmatch(text):
            raise ValidationError(FINITE_NUMBER, code="invalid")
        return self._storable(Decimal(text), text)

    def _storable(self, number: Decimal, text: str) -> Decimal:
        if number.is_zero():
            return Decimal(0)
        if number.adjusted() >= self.max_whole_digits:
            raise ValidationError(
                f"{text} is too large to store; the largest is {self.largest}.",
                code="too_large",
            )
        exponent = number.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > self.decimal_places:
            raise ValidationError(
                f"Use at most {self.decimal_places} decimal places.",
                code="too_precise",
            )
        return number

    @property
    def largest(self) -> str:
        """The largest number this field stores, as people write it."""
        whole = f"{10**self.max_whole_digits - 1:,}"
        return f"{whole}.{'9' * self.decimal_places}" if self.decimal_places else whole

    def prepare_value(self, value: Any) -> Any:
        """Show stored numbers as typed: 6.8, not 6.800000 or 6.8E+0."""
        if isinstance(value, Decimal) and value.is_finite():
            return f"{value.normalize():f}"
        return value

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None and self.minimum is not None and value < self.minimum:
            raise ValidationError(self.minimum_message, code="min_value")


class RealDateField(forms.DateField):
    """A date as YYYY-MM-DD (what date inputs send) that really exists."""

    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

    def to_python(self, value: Any) -> date | None:
        if isinstance(value, date):
            return value
        text = "" if value is None else str(value).strip()
        if not text:
            return None

        match = ISO_DATE_PATTERN.fullmatch(text)
        if match is None:
            raise ValidationError(
                "Enter the date as year-month-day, like 2026-11-15.", code="invalid"
            )
        year, month, day = (int(part) for part in match.groups())
        try:
            return date(year, month, day)
        except ValueError:
            raise ValidationError(
                f"{text} is not a real date.", code="invalid"
            ) from None


class VersionField(forms.IntegerField):
    """The version an edit started from, carried through the page."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "error_messages", {"required": OUT_OF_DATE, "invalid": OUT_OF_DATE}
        )
        super().__init__(min_value=1, **kwargs)


class SubmissionField(forms.CharField):
    """The one-time token of a create form (see `submissions`)."""

    widget = forms.HiddenInput

    def __init__(self) -> None:
        super().__init__(required=False)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and not submissions.TOKEN.fullmatch(value):
            raise ValidationError(OUT_OF_DATE, code="invalid")


def person_label(person: User) -> str:
    """How choices and conflicts name someone: "Ann Lee (alee)", with
    "deactivated" added for someone who can no longer sign in."""
    name = person.get_full_name() or person.username
    details = [person.username] if name != person.username else []
    if not person.is_active:
        details.append("deactivated")
    return f"{name} ({', '.join(details)})" if details else name


class PersonChoiceField(forms.ModelChoiceField[User]):
    """Someone to give work to; `offer_people` says whom to list."""

    default_error_messages = {
        "invalid_choice": "Pick someone from the list; unless you manage the "
        "team, that is yourself."
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notes: dict[int, str] = {}

    def label_from_instance(self, obj: User) -> str:
        label = person_label(obj)
        note = self.notes.get(obj.pk)
        return f"{label} ({note})" if note else label


class ObjectiveChoiceField(forms.ModelChoiceField[Objective]):
    def label_from_instance(self, obj: Objective) -> str:
        return f"{obj.cycle} · {obj.team} · {obj.title}"


class ParentChoiceField(ObjectiveChoiceField):
    """A parent objective, where KEEP stands for the current parent.

    An editor who cannot see the current parent is offered KEEP in its
    place, so saving leaves it as it is without the form naming it (or
    giving its id); they may still pick another parent or none.
    """

    KEEP = "keep"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current: Objective | None = None
        self.current_is_hidden = False

    def to_python(self, value: Any) -> Objective | None:
        if value == self.KEEP:
            return self.current
        return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        if self._is_hidden_current(value):
            return self.KEEP
        return super().prepare_value(value)

    def _is_hidden_current(self, value: Any) -> bool:
        current = self.current
        if not self.current_is_hidden or current is None:
            return False
        pk = value.pk if isinstance(value, Objective) else value
        return bool(pk == current.pk)


# Who may be picked


def people_for(
    actor: Actor, team_ids: Iterable[int], *also: int | None
) -> QuerySet[User]:
    """Who this actor may give work to in these teams.

    Anyone active if they manage one of the teams; otherwise only themselves.
    `also` keeps the people already chosen on the object being edited, even
    if they have been deactivated since, so saving does not drop them.
    """
    kept = {pk for pk in also if pk is not None}
    if any(actor.has_role(team_id, Role.MANAGER) for team_id in team_ids):
        return User.objects.filter(Q(is_active=True) | Q(pk__in=kept))
    return User.objects.filter(pk__in={actor.user.pk, *kept})


def offer_people(
    field: forms.Field, team_id: int, visibility: str, *kept: int | None
) -> None:
    """List only people who could take part in such an objective.

    Anyone the field accepts may still be posted, and the services explain
    why someone cannot take part. The people already chosen (`kept`) stay
    listed, labelled with what stops them, so saving other fields keeps
    them, as it keeps deactivated people.
    """
    assert isinstance(field, PersonChoiceField)
    kept_ids = {pk for pk in kept if pk is not None}
    able = participation.taking_part(team_id, visibility)
    people = list(field.queryset.filter(able | Q(pk__in=kept_ids)))  # type: ignore[union-attr]
    for person in people:
        if person.pk in kept_ids:
            field.notes[person.pk] = participation.note(person, team_id, visibility)

    empty = [] if field.empty_label is None else [("", field.empty_label)]
    field.widget.choices = empty + [
        (person.pk, field.label_from_instance(person)) for person in people
    ]


def _takes_part(actor: Actor, objective: Objective) -> bool:
    found = participation.standing(actor, objective.team_id, objective.visibility)
    return found == participation.Standing.TAKES_PART


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


def carry_submission_token(form: forms.BaseForm) -> None:
    """Give a create form its one-time token, new each time it is shown."""
    form.fields["submission"] = SubmissionField()
    form.initial.setdefault("submission", submissions.new_token())


def submission_token(form: forms.BaseForm) -> str:
    token: str = form.cleaned_data.get("submission") or ""
    return token


class VersionedForm[M: (Objective, KeyResult, Initiative)](forms.ModelForm[M]):
    """A model form that remembers the version an edit was loaded at.

    An edit also carries the values it showed (Django's hidden initial
    inputs), so after a conflict `changed_data` says what this editor
    changed rather than what differs from someone else's newer save. A new
    object's form carries a one-time token instead.
    """

    version = VersionField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            carry_submission_token(self)
            return

        self.fields["version"].required = True
        self.initial.setdefault("version", self.instance.version)
        for name, field in self.fields.items():
            field.show_hidden_initial = name != "version"

    @property
    def loaded_version(self) -> int:
        version: int = self.cleaned_data["version"]
        return version

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

    def __init__(
        self, actor: Actor, objective: Objective, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.instance.objective = objective
        keep = self.instance.owner_id if self.instance.pk else None
        field = self.fields["owner"]
        field.queryset = people_for(actor, [objective.team_id], keep)  # type: ignore[attr-defined]
        field.initial = keep or (
            actor.user.pk if _takes_part(actor, objective) else None
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


def lacks_baseline(key_result: KeyResult) -> bool:
    """Whether a number key result is still waiting for its baseline.

    Its target follows from the baseline, so until the owner sets one there
    is nothing to measure a reading against and `services` refuses check-ins.
    """
    if key_result.kind == Kind.MILESTONE:
        return False
    needs_start = key_result.kind in (Kind.INCREASE, Kind.DECREASE)
    return key_result.target_value is None or (
        needs_start and key_result.start_value is None
    )


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
        self.baseline_missing = lacks_baseline(key_result)
        if key_result.kind == Kind.MILESTONE or self.baseline_missing:
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
        if not initiative.pk and _takes_part(actor, objective):
            field.initial = actor.user.pk
        offer_people(field, objective.team_id, objective.visibility, keep)
