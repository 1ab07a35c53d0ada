"""One sentence per change, for feeds, notices and notifications."""

from creditokr.activity.models import ChangeRecord

_NOUNS = {
    "objective": "objective",
    "keyresult": "key result",
    "initiative": "initiative",
    "checkin": "check-in",
    "cycle": "cycle",
    "membership": "membership",
    "user": "account",
}


def noun(record: ChangeRecord) -> str:
    model: str = record.content_type.model
    return _NOUNS.get(model, model)


def describe(record: ChangeRecord) -> str:
    """Who did what to what, e.g. "Ana Silva archived key result “DSO”"."""
    who = str(record.actor) if record.actor_id else "CreditOKR"
    what = f"{noun(record)} “{record.object_repr}”"
    changes = record.changes_dict or {}
    if record.content_type.model == "checkin" and record.action == record.Action.CREATE:
        return f"{who} recorded a check-in: {record.object_repr}"
    if record.action == record.Action.CREATE:
        return f"{who} created {what}"
    if record.action == record.Action.DELETE:
        return f"{who} deleted {what}"
    if "archived" in changes:
        verb = "archived" if changes["archived"][1] == "True" else "restored"
        return f"{who} {verb} {what}"
    fields = ", ".join(sorted(changes)) or "nothing"
    return f"{who} changed {fields} of {what}"
