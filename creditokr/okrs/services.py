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
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Max, QuerySet
from django.utils import timezone

from creditokr.accounts.models import Organisation, User
from creditokr.cycles.fiscal import local_today, parse_time_zone
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
    KeyResult,
    Objective,
)
from creditokr.okrs.objective_checks import (
    check_initiative,
    check_objective,
    check_parent,
)
from creditokr.okrs.progress import Kind
from creditokr.okrs.wording import format_day

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
    """Add a reading to a key result's history (never replacing one)."""
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
    objective.save()
    logger.info("objective %s created by user %s", objective.pk, user.pk)
    return objective


def update_objective(user: User, objective: Objective, expected_version: int) -> None:
    """Save an edited objective; a move to another cycle or parent too."""
    check_objective(user, objective)
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
    objective: Objective, status: str, reason: str, expected_version: int
) -> None:
    """Let the owner state a status the numbers do not show, with a reason."""
    reason = reason.strip()
    if status and status not in dict(OVERRIDABLE_STATUSES):
        raise ValidationError(
            {"status_override": f"{status!r} is not a status you can choose."}
        )
    if status and not reason:
        raise ValidationError({"status_override_reason": "Say why you override."})

    objective.status_override = status
    objective.status_override_reason = reason if status else ""
    save_versioned(objective, expected_version)


# Key results


def create_key_result(user: User, key_result: KeyResult) -> KeyResult:
    """Add a key result at the end of its objective's list."""
    objective = key_result.objective
    _check_objective_live(objective)
    check_key_result(key_result)

    key_result.position = _next_position(KeyResult.objects.filter(objective=objective))
    key_result.save()
    logger.info("key result %s created by user %s", key_result.pk, user.pk)
    return key_result


def update_key_result(user: User, key_result: KeyResult, expected_version: int) -> None:
    check_key_result(key_result)
    save_versioned(key_result, expected_version)
    logger.info("key result %s edited by user %s", key_result.pk, user.pk)


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
    initiative.save()
    logger.info("initiative %s created by user %s", initiative.pk, user.pk)
    return initiative


def update_initiative(
    user: User, initiative: Initiative, expected_version: int
) -> None:
    check_initiative(initiative)
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

    Returns whether it changed; only a change is logged.
    """
    changed = (
        type(item)
        .objects.filter(pk=item.pk, archived=not archived)
        .update(archived=archived, version=F("version") + 1, updated_at=timezone.now())
    )
    item.refresh_from_db(fields=["archived", "version", "updated_at"])
    if not changed:
        return False

    noun, done = item._meta.verbose_name, "archived" if archived else "restored"
    logger.info("%s %s %s by user %s", noun, item.pk, done, user.pk)
    return True
