"""The named operations on OKRs. Views, commands and loaders all call these.

Each operation validates fully before it writes, so bad input changes
nothing, and edits carry the version the editor started from, so a second
person saving over a change they have not seen is told instead of silently
overwriting it.

The rules the operations check live by topic in `objective_checks` and
`key_result_checks`; this module offers the public ones too, so callers
need only `services`.
"""

import logging
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Max, QuerySet
from django.utils import timezone

from creditokr.accounts.models import Organisation, Role, User
from creditokr.activity.recording import attribute, record
from creditokr.activity.statuses import board_statuses
from creditokr.cycles.fiscal import local_today, parse_time_zone
from creditokr.cycles.models import CycleState
from creditokr.okrs import access, participation
from creditokr.okrs.key_result_checks import (
    CURRENCY_CODE,
    apply_target_definition,
    check_key_result,
    lacks_baseline,
    unit_problem,
)
from creditokr.okrs.models import (
    OVERRIDABLE_STATUSES,
    CheckIn,
    CheckInSource,
    Initiative,
    InitiativeState,
    KeyResult,
    Objective,
    Priority,
)
from creditokr.okrs.objective_checks import (
    check_initiative,
    check_objective,
    check_parent,
)
from creditokr.okrs.progress import Kind
from creditokr.okrs.wording import format_day, quoted

__all__ = [
    "CURRENCY_CODE",
    "EditConflict",
    "apply_target_definition",
    "archive_key_result",
    "archive_objective",
    "check_initiative",
    "check_key_result",
    "check_objective",
    "check_parent",
    "create_initiative",
    "create_key_result",
    "create_objective",
    "lacks_baseline",
    "latest_as_of",
    "record_check_in",
    "restore_key_result",
    "restore_objective",
    "save_versioned",
    "set_status_override",
    "unit_problem",
    "update_initiative",
    "update_key_result",
    "update_objective",
]

logger = logging.getLogger(__name__)


class EditConflict(Exception):
    """Someone else saved the object after the editor loaded it."""

    def __init__(self, current: models.Model) -> None:
        self.current = current
        super().__init__(
            f"Someone else changed this {current._meta.verbose_name} while you "
            "were editing it. Their version is shown below; re-apply your "
            "change if it is still needed."
        )


def save_versioned(instance: Any, expected_version: int) -> None:
    """Save `instance` only if nobody saved it since `expected_version`."""
    model = type(instance)
    with transaction.atomic():
        current = model.objects.select_for_update().get(pk=instance.pk)
        if current.version != expected_version:
            raise EditConflict(current)

        instance.version = current.version + 1
        instance.save()


# Check-ins


def record_check_in(
    user: User,
    key_result: KeyResult,
    *,
    as_of: date,
    value: Decimal | None = None,
    done: bool | None = None,
    confidence: str = "",
    note: str = "",
    source: str = CheckInSource.MANUAL,
    today: date | None = None,
) -> CheckIn:
    """Add a reading to a key result's history (never replacing one).

    Its row in the change history keeps the objective's and the key
    result's status (board words) from before and after the reading.
    """
    today = today or latest_as_of(user)
    check_in = CheckIn(
        key_result=key_result,
        value=value,
        done=done,
        confidence=confidence,
        note=note.strip(),
        author=user,
        as_of=as_of,
        source=source,
    )

    _validate_check_in(check_in, today)
    if source == CheckInSource.MANUAL:
        _check_not_overriding_data(check_in)
    check_in.full_clean(exclude=["key_result", "author"])
    organisation = Organisation.get()
    before = board_statuses(key_result, organisation)

    def statuses() -> dict[str, Any]:
        after = board_statuses(key_result, organisation)
        return {"status": {name: [before[name], after[name]] for name in before}}

    attribute(check_in, user, data=statuses)
    check_in.save()
    logger.info(
        "check-in %s recorded on key result %s by user %s",
        check_in.pk,
        key_result.pk,
        user.pk,
    )
    return check_in


def latest_data_reading(key_result: KeyResult) -> CheckIn | None:
    """The newest value a data feed wrote, for a key result fed by data."""
    return (
        CheckIn.objects.filter(key_result=key_result, source=CheckInSource.DATA)
        .order_by("-as_of", "-created_at", "-pk")
        .first()
    )


def is_data_fed(key_result: KeyResult) -> bool:
    """Whether a credit-data feed computes this key result's value."""
    return KeyResult.objects.filter(pk=key_result.pk, feed__isnull=False).exists()


def _check_not_overriding_data(check_in: CheckIn) -> None:
    """A data-fed value is not typed over by hand: a person's check-in on
    such a key result repeats the latest value from data, with their note
    and confidence."""
    key_result = check_in.key_result
    if key_result.kind == Kind.MILESTONE or not is_data_fed(key_result):
        return
    latest = latest_data_reading(key_result)
    if latest is None:
        raise ValidationError(
            "This key result's value comes from data, and none has arrived "
            "yet; refresh its feed first."
        )
    if check_in.value != latest.value or check_in.as_of != latest.as_of:
        raise ValidationError(
            "This key result's value comes from data and cannot be typed in; "
            "add a note or a confidence instead."
        )


def latest_as_of(user: User) -> date:
    """The latest date someone may check in for: today where they are.

    A person ahead of the organisation's time zone (Singapore against
    London) is already on the next day, and may say so; nobody may date a
    reading later than the organisation's or their own today.
    """
    organisation_today = local_today(Organisation.get().zone)
    if not user.time_zone:
        return organisation_today
    return max(organisation_today, local_today(parse_time_zone(user.time_zone)))


def _validate_check_in(check_in: CheckIn, today: date) -> None:
    key_result = check_in.key_result
    cycle = key_result.objective.cycle
    if key_result.objective.archived:
        raise ValidationError("This objective is archived; restore it to check in.")
    if key_result.archived:
        raise ValidationError("This key result is archived; restore it to check in.")
    if check_in.as_of > today:
        today_is = format_day(today)
        message = f"The as-of date cannot be in the future (today is {today_is})."
        raise ValidationError({"as_of": message})
    if check_in.as_of < cycle.start_date:
        starts = format_day(cycle.start_date)
        message = f"{cycle} starts on {starts}; pick a date from then."
        raise ValidationError({"as_of": message})

    if key_result.kind == Kind.MILESTONE:
        if check_in.done is None:
            raise ValidationError({"done": "Say whether the milestone is done."})
        check_in.value = None
        return

    check_in.done = None
    if lacks_baseline(key_result):
        raise ValidationError(
            "Set this key result's baseline (start value) first; its target "
            "follows from it. Then check in."
        )
    if check_in.value is None:
        raise ValidationError({"value": "Enter the current value."})
    problem = unit_problem(key_result.unit, check_in.value)
    if problem:
        raise ValidationError({"value": problem})


# Objectives


def create_objective(user: User, objective: Objective) -> Objective:
    """Add a new objective, checked in full before it is saved."""
    check_objective(user, objective)
    attribute(objective, user)
    objective.save()
    logger.info("objective %s created by user %s", objective.pk, user.pk)
    return objective


def update_objective(
    user: User, objective: Objective, expected_version: int, reason: str = ""
) -> None:
    """Save an edited objective; a move to another cycle or parent too.

    The reason, if given, is kept with the change in the history.
    """
    check_objective(user, objective)
    attribute(objective, user, reason)
    save_versioned(objective, expected_version)
    logger.info("objective %s edited by user %s", objective.pk, user.pk)


def archive_objective(user: User, objective: Objective) -> bool:
    """Take an objective out of lists and roll-ups, keeping all its history.

    Returns whether it changed: False if it was archived already.
    """
    return _set_archived(user, objective, archived=True)


def restore_objective(user: User, objective: Objective) -> bool:
    """Bring an archived objective back; False if it was not archived."""
    return _set_archived(user, objective, archived=False)


def set_status_override(
    user: User, objective: Objective, status: str, reason: str, expected_version: int
) -> None:
    """Let the owner state a status the numbers do not show, with a reason.

    The reason is also the reason of the change in the history.
    """
    reason = reason.strip()
    if status and status not in dict(OVERRIDABLE_STATUSES):
        raise ValidationError(
            {"status_override": f"{status!r} is not a status you can choose."}
        )
    if status and not reason:
        raise ValidationError({"status_override_reason": "Say why you override."})

    objective.status_override = status
    objective.status_override_reason = reason if status else ""
    attribute(objective, user, reason if status else "")
    save_versioned(objective, expected_version)


# Key results


def create_key_result(user: User, key_result: KeyResult) -> KeyResult:
    """Add a key result at the end of its objective's list."""
    objective = key_result.objective
    _check_objective_live(objective)
    check_key_result(key_result)

    key_result.position = _next_position(KeyResult.objects.filter(objective=objective))
    attribute(key_result, user)
    key_result.save()
    logger.info("key result %s created by user %s", key_result.pk, user.pk)
    return key_result


# What a key result promises, by field and as people call it: replacing any
# of these changes its target.
TARGET_FIELDS = {
    "kind": "kind",
    "start_value": "baseline",
    "target_mode": "how the target is set",
    "target_value": "target",
    "target_change": "target change",
}


def update_key_result(
    user: User, key_result: KeyResult, expected_version: int, reason: str = ""
) -> None:
    """Save an edited key result; a changed target needs a reason.

    The target is what the key result promises: its kind, its baseline, its
    target or threshold and how the target is set. Replacing one of those
    is refused without a reason, which is kept with the change in the
    history. Filling in a baseline or target that was still empty needs
    none, and neither does any other edit.
    """
    check_key_result(key_result)
    changed = _target_changes(key_result, expected_version)
    if changed and not reason.strip():
        parts = "" if changed == ["target"] else f" ({', '.join(changed)})"
        raise ValidationError(
            {
                "reason": f"This changes the target{parts}; say why in “Reason "
                "for the change”. The reason is kept in the key result's history."
            }
        )
    attribute(key_result, user, reason)
    save_versioned(key_result, expected_version)
    logger.info("key result %s edited by user %s", key_result.pk, user.pk)


def _target_changes(key_result: KeyResult, expected_version: int) -> list[str]:
    """The target fields an edit replaces, by their names in the form.

    An edit made over someone else's newer save is not judged here: saving
    it is refused as a conflict anyway.
    """
    stored = (
        KeyResult.objects.filter(pk=key_result.pk)
        .values("version", *TARGET_FIELDS)
        .first()
    )
    if stored is None or stored["version"] != expected_version:
        return []
    return [
        words
        for name, words in TARGET_FIELDS.items()
        if stored[name] is not None and stored[name] != getattr(key_result, name)
    ]


def archive_key_result(user: User, key_result: KeyResult) -> bool:
    """Leave a key result out of its objective's progress; history stays.

    Returns whether it changed: False if it was archived already.
    """
    return _set_archived(user, key_result, archived=True)


def restore_key_result(user: User, key_result: KeyResult) -> bool:
    """Bring an archived key result back; False if it was not archived.

    Its objective may have moved to another cycle meanwhile; a key result
    due outside the cycle is refused rather than brought back overdue.
    """
    cycle = key_result.objective.cycle
    due = key_result.due_date
    if key_result.archived and due is not None and not cycle.contains(due):
        raise ValidationError(
            f"“{key_result.title}” is due {format_day(due)}, outside {cycle}. "
            "Edit it to change or clear its due date, then restore it."
        )

    return _set_archived(user, key_result, archived=False)


# Initiatives


def create_initiative(user: User, initiative: Initiative) -> Initiative:
    objective = initiative.objective
    _check_objective_live(objective)
    check_initiative(initiative)

    initiative.position = _next_position(Initiative.objects.filter(objective=objective))
    attribute(initiative, user)
    initiative.save()
    logger.info("initiative %s created by user %s", initiative.pk, user.pk)
    return initiative


def update_initiative(
    user: User, initiative: Initiative, expected_version: int, reason: str = ""
) -> None:
    """Save an edited initiative; the reason, if any, goes in the history."""
    check_initiative(initiative)
    attribute(initiative, user, reason)
    save_versioned(initiative, expected_version)
    logger.info("initiative %s edited by user %s", initiative.pk, user.pk)


# Shared by the operations


def _check_objective_live(objective: Objective) -> None:
    if objective.archived:
        raise ValidationError(
            f"{objective.title} is archived; restore it before adding to it."
        )


def _next_position(siblings: QuerySet[Any]) -> int:
    """The place after the last of `siblings`, 0 for the first."""
    last: int | None = siblings.aggregate(last=Max("position"))["last"]
    return 0 if last is None else last + 1


def _set_archived(user: User, item: Objective | KeyResult, *, archived: bool) -> bool:
    """Flip the archived flag once, however many times it is asked for.

    Returns whether it changed; only a change is logged, and written to
    the history (the update sends no signals, so the row is written here).
    """
    with transaction.atomic():
        changed = (
            type(item)
            .objects.filter(pk=item.pk, archived=not archived)
            .update(
                archived=archived, version=F("version") + 1, updated_at=timezone.now()
            )
        )
        item.refresh_from_db(fields=["archived", "version", "updated_at"])
        if not changed:
            return False
        record(item, user, {"archived": [not archived, archived]})

    noun, done = item._meta.verbose_name, "archived" if archived else "restored"
    logger.info("%s %s %s by user %s", noun, item.pk, done, user.pk)
    return True


# Giving work to people
#
# Work is given through the same update operations as any other edit, with
# the version check, so the history records who gave what to whom. A bulk
# assignment is all or nothing: if one item may not be given (by this
# person, or to that person), nothing changes and the message names it.

Assignable = Initiative | KeyResult


def open_initiatives() -> QuerySet[Initiative]:
    """Initiatives still to do: not done, in live objectives of open cycles."""
    return (
        Initiative.objects.exclude(state=InitiativeState.DONE)
        .filter(objective__archived=False)
        .exclude(objective__cycle__state=CycleState.CLOSED)
    )


def open_key_results() -> QuerySet[KeyResult]:
    """Key results still worked on: live, in live objectives of open cycles."""
    return KeyResult.objects.filter(archived=False, objective__archived=False).exclude(
        objective__cycle__state=CycleState.CLOSED
    )


def holder(item: Assignable) -> User | None:
    """Who carries `item`: an initiative's assignee, a key result's owner."""
    if isinstance(item, Initiative):
        return item.assignee
    return item.owner


def item_key(item: Assignable) -> str:
    """How forms name an item: "initiative-12", "key_result-5"."""
    kind = "initiative" if isinstance(item, Initiative) else "key_result"
    return f"{kind}-{item.pk}"


def assignment_refusal(
    actor: access.Actor, item: Assignable, person: User | None
) -> str:
    """Why `actor` may not give `item` to `person`, or "" if they may.

    They must be allowed to change the item and to give work in its team to
    that person (a member gives work only to themselves); the person must be
    active and able to take part in the objective. A key result always has
    an owner; an initiative may be left with nobody.
    """
    objective = item.objective
    if isinstance(item, Initiative):
        may_change = access.can_edit_initiative(actor, item)
    else:
        may_change = access.can_edit_key_result(actor, item)
    if not may_change:
        return "you cannot change it"
    if person is None:
        return "a key result always has an owner" if isinstance(item, KeyResult) else ""
    team = objective.team
    if not access.can_assign_owner(actor, team.pk, person.pk):
        if actor.has_role(team.pk, Role.MEMBER):
            return f"in {team} you can give work only to yourself"
        return f"only managers of {team} give its work to people"
    if not person.is_active:
        return f"{person} is deactivated"
    found = participation.standing(
        access.actor_of(person), team.pk, objective.visibility
    )
    if found == participation.Standing.CANNOT_SEE:
        return f"{person} cannot see its team-only objective"
    if found == participation.Standing.READ_ONLY:
        return f"{person} could only read it"
    return ""


def assign(
    user: User,
    item: Assignable,
    person: User | None,
    expected_version: int,
    *,
    reason: str = "",
) -> bool:
    """Give one initiative or key result to `person`; False if already theirs.

    Refused with a ValidationError, changing nothing, for any reason
    `assignment_refusal` gives; a save over someone else's newer change
    raises EditConflict, as any edit does.
    """
    problem = assignment_refusal(access.actor_for(user), item, person)
    if problem:
        raise ValidationError(f"{problem[0].upper()}{problem[1:]}.")
    if holder(item) == person:
        return False

    _hand_over(item, person)
    if isinstance(item, Initiative):
        update_initiative(user, item, expected_version, reason)
    else:
        update_key_result(user, item, expected_version, reason)
    return True


def bulk_assign(
    user: User,
    items: Sequence[Assignable],
    assignee: User,
    *,
    versions: Mapping[str, int] | None = None,
    reason: str = "",
) -> int:
    """Give every item to `assignee`, or none; returns how many changed.

    Each item is checked as `assign` checks it, and must still be open and,
    where `versions` (by `item_key`) are given, unchanged since the list was
    shown. If any is refused, nothing changes and the ValidationError names
    every refused item with why. Items already the assignee's are left as
    they are; each other one is saved on its own, so the history has a row
    per item, with who gave it.
    """
    if not items:
        raise ValidationError("Tick at least one item to assign.")
    actor = access.actor_for(user)
    with transaction.atomic():
        problems: list[str] = []
        changing: list[Assignable] = []
        for item, fresh in _locked_fresh(items):
            already = fresh is not None and holder(fresh) == assignee
            problem = _bulk_problem(actor, item, fresh, assignee, versions)
            if problem:
                problems.append(f"{quoted(item.title)} ({problem})")
            elif fresh is not None and not already:
                changing.append(fresh)
        if problems:
            raise ValidationError(
                f"Nothing was assigned. These cannot go to {assignee}: "
                f"{'; '.join(problems)}."
            )
        for item in changing:
            attribute(item, user, reason)
            item.version += 1
            item.save()
    logger.info(
        "%s items given to user %s by user %s", len(changing), assignee.pk, user.pk
    )
    return len(changing)


def _locked_fresh(
    items: Sequence[Assignable],
) -> list[tuple[Assignable, Assignable | None]]:
    """Each item with its row as stored now (None if it is gone), locked."""
    fresh: dict[str, Assignable] = {}
    for model in (Initiative, KeyResult):
        ids = [item.pk for item in items if isinstance(item, model)]
        if not ids:
            continue
        locked = model.objects.select_for_update().filter(pk__in=ids)
        stored = model.objects.filter(pk__in=list(locked.values_list("pk", flat=True)))
        for row in stored.select_related("objective__team", "objective__cycle"):
            fresh[item_key(row)] = row
    return [(item, fresh.get(item_key(item))) for item in items]


def _bulk_problem(
    actor: access.Actor,
    item: Assignable,
    fresh: Assignable | None,
    assignee: User,
    versions: Mapping[str, int] | None,
) -> str:
    """Why `fresh` (the stored `item`) may not go to `assignee` now, or ""."""
    if fresh is None:
        return "it no longer exists"
    expected = (versions or {}).get(item_key(item))
    if expected is not None and expected != fresh.version:
        return "someone changed it since the list was shown; reload the page"
    problem = _closed(fresh) or assignment_refusal(actor, fresh, assignee)
    if problem or holder(fresh) == assignee:
        return problem
    _hand_over(fresh, assignee)
    try:
        if isinstance(fresh, Initiative):
            check_initiative(fresh)
        else:
            check_key_result(fresh)
    except ValidationError as error:
        return " ".join(error.messages)
    return ""


def _closed(item: Assignable) -> str:
    """Why an item is no longer open work, or "" if it is."""
    objective = item.objective
    if isinstance(item, Initiative) and item.state == InitiativeState.DONE:
        return "it is done"
    if isinstance(item, KeyResult) and item.archived:
        return "it is archived"
    if objective.archived:
        return "its objective is archived"
    if objective.cycle.state == CycleState.CLOSED:
        return f"{objective.cycle} is closed"
    return ""


def _hand_over(item: Assignable, person: User | None) -> None:
    if isinstance(item, Initiative):
        item.assignee = person
    else:
        assert person is not None, "a key result always has an owner"
        item.owner = person


def set_initiative_priority(
    user: User, initiative: Initiative, priority: str, expected_version: int
) -> bool:
    """Make an initiative high, medium or low priority; False if it was."""
    if priority not in Priority.values:
        raise ValidationError(
            {"priority": "Pick a priority from the list: high, medium or low."}
        )
    if initiative.priority == priority:
        return False
    initiative.priority = priority
    update_initiative(user, initiative, expected_version)
    return True


# Ordering initiatives

STALE_ORDER = (
    "Someone added or removed an initiative while you were ordering them, so "
    "the list you sent is not the one there now. Nothing was moved; here is "
    "the list as it is now."
)


def reorder_initiatives(
    user: User,
    objective: Objective,
    ordered_ids: Sequence[int],
    versions: Mapping[int, int] | None = None,
) -> int:
    """Put an objective's initiatives in this order; returns how many moved.

    `ordered_ids` must name each of the objective's initiatives exactly
    once, and each of `versions` must still be the stored one: a list made
    before someone added, removed or moved one is refused, moving nothing.
    Each initiative whose place changes is saved on its own (with a new
    version), so the history has a row per initiative moved.
    """
    with transaction.atomic():
        current = Initiative.objects.select_for_update().filter(objective=objective)
        by_id = {initiative.pk: initiative for initiative in current}
        if len(set(ordered_ids)) != len(ordered_ids) or set(ordered_ids) != set(by_id):
            raise ValidationError(STALE_ORDER)
        changed = [
            by_id[pk]
            for pk, version in (versions or {}).items()
            if by_id[pk].version != version
        ]
        if changed:
            titles = ", ".join(quoted(initiative.title) for initiative in changed)
            raise ValidationError(
                f"Someone changed {titles} while you were ordering the "
                "initiatives. Nothing was moved; here is the list as it is now."
            )

        moved = 0
        for position, pk in enumerate(ordered_ids):
            initiative = by_id[pk]
            if initiative.position == position:
                continue
            initiative.position = position
            initiative.version += 1
            attribute(initiative, user)
            initiative.save(update_fields=["position", "version", "updated_at"])
            moved += 1
    logger.info(
        "%s initiatives of objective %s moved by user %s", moved, objective.pk, user.pk
    )
    return moved


def moved_order(ordered_ids: Sequence[int], pk: int, *, up: bool) -> list[int]:
    """The order with `pk` one place up (or down); the same at either end."""
    order = list(ordered_ids)
    here = order.index(pk)
    there = here - 1 if up else here + 1
    if 0 <= there < len(order):
        order[here], order[there] = order[there], order[here]
    return order
