"""One sentence per change, for feeds, notices and notifications.

Each kind of change reads the way people say it: "Ana recorded 41.2 days on
“DSO”", "Ana made Bo a manager of Collections", "Ana archived key result
“DSO”". A sentence is worked out from the row alone (its changes, the names
and unit it was written with, its actor and content type, which callers
load with select_related), so listing many costs no further queries. It
names only the changed object itself, never what a changed field points to:
the history's field list does that, for each reader (see `history`).
"""

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models

from creditokr.activity.models import ChangeRecord
from creditokr.okrs.progress import format_decimal
from creditokr.okrs.wording import quoted

SYSTEM = "CreditOKR"

_NOUNS = {
    "objective": "objective",
    "keyresult": "key result",
    "initiative": "initiative",
    "checkin": "check-in",
    "cycle": "cycle",
    "membership": "membership",
    "user": "account",
    "comment": "comment",
}

# How people call a field, where its model's name for it is not that.
FIELD_WORDS = {
    "start_value": "baseline",
    "target_value": "target",
    "target_mode": "how the target is set",
    "target_change": "target change",
    "parent": "parent objective",
    "status_override": "status set by hand",
    "key_result": "key result it moves",
    "copied_from": "objective it was carried over from",
    "is_active": "sign-in access",
    "is_headline": "headline flag",
}

_ROLES = {
    "viewer": "a viewer",
    "member": "a member",
    "manager": "a manager",
    "admin": "an administrator",
}

Changes = Mapping[str, list[str]]


def noun(record: ChangeRecord) -> str:
    model: str = record.content_type.model
    return _NOUNS.get(model, model)


def who(record: ChangeRecord) -> str:
    """The person who made the change, or the app for automatic changes."""
    if record.actor_id:
        return str(record.actor)
    return record.actor_email or SYSTEM


def field_words(model: type[models.Model] | None, name: str) -> str:
    """A field as people call it, e.g. "target", "due date"."""
    if name in FIELD_WORDS:
        return FIELD_WORDS[name]
    try:
        field = model._meta.get_field(name) if model is not None else None
    except FieldDoesNotExist:
        field = None
    verbose = getattr(field, "verbose_name", None)
    return str(verbose) if verbose else name.replace("_", " ")


def choice_label(model: type[models.Model] | None, name: str, value: str) -> str | None:
    """The label a choice field shows for a stored value, if it has one."""
    try:
        field = model._meta.get_field(name) if model is not None else None
    except FieldDoesNotExist:
        return None
    choices = dict(getattr(field, "flatchoices", None) or [])
    label = choices.get(value)
    return None if label is None else str(label)


def describe(record: ChangeRecord) -> str:
    """Who did what to what, e.g. "Ana Silva archived key result “DSO”"."""
    sentence = _SENTENCES.get(record.content_type.model, _about_item)
    return sentence(record, who(record), record.changes_dict or {})


def _about_item(record: ChangeRecord, actor: str, changes: Changes) -> str:
    """Objectives, key results, initiatives and cycles."""
    what = f"{noun(record)} {quoted(record.object_repr)}"
    model = record.content_type.model_class()
    if record.action == ChangeRecord.Action.CREATE:
        return f"{actor} created {what}"
    if record.action == ChangeRecord.Action.DELETE:
        return f"{actor} deleted {what}"
    if "archived" in changes:
        verb = "archived" if changes["archived"][1] == "True" else "restored"
        return f"{actor} {verb} {what}"
    names = set(changes)
    if "status_override" in names and names <= {
        "status_override",
        "status_override_reason",
    }:
        status = changes["status_override"][1]
        label = choice_label(model, "status_override", status)
        if label is None:
            return f"{actor} cleared the status set by hand on {what}"
        return f"{actor} set the status of {what} to {label} by hand"
    if names == {"state"}:
        label = choice_label(model, "state", changes["state"][1])
        return f"{actor} moved {what} to {(label or changes['state'][1]).lower()}"
    if names == {"position"}:
        return f"{actor} moved {what} in the list"
    return f"{actor} changed the {_listing(model, changes)} of {what}"


def _about_check_in(record: ChangeRecord, actor: str, changes: Changes) -> str:
    data = _data(record)
    title = data.get("key_result") or record.object_repr.rsplit(" as of ", 1)[0]
    on = quoted(title)
    if record.action == ChangeRecord.Action.DELETE:
        return f"{actor} deleted a check-in on {on}"
    if record.action != ChangeRecord.Action.CREATE:
        return f"{actor} changed a check-in on {on}"
    value = _number(_after(changes, "value"))
    if value is not None:
        return f"{actor} recorded {value}{data.get('unit', '')} on {on}"
    done = _after(changes, "done")
    if done == "True":
        return f"{actor} marked {on} done"
    if done == "False":
        return f"{actor} recorded {on} as not done yet"
    return f"{actor} checked in on {on}"


def _about_membership(record: ChangeRecord, actor: str, changes: Changes) -> str:
    data = _data(record)
    person = data.get("person") or record.object_repr.split(" — ")[0]
    team = data.get("team") or record.object_repr.rsplit(" of ", 1)[-1]
    if record.action == ChangeRecord.Action.DELETE:
        return f"{actor} removed {person} from {team}"
    role = _ROLES.get(_after(changes, "role") or "", "")
    if not role:
        return f"{actor} changed the {_listing(None, changes)} of {person} in {team}"
    where = f"(through {team})" if role == _ROLES["admin"] else f"of {team}"
    if record.action == ChangeRecord.Action.CREATE and (
        record.actor_id is not None and record.actor_id == record.subject_id
    ):
        return f"{person} joined {team} as {role}"
    return f"{actor} made {person} {role} {where}"


def _about_account(record: ChangeRecord, actor: str, changes: Changes) -> str:
    account = f"{record.object_repr}'s account"
    if record.action == ChangeRecord.Action.CREATE:
        return f"{actor} added {account}"
    if record.action == ChangeRecord.Action.DELETE:
        return f"{actor} deleted {account}"
    if "is_active" in changes:
        verb = "reactivated" if changes["is_active"][1] == "True" else "deactivated"
        return f"{actor} {verb} {account}"
    return f"{actor} changed the name on {account}"


def _about_comment(record: ChangeRecord, actor: str, changes: Changes) -> str:
    on = _data(record).get("on")
    where = f" on {quoted(on)}" if on else ""
    if record.action == ChangeRecord.Action.DELETE:
        return f"{actor} removed a comment{where}"
    if record.action == ChangeRecord.Action.CREATE:
        return f"{actor} commented{where}"
    return f"{actor} edited a comment{where}"


_SENTENCES: dict[str, Callable[[ChangeRecord, str, Changes], str]] = {
    "comment": _about_comment,
    "checkin": _about_check_in,
    "membership": _about_membership,
    "user": _about_account,
}


def _listing(model: type[models.Model] | None, changes: Changes) -> str:
    """The changed fields in words: "title", "title and owner", "a, b and c"
    (in the model's order)."""
    words = [field_words(model, name) for name in _in_model_order(model, changes)]
    if not words:
        return "details"
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _in_model_order(model: type[models.Model] | None, changes: Changes) -> list[str]:
    if model is None:
        return sorted(changes)
    order = {f.name: n for n, f in enumerate(model._meta.concrete_fields)}
    return sorted(changes, key=lambda name: (order.get(name, len(order)), name))


def _after(changes: Changes, name: str) -> str | None:
    pair = changes.get(name)
    if not pair or pair[1] in ("None", ""):
        return None
    return str(pair[1])


def _number(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return format_decimal(Decimal(text))
    except (InvalidOperation, ValueError):
        return None


def _data(record: ChangeRecord) -> dict[str, Any]:
    data = record.additional_data
    return data if isinstance(data, dict) else {}
