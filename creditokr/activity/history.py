"""The change history as one reader sees it: a sentence, then what changed.

Each row reads as who did what (`wording.describe`), when, the fields it
changed from what to what ("Target: 40 → 38"), in the words and units the
pages use, and the reason given. Values a field points to are named for
this reader: an objective or key result they may not see is "an objective
you cannot see", never its title. Names are looked up for a whole page of
rows at once, one query per kind of thing named.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.text import capfirst

from creditokr.accounts.models import Team, User
from creditokr.activity import wording
from creditokr.activity.models import ChangeRecord
from creditokr.cycles.models import Cycle
from creditokr.okrs import access
from creditokr.okrs.access import Actor
from creditokr.okrs.fields import person_label
from creditokr.okrs.models import Confidence, KeyResult, Objective
from creditokr.okrs.progress import Status, format_decimal
from creditokr.okrs.wording import format_day

EMPTY = "—"
LONG_TEXT = 200

# Bookkeeping the sentence already says, or nobody needs to read.
HIDDEN_FIELDS = {
    "version",
    "created_at",
    "updated_at",
    "template_key",
    "position",
    "status_override_reason",  # shown as the change's reason
}
# Values written in the key result's unit.
UNIT_FIELDS = {"start_value", "target_value", "value"}
HIDDEN_AS = {
    Objective: "an objective you cannot see",
    KeyResult: "a key result you cannot see",
}

Names = Mapping[tuple[type[models.Model], int], str]


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class Entry:
    """One change, ready to show."""

    record: ChangeRecord
    sentence: str
    changes: list[FieldChange] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)

    @property
    def timestamp(self) -> datetime:
        moment: datetime = self.record.timestamp
        return moment

    @property
    def reason(self) -> str:
        return str(self.record.reason)

    @property
    def model(self) -> str:
        return str(self.record.content_type.model)

    @property
    def link(self) -> str:
        """Where the changed thing is shown, if anywhere."""
        if self.record.objective_id is not None:
            return reverse("objective_detail", args=[self.record.objective_id])
        if self.model == "cycle" and self.record.object_id is not None:
            return reverse("cycle_detail", args=[self.record.object_id])
        return ""


def entries(actor: Actor, records: Iterable[ChangeRecord]) -> list[Entry]:
    """The rows (loaded with actor and content_type) as `actor` reads them."""
    rows = list(records)
    names = _names(actor, rows)
    return [
        Entry(
            record=record,
            sentence=wording.describe(record),
            changes=_field_changes(record, names),
            details=_details(record),
        )
        for record in rows
    ]


def for_display(records: QuerySet[ChangeRecord]) -> QuerySet[ChangeRecord]:
    """Newest first, with what every sentence needs loaded."""
    return records.select_related("actor", "content_type").order_by("-timestamp", "-pk")


# What changed


def _field_changes(record: ChangeRecord, names: Names) -> list[FieldChange]:
    if record.action != ChangeRecord.Action.UPDATE:
        return []
    model = record.content_type.model_class()
    unit = _data(record).get("unit", "")
    shown = []
    for name, field_ in _changed_fields(record):
        before, after = record.changes_dict[name]
        shown.append(
            FieldChange(
                capfirst(wording.field_words(model, name)),
                _value(field_, before, unit, names),
                _value(field_, after, unit, names),
            )
        )
    return shown


def _changed_fields(record: ChangeRecord) -> list[tuple[str, models.Field[Any, Any]]]:
    """The changed fields worth showing, in the model's order."""
    model = record.content_type.model_class()
    changes = record.changes_dict or {}
    if model is None:
        return []
    return [
        (f.name, f)
        for f in model._meta.concrete_fields
        if f.name in changes and f.name not in HIDDEN_FIELDS
    ]


def _value(field_: models.Field[Any, Any], text: Any, unit: str, names: Names) -> str:
    value = "None" if text is None else str(text)
    if value in ("None", ""):
        return EMPTY
    if field_.is_relation:
        return _related_name(field_, value, names)
    if field_.choices:
        return str(dict(field_.flatchoices).get(value, value))
    if isinstance(field_, models.BooleanField):
        return {"True": "yes", "False": "no"}.get(value, value)
    if isinstance(field_, models.DecimalField):
        number = _number(value)
        suffix = unit if field_.name in UNIT_FIELDS else ""
        return value if number is None else f"{number}{suffix}"
    if isinstance(field_, models.DateField) and not isinstance(
        field_, models.DateTimeField
    ):
        return _day(value)
    if len(value) > LONG_TEXT:
        return f"{value[:LONG_TEXT].rstrip()}…"
    return value


def _related_name(field_: models.Field[Any, Any], value: str, names: Names) -> str:
    model = field_.related_model
    pk = access.as_id(value)
    if not isinstance(model, type) or pk is None:
        return value
    found = names.get((model, pk))
    if found is not None:
        return found
    hidden = HIDDEN_AS.get(model)
    return hidden or f"a deleted {model._meta.verbose_name}"


def _details(record: ChangeRecord) -> list[tuple[str, str]]:
    """What a check-in said, and how it moved the statuses."""
    if record.content_type.model != "checkin" or (
        record.action != ChangeRecord.Action.CREATE
    ):
        return []
    changes = record.changes_dict or {}
    after = {name: pair[1] for name, pair in changes.items()}
    details = []
    if after.get("as_of") not in (None, "None"):
        details.append(("As of", _day(after["as_of"])))
    confidence = after.get("confidence")
    if confidence in Confidence.values:
        details.append(("Confidence", str(Confidence(confidence).label)))
    if after.get("note") not in (None, "None", ""):
        details.append(("Note", after["note"]))
    moved = _data(record).get("status") or {}
    for name, label in (("objective", "Objective"), ("key_result", "Key result")):
        pair = moved.get(name) if isinstance(moved, dict) else None
        if isinstance(pair, list) and len(pair) == 2 and pair[0] != pair[1]:
            before, now = (_status(value) for value in pair)
            details.append((f"{label} status", f"{before} → {now}"))
    return details


# Names of what the fields point to, for one reader


def _names(actor: Actor, records: Sequence[ChangeRecord]) -> Names:
    wanted: dict[type[models.Model], set[int]] = defaultdict(set)
    for record in records:
        if record.action != ChangeRecord.Action.UPDATE:
            continue
        for name, field_ in _changed_fields(record):
            model = field_.related_model
            if not field_.is_relation or not isinstance(model, type):
                continue
            for value in record.changes_dict[name]:
                pk = access.as_id(value)
                if pk is not None:
                    wanted[model].add(pk)

    names: dict[tuple[type[models.Model], int], str] = {}
    for model, ids in wanted.items():
        for pk, name in _lookup(actor, model, ids):
            names[(model, pk)] = name
    return names


def _lookup(
    actor: Actor, model: type[models.Model], ids: set[int]
) -> list[tuple[int, str]]:
    if model is User:
        people = User.objects.filter(pk__in=ids)
        return [(person.pk, person_label(person)) for person in people]
    if model is Objective:
        objectives = access.visible_objectives(actor).filter(pk__in=ids)
        return list(objectives.values_list("pk", "title"))
    if model is KeyResult:
        key_results = access.visible_key_results(actor).filter(pk__in=ids)
        return list(key_results.values_list("pk", "title"))
    if model is Team:
        teams = access.visible_teams(actor).filter(pk__in=ids)
        return [(team.pk, str(team)) for team in teams]
    if model is Cycle:
        return [(cycle.pk, str(cycle)) for cycle in Cycle.objects.filter(pk__in=ids)]
    # Anything else named from a visible change is seen with it.
    found = model._default_manager.filter(pk__in=ids)
    return [(item.pk, str(item)) for item in found]


# Small formatting


def _number(text: str) -> str | None:
    try:
        return format_decimal(Decimal(text))
    except (InvalidOperation, ValueError):
        return None


def _day(text: str) -> str:
    try:
        return format_day(date.fromisoformat(text))
    except ValueError:
        return text


def _status(value: Any) -> str:
    text = str(value)
    return Status(text).label if text in Status else text.replace("_", " ")


def _data(record: ChangeRecord) -> dict[str, Any]:
    data = record.additional_data
    return data if isinstance(data, dict) else {}
