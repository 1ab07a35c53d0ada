"""Who changed what, and why: how changes reach the history.

Saves of the registered models are diffed and written by django-auditlog.
Before a row is written, `_describe` works out the objective and team it
belongs to, and picks up the actor and reason that the service doing the
change attached with `attribute`. Changes made with queryset updates (which
send no signals) are written with `record`.

Once the transaction commits, `change_recorded` is sent with the row, for
live updates and notifications to act on.
"""

from contextvars import ContextVar
from typing import Any

from auditlog.models import AbstractLogEntry
from auditlog.registry import auditlog
from auditlog.signals import pre_log
from django.db import models, transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import Signal

from creditokr.activity.models import ChangeRecord

# Sent after commit with `record` (a ChangeRecord), once per change.
change_recorded = Signal()

Action = AbstractLogEntry.Action

_ACTOR = "_change_actor"
_REASON = "_change_reason"
_pending: ContextVar[dict[str, Any] | None] = ContextVar(
    "creditokr_pending_change", default=None
)

# Bookkeeping fields that say nothing a reader needs.
_QUIET = ["version", "created_at", "updated_at"]


def register_models() -> None:
    from creditokr.accounts.models import Membership, User
    from creditokr.cycles.models import Cycle
    from creditokr.okrs.models import CheckIn, Initiative, KeyResult, Objective

    auditlog.register(Objective, exclude_fields=_QUIET)
    auditlog.register(KeyResult, exclude_fields=_QUIET)
    auditlog.register(Initiative, exclude_fields=_QUIET)
    auditlog.register(CheckIn, exclude_fields=["created_at"])
    auditlog.register(Cycle)
    auditlog.register(Membership)
    auditlog.register(User, include_fields=["is_active", "first_name", "last_name"])
    pre_log.connect(_describe, dispatch_uid="creditokr-activity-describe")
    pre_save.connect(
        _fill_in, sender=ChangeRecord, dispatch_uid="creditokr-activity-fill"
    )
    post_save.connect(
        _announce, sender=ChangeRecord, dispatch_uid="creditokr-activity-announce"
    )


def attribute(instance: models.Model, actor: Any, reason: str = "") -> None:
    """Say who makes the next save of `instance`, and why."""
    setattr(instance, _ACTOR, actor)
    setattr(instance, _REASON, reason.strip())


def record(
    instance: models.Model,
    actor: Any,
    changes: dict[str, list[Any]],
    *,
    action: int = Action.UPDATE,
    reason: str = "",
) -> ChangeRecord:
    """Write a change made without a model save (a queryset update)."""
    fields = {
        "changes": {
            name: [_text(old), _text(new)] for name, (old, new) in changes.items()
        },
        "action": action,
        "actor": actor,
        "reason": reason.strip(),
        **context_of(instance),
    }
    entry: ChangeRecord = ChangeRecord.objects.log_create(
        instance, force_log=True, **fields
    )
    return entry


def context_of(instance: models.Model) -> dict[str, Any]:
    """The objective, team and visibility a change to `instance` belongs to."""
    from creditokr.accounts.models import Membership, User
    from creditokr.okrs.models import CheckIn, Initiative, KeyResult, Objective

    objective: Objective | None = None
    if isinstance(instance, Objective):
        objective = instance
    elif isinstance(instance, KeyResult | Initiative):
        objective = Objective.objects.filter(pk=instance.objective_id).first()
    elif isinstance(instance, CheckIn):
        objective = Objective.objects.filter(
            key_results__pk=instance.key_result_id
        ).first()
    elif isinstance(instance, Membership):
        return {"team_id": instance.team_id, "subject_id": instance.user_id}
    elif isinstance(instance, User):
        return {"subject_id": instance.pk}

    if objective is None:
        return {}
    return {
        # A deleted objective cannot be referred to; team and team_only keep
        # its history visible to the right people.
        "objective_id": objective.pk if _exists(objective) else None,
        "team_id": objective.team_id,
        "team_only": objective.visibility == "team",
    }


def _exists(instance: models.Model) -> bool:
    return type(instance)._default_manager.filter(pk=instance.pk).exists()


def _text(value: Any) -> str:
    return "None" if value is None else str(value)


def _describe(sender: type, instance: models.Model, action: int, **_: Any) -> None:
    pending = context_of(instance)
    if action == Action.DELETE:
        # The row may go with its objective in the same delete; its team and
        # visibility still place it.
        pending["objective_id"] = None
    pending["actor"] = getattr(instance, _ACTOR, None)
    pending["reason"] = getattr(instance, _REASON, "")
    _pending.set(pending)


def _fill_in(sender: type, instance: ChangeRecord, **_: Any) -> None:
    pending = _pending.get()
    if pending is None or instance.pk is not None:
        return
    _pending.set(None)
    for name, value in pending.items():
        if name == "actor":
            if value is not None and instance.actor_id is None:
                instance.actor = value
                instance.actor_email = getattr(value, "email", None)
        elif name == "reason":
            instance.reason = instance.reason or value
        else:
            setattr(instance, name, value)


def _announce(sender: type, instance: ChangeRecord, created: bool, **_: Any) -> None:
    if created:
        transaction.on_commit(
            lambda: change_recorded.send(sender=ChangeRecord, record=instance),
            robust=True,
        )
