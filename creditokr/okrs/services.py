"""The named operations on OKRs. Views, commands and loaders all call these.

Each operation validates fully before it writes, so bad input changes
nothing, and edits carry the version the editor started from, so a second
person saving over a change they have not seen is told instead of silently
overwriting it.
"""

import logging
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.formats import date_format

from creditokr.accounts.models import Organisation, User
from creditokr.cycles.fiscal import local_today
from creditokr.okrs.models import (
    CheckIn,
    CheckInSource,
    KeyResult,
    Objective,
    Unit,
)
from creditokr.okrs.progress import Kind, TargetMode, derive_target, format_decimal

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


# Key result definitions


def apply_target_definition(key_result: KeyResult) -> None:
    """Derive the target from a relative definition and check the numbers.

    Raises ValidationError keyed by field, so forms show it inline.
    """
    if key_result.kind == Kind.MILESTONE:
        key_result.start_value = None
        key_result.target_value = None
        key_result.target_mode = TargetMode.ABSOLUTE
        key_result.target_change = None
        return

    if key_result.target_mode != TargetMode.ABSOLUTE:
        _derive_relative_target(key_result)
    if key_result.target_value is None:
        raise ValidationError({"target_value": "Give a target value."})

    _check_direction(key_result)
    _check_values_fit_unit(key_result)


def _derive_relative_target(key_result: KeyResult) -> None:
    if key_result.start_value is None:
        raise ValidationError(
            {"start_value": "A relative target needs a baseline (start value)."}
        )
    if key_result.target_change is None:
        raise ValidationError(
            {"target_change": "Say how much the baseline should change, e.g. -15."}
        )
    if (
        key_result.target_mode == TargetMode.PERCENTAGE_POINTS
        and key_result.unit != Unit.PERCENT
    ):
        raise ValidationError(
            {"target_mode": "Percentage points only apply to a percent unit."}
        )

    target = derive_target(
        key_result.start_value,
        TargetMode(key_result.target_mode),
        key_result.target_change,
    )
    key_result.target_value = target.quantize(Decimal("0.000001"))


def _check_direction(key_result: KeyResult) -> None:
    start, target = key_result.start_value, key_result.target_value
    if key_result.kind in (Kind.INCREASE, Kind.DECREASE) and start is None:
        raise ValidationError({"start_value": "Give the starting value (baseline)."})
    if start is None or target is None:
        return

    if key_result.kind == Kind.INCREASE and target < start:
        raise ValidationError(
            {"target_value": "An increase needs a target above the start value."}
        )
    if key_result.kind == Kind.DECREASE and target > start:
        raise ValidationError(
            {"target_value": "A decrease needs a target below the start value."}
        )


def _check_values_fit_unit(key_result: KeyResult) -> None:
    for field in ("start_value", "target_value"):
        value = getattr(key_result, field)
        if value is None:
            continue
        problem = unit_problem(key_result.unit, value)
        if problem:
            raise ValidationError({field: problem})


def unit_problem(unit: str, value: Decimal) -> str | None:
    """Why `value` is impossible in `unit`, or None if it is fine."""
    if not value.is_finite():
        return "Enter a finite number."
    if unit == Unit.PERCENT and not Decimal(0) <= value <= Decimal(100):
        return f"A percentage must be between 0 and 100, not {format_decimal(value)}."
    if unit == Unit.DAYS and value < 0:
        return f"A number of days cannot be negative ({format_decimal(value)})."
    if unit == Unit.COUNT and (value < 0 or value != value.to_integral_value()):
        return f"A count must be a whole number of 0 or more, not {format_decimal(value)}."
    return None


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
    organisation = Organisation.get()
    today = today or local_today(organisation.zone)
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
    check_in.full_clean(exclude=["key_result", "author"])
    check_in.save()
    logger.info(
        "check-in %s recorded on key result %s by user %s",
        check_in.pk,
        key_result.pk,
        user.pk,
    )
    return check_in


def _validate_check_in(check_in: CheckIn, today: date) -> None:
    key_result = check_in.key_result
    cycle = key_result.objective.cycle
    if check_in.as_of > today:
        raise ValidationError(
            {"as_of": f"The as-of date cannot be in the future (today is {_day(today)})."}
        )
    if check_in.as_of < cycle.start_date:
        raise ValidationError(
            {"as_of": f"{cycle} starts on {_day(cycle.start_date)}; pick a date from then."}
        )

    if key_result.kind == Kind.MILESTONE:
        if check_in.done is None:
            raise ValidationError({"done": "Say whether the milestone is done."})
        check_in.value = None
        return

    check_in.done = None
    if check_in.value is None:
        raise ValidationError({"value": "Enter the current value."})
    problem = unit_problem(key_result.unit, check_in.value)
    if problem:
        raise ValidationError({"value": problem})


def _day(day: date) -> str:
    return date_format(day, "j M Y")


# Objectives


def check_parent(objective: Objective, parent: Objective | None) -> None:
    """Refuse a parent that would put the objective inside itself."""
    seen: set[int] = set()
    node = parent
    while node is not None:
        if node.pk == objective.pk:
            raise ValidationError(
                {"parent": "An objective cannot be aligned under itself or its own children."}
            )
        if node.pk in seen:
            break
        seen.add(node.pk)
        node = node.parent


def set_status_override(
    objective: Objective, status: str, reason: str, expected_version: int
) -> None:
    """Let the owner state a status the numbers do not show, with a reason."""
    reason = reason.strip()
    if status and not reason:
        raise ValidationError({"status_override_reason": "Say why you override."})

    objective.status_override = status
    objective.status_override_reason = reason if status else ""
    save_versioned(objective, expected_version)
