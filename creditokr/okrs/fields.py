"""The fields and choices the OKR forms share.

Fields parse what a person typed into clear messages (numbers, dates) or
carry what a page needs to hand back (the version an edit was loaded at, a
create form's one-time token). The choice helpers offer only the people and
objectives this actor may pick; the services still check whatever is posted.
"""

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from creditokr.accounts.models import Role, User
from creditokr.okrs import participation, submissions
from creditokr.okrs.access import Actor
from creditokr.okrs.models import VALUE_DECIMAL_PLACES, VALUE_MAX_DIGITS, Objective

FINITE_NUMBER = "Enter a finite number, like 4.25."
OUT_OF_DATE = "This form is out of date; reload the page."
NUMBER_PATTERN = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)
ISO_DATE_PATTERN = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)


# Typed values


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


# Carried through the page


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


def carry_submission_token(form: forms.BaseForm) -> None:
    """Give a create form its one-time token, new each time it is shown."""
    form.fields["submission"] = SubmissionField()
    form.initial.setdefault("submission", submissions.new_token())


def submission_token(form: forms.BaseForm) -> str:
    token: str = form.cleaned_data.get("submission") or ""
    return token


# Who and what may be picked


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
