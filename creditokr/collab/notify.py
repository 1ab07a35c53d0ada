"""In-app notifications: what people are told, and when.

People are told when
- someone else makes them the owner of a key result or assigns them an
  initiative;
- someone mentions them in a comment (by email too, see `services`);
- an objective they follow changes status, through a check-in or a status
  set by hand;
- someone comments on an objective they follow.

Changes arrive from the change history (`change_recorded`, sent once the
change is committed); comments from the comment service. Either way a
person is told only about an objective they may see (`audience`), never
about their own doing, and never once they cannot sign in. What is listed
later is filtered again by the objective's visibility then (`access`).
"""

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.contenttypes.models import ContentType

from creditokr.accounts.models import User
from creditokr.activity.models import ChangeRecord
from creditokr.collab.audience import followers, may_see
from creditokr.collab.models import Comment, Notification, NotificationKind
from creditokr.okrs.access import as_id
from creditokr.okrs.models import CheckIn, Initiative, KeyResult, Objective
from creditokr.okrs.progress import Status
from creditokr.okrs.wording import quoted

logger = logging.getLogger(__name__)

Action = ChangeRecord.Action
SYSTEM = "CreditOKR"


def notify(
    recipients: Iterable[User],
    kind: NotificationKind,
    objective: Objective,
    text: str,
    *,
    actor: User | None = None,
    key_result: KeyResult | None = None,
    comment: Comment | None = None,
    change: ChangeRecord | None = None,
) -> list[Notification]:
    """Store one notification per recipient; callers have checked access."""
    rows = [
        Notification(
            recipient=recipient,
            kind=kind,
            actor=actor,
            objective=objective,
            key_result=key_result,
            comment=comment,
            change=change,
            text=text[:500],
        )
        for recipient in recipients
    ]
    return Notification.objects.bulk_create(rows)


def name_of(person: User | None) -> str:
    return str(person) if person is not None else SYSTEM


def status_label(value: Any) -> str:
    """A status word from the history as people read it."""
    text = str(value)
    return Status(text).label if text in Status else text.replace("_", " ")


# Changes from the history


def on_change(sender: Any, record: ChangeRecord, **_: Any) -> None:
    """Receiver for `change_recorded`: tell whoever should hear of it.

    A notification is a side effect of a change already committed: a
    failure here is logged and never undoes the change, nor stops other
    receivers of the same signal.
    """
    try:
        notify_change(record)
    except Exception:
        logger.exception("could not notify about change %s", record.pk)


def notify_change(record: ChangeRecord) -> list[Notification]:
    """The notifications one change from the history calls for."""
    if record.objective_id is None or record.action == Action.DELETE:
        return []
    model = ContentType.objects.get_for_id(record.content_type_id).model
    changes: Mapping[str, list[Any]] = record.changes_dict or {}
    if model == "keyresult" and "owner" in changes:
        return _assigned(record, KeyResult, changes["owner"][1])
    if model == "initiative" and "assignee" in changes:
        return _assigned(record, Initiative, changes["assignee"][1])
    if model == "checkin" and record.action == Action.CREATE:
        return _status_after_check_in(record)
    if model == "objective" and "status_override" in changes:
        return _status_set_by_hand(record, changes["status_override"])
    return []


def _assigned(
    record: ChangeRecord, model: type[KeyResult | Initiative], new_id: Any
) -> list[Notification]:
    """The new owner or assignee, if someone else chose them."""
    recipient_id = as_id(new_id)
    if recipient_id is None or record.actor_id in (None, recipient_id):
        return []
    item = model.objects.filter(pk=as_id(record.object_pk) or 0).first()
    recipient = User.objects.filter(pk=recipient_id).first()
    if item is None or recipient is None:
        return []
    objective = Objective.objects.get(pk=item.objective_id)
    if not may_see(recipient, objective):
        return []

    who = name_of(record.actor)
    if isinstance(item, KeyResult):
        text = f"{who} made you the owner of key result {quoted(item.title)}"
        key_result: KeyResult | None = item
    else:
        text = f"{who} assigned initiative {quoted(item.title)} to you"
        key_result = item.key_result
    return notify(
        [recipient],
        NotificationKind.ASSIGNMENT,
        objective,
        text,
        actor=record.actor,
        key_result=key_result,
        change=record,
    )


def _status_after_check_in(record: ChangeRecord) -> list[Notification]:
    """The objective's followers, when a check-in moved its status."""
    data = record.additional_data if isinstance(record.additional_data, dict) else {}
    moved = (data.get("status") or {}).get("objective")
    if not isinstance(moved, list | tuple) or len(moved) != 2:
        return []
    before, after = moved
    if before == after:
        return []

    objective = Objective.objects.get(pk=record.objective_id)
    check_in = CheckIn.objects.filter(pk=as_id(record.object_pk) or 0).first()
    key_result = check_in.key_result if check_in is not None else None
    on = f" on {quoted(key_result.title)}" if key_result is not None else ""
    text = (
        f"{quoted(objective.title)} is now {status_label(after)} "
        f"(was {status_label(before)}) after a check-in by "
        f"{name_of(record.actor)}{on}"
    )
    return notify(
        followers(objective, leaving_out=_ids(record.actor_id)),
        NotificationKind.STATUS,
        objective,
        text,
        actor=record.actor,
        key_result=key_result,
        change=record,
    )


def _status_set_by_hand(record: ChangeRecord, change: list[Any]) -> list[Notification]:
    """The objective's followers, when its status is set or cleared by hand."""
    before, after = (
        str(value) if value not in (None, "None") else "" for value in change
    )
    if before == after:
        return []
    objective = Objective.objects.get(pk=record.objective_id)
    who, title = name_of(record.actor), quoted(objective.title)
    if after:
        text = f"{who} set the status of {title} to {status_label(after)} by hand"
    else:
        text = f"{who} cleared the status set by hand on {title}"
    return notify(
        followers(objective, leaving_out=_ids(record.actor_id)),
        NotificationKind.STATUS,
        objective,
        text,
        actor=record.actor,
        change=record,
    )


def _ids(*ids: int | None) -> set[int]:
    return {pk for pk in ids if pk is not None}
