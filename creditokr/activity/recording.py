"""Who changed what, and why: how changes reach the history.

Saves of the registered models are diffed by django-auditlog, which hands
each change to `prepare` (through ChangeRecord's manager) before the row is
written. `prepare` drops what is no real change (a number stored as 6.8000
and typed as 6.8, reverse relations), picks up the actor, reason and extra
data that the service doing the change attached with `attribute` (or the
person named with `acting` for a whole operation; in a web request, the
signed-in person, through auditlog's middleware), and works out the
objective, key result and team the change belongs to. Changes made with
queryset updates (which send no signals) are written with `record`.

Once the transaction commits, `change_recorded` is sent with the row, for
live updates and notifications to act on.

A row never points at something deleted in the same operation: an objective
being deleted first gives its rows its team and visibility for good (so they
stay visible to exactly the people who could see it), and rows written
while it goes leave it out.
"""

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal, InvalidOperation
from typing import Any

from auditlog.models import AbstractLogEntry
from auditlog.registry import auditlog
from django.core.exceptions import ObjectDoesNotExist
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import Signal

from creditokr.activity.models import ChangeRecord

# Sent after commit with `record` (a ChangeRecord), once per change.
change_recorded = Signal()

Action = AbstractLogEntry.Action

# Extra facts for a row's `additional_data`, or a function that works them
# out once the change is saved.
ExtraData = Mapping[str, Any] | Callable[[], Mapping[str, Any]]

_ACTOR = "_change_actor"
_REASON = "_change_reason"
_DATA = "_change_data"
_acting: ContextVar[Any] = ContextVar("creditokr_acting", default=None)
_going: ContextVar[frozenset[tuple[str, int]]] = ContextVar(
    "creditokr_going", default=frozenset()
)

# Bookkeeping fields that say nothing a reader needs.
_QUIET = ["version", "created_at", "updated_at"]


def register_models() -> None:
    from creditokr.accounts.models import Membership, Team, User
    from creditokr.cycles.models import Cycle
    from creditokr.okrs.models import CheckIn, Initiative, KeyResult, Objective

    auditlog.register(Objective, exclude_fields=_QUIET)
    auditlog.register(KeyResult, exclude_fields=_QUIET)
    auditlog.register(Initiative, exclude_fields=_QUIET)
    auditlog.register(CheckIn, exclude_fields=["created_at"])
    auditlog.register(Cycle)
    auditlog.register(Membership)
    auditlog.register(User, include_fields=["is_active", "first_name", "last_name"])
    recorded: list[type[models.Model]] = [
        Objective,
        KeyResult,
        Initiative,
        CheckIn,
        Cycle,
        Membership,
        User,
    ]
    for model in recorded:
        post_save.connect(
            _forget, sender=model, dispatch_uid=f"creditokr-forget-{model.__name__}"
        )
    referred_to: list[type[models.Model]] = [Objective, KeyResult, Team, User]
    for model in referred_to:
        pre_delete.connect(
            _going_away, sender=model, dispatch_uid=f"creditokr-going-{model.__name__}"
        )
        post_delete.connect(
            _gone, sender=model, dispatch_uid=f"creditokr-gone-{model.__name__}"
        )
    pre_delete.connect(
        _seal_history, sender=Objective, dispatch_uid="creditokr-activity-seal"
    )
    post_save.connect(
        _announce, sender=ChangeRecord, dispatch_uid="creditokr-activity-announce"
    )


# Saying who and why


def attribute(
    instance: models.Model,
    actor: Any,
    reason: str = "",
    *,
    data: ExtraData | None = None,
) -> None:
    """Say who makes the next save of `instance`, and why.

    A later call without a reason keeps an earlier call's reason, so an
    operation that hands its save on to another keeps what it was told.
    `data` (or a function returning it, called once the change is saved) is
    stored on the row as `additional_data`.
    """
    setattr(instance, _ACTOR, actor)
    setattr(instance, _REASON, reason.strip() or getattr(instance, _REASON, ""))
    if data is not None:
        setattr(instance, _DATA, data)


@contextmanager
def acting(actor: Any) -> Iterator[None]:
    """Put every change in the block down to `actor`, unless said otherwise."""
    token = _acting.set(actor)
    try:
        yield
    finally:
        _acting.reset(token)


def record(
    instance: models.Model,
    actor: Any,
    changes: Mapping[str, Any],
    *,
    action: int = Action.UPDATE,
    reason: str = "",
) -> ChangeRecord:
    """Write a change made without a model save (a queryset update)."""
    entry: ChangeRecord | None = ChangeRecord.objects.log_create(
        instance,
        force_log=True,
        changes=dict(changes),
        action=action,
        actor=actor,
        reason=reason,
    )
    assert entry is not None, "a forced row is always written"
    return entry


# Filling in a row


def prepare(
    instance: models.Model, *, force_log: bool = False, **fields: Any
) -> dict[str, Any] | None:
    """The fields of the row for a change to `instance`; None to write none.

    An update whose changes all turn out to be no change (a decimal read
    back with more places) writes nothing, unless forced.
    """
    action = fields.get("action", Action.UPDATE)
    changes = tidy_changes(type(instance), fields.get("changes"))
    if not changes and not force_log:
        _forget(type(instance), instance)
        return None

    actor = fields.get("actor") or getattr(instance, _ACTOR, None) or _acting.get()
    reason = fields["reason"] if "reason" in fields else getattr(instance, _REASON, "")
    place = _place(instance, action)
    data = {**place.pop("additional_data", {}), **_extra(instance)}
    data.update(fields.get("additional_data") or {})
    prepared = {
        **fields,
        **place,
        "changes": changes,
        "reason": (reason or "").strip(),
        "additional_data": data or None,
    }
    if actor is not None:
        prepared["actor"] = actor
        prepared.setdefault("actor_email", getattr(actor, "email", None))
    return prepared


def tidy_changes(
    model: type[models.Model], changes: Mapping[str, Any] | None
) -> dict[str, list[str]]:
    """Only the model's own fields, as text, whose values really differ."""
    fields = {f.name: f for f in model._meta.concrete_fields if not f.primary_key}
    tidied: dict[str, list[str]] = {}
    for name, (old, new) in (changes or {}).items():
        field = fields.get(name)
        before, after = _text(old), _text(new)
        if field is None or before == after:
            continue
        if isinstance(field, models.DecimalField) and _same_number(before, after):
            continue
        tidied[name] = [before, after]
    return tidied


def context_of(instance: models.Model) -> dict[str, Any]:
    """The objective, key result, team and visibility of a change to it."""
    place = _place(instance, Action.UPDATE)
    place.pop("additional_data", None)
    return place


def _place(instance: models.Model, action: int) -> dict[str, Any]:
    from creditokr.accounts.models import Membership, Team, User
    from creditokr.collab.models import Comment
    from creditokr.okrs.models import CheckIn, Initiative, KeyResult, Objective

    deleted = action == Action.DELETE
    if isinstance(instance, Membership):
        team, person = _related(instance, "team"), _related(instance, "user")
        return {
            "team_id": _unless_going(Team, instance.team_id),
            "subject_id": _unless_going(User, instance.user_id),
            "additional_data": {
                "person": str(person or ""),
                "team": str(team or ""),
            },
        }
    if isinstance(instance, User):
        return {"subject_id": None if deleted else instance.pk}

    data: dict[str, Any] = {}
    key_result_id: int | None = None
    if isinstance(instance, Objective):
        objective: Objective | None = instance
    elif isinstance(instance, KeyResult):
        objective = _related(instance, "objective")
        key_result_id = None if deleted else instance.pk
        data = {"unit": instance.unit_suffix}
    elif isinstance(instance, Initiative | Comment):
        objective = _related(instance, "objective")
        if isinstance(instance, Comment):
            key_result_id = instance.key_result_id
            data = {"on": str(_related(instance, "key_result") or objective or "")}
    elif isinstance(instance, CheckIn):
        key_result = _related(instance, "key_result")
        objective = key_result and _related(key_result, "objective")
        key_result_id = instance.key_result_id
        if key_result is not None:
            data = {"key_result": key_result.title, "unit": key_result.unit_suffix}
    else:
        return {}

    if objective is None:
        return {"additional_data": data}
    objective_id = None if deleted and objective is instance else objective.pk
    return {
        "objective_id": _unless_going(Objective, objective_id),
        "key_result_id": _unless_going(KeyResult, key_result_id),
        "team_id": objective.team_id,
        "team_only": objective.visibility == "team",
        "additional_data": data,
    }


def _related(instance: models.Model, name: str) -> Any:
    """A related object, or None if it is gone."""
    try:
        return getattr(instance, name)
    except ObjectDoesNotExist:
        return None


def _extra(instance: models.Model) -> dict[str, Any]:
    data = getattr(instance, _DATA, None)
    if data is None:
        return {}
    return dict(data() if callable(data) else data)


def _text(value: Any) -> str:
    return "None" if value is None else str(value)


def _same_number(before: str, after: str) -> bool:
    try:
        return Decimal(before) == Decimal(after)
    except InvalidOperation:
        return False


def _forget(sender: type, instance: models.Model, **_: Any) -> None:
    """Attribution is for one save only."""
    for name in (_ACTOR, _REASON, _DATA):
        instance.__dict__.pop(name, None)


# Deletions


def _key(model: type[models.Model], pk: Any) -> tuple[str, int]:
    return (model._meta.label, int(pk))


def _unless_going(model: type[models.Model], pk: int | None) -> int | None:
    """`pk`, unless that object is being deleted right now."""
    if pk is None or _key(model, pk) in _going.get():
        return None
    return pk


def _going_away(sender: type[models.Model], instance: models.Model, **_: Any) -> None:
    _going.set(_going.get() | {_key(sender, instance.pk)})


def _gone(sender: type[models.Model], instance: models.Model, **_: Any) -> None:
    _going.set(_going.get() - {_key(sender, instance.pk)})


def _seal_history(sender: type, instance: Any, **_: Any) -> None:
    """Give an objective's rows its team and visibility before it goes."""
    ChangeRecord.objects.filter(objective_id=instance.pk).update(
        team_id=instance.team_id, team_only=instance.visibility == "team"
    )


def _announce(sender: type, instance: ChangeRecord, created: bool, **_: Any) -> None:
    if created:
        transaction.on_commit(
            lambda: change_recorded.send(sender=ChangeRecord, record=instance),
            robust=True,
        )
