"""What a key result's definition must satisfy before it is saved.

A relative target ("15% lower than the baseline") is worked out here from
its definition, so a new baseline moves the target with it. Problems are
raised as ValidationError keyed by field, so forms show them inline; the
operations in `services` call these checks, and so does the Django admin.
"""

import re
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError

from creditokr.okrs import participation
from creditokr.okrs.models import VALUE_DECIMAL_PLACES, KeyResult, Unit
from creditokr.okrs.progress import Kind, TargetMode, derive_target, format_decimal
from creditokr.okrs.wording import format_day

CURRENCY_CODE = re.compile(r"[A-Z]{3}")


def check_key_result(key_result: KeyResult) -> None:
    """Everything a key result's definition must satisfy, keyed by field.

    Relative targets are derived here from their definition, so changing the
    baseline of a "15% lower" key result moves its target with it.
    """
    participation.check_key_result_owner(key_result)
    _check_currency(key_result)
    _check_due_date(key_result)
    apply_target_definition(key_result)
    key_result.full_clean()


def _check_currency(key_result: KeyResult) -> None:
    code = key_result.currency_code.strip()
    if key_result.unit != Unit.CURRENCY:
        key_result.currency_code = ""
        return
    if not code:
        raise ValidationError(
            {"currency_code": "Give the currency's code, like GBP or EUR."}
        )
    if not CURRENCY_CODE.fullmatch(code):
        raise ValidationError(
            {
                "currency_code": "A currency code is three capital letters, "
                f"like GBP or EUR, not {code!r}."
            }
        )
    key_result.currency_code = code


def _check_due_date(key_result: KeyResult) -> None:
    due = key_result.due_date
    cycle = key_result.objective.cycle
    if due is None:
        return
    if due < cycle.start_date:
        raise ValidationError(
            {
                "due_date": f"{cycle} starts on {format_day(cycle.start_date)}; "
                "the due date cannot be before that."
            }
        )
    if due > cycle.end_date:
        raise ValidationError(
            {
                "due_date": f"{cycle} ends on {format_day(cycle.end_date)}; pick a "
                "date up to then, or leave it empty for the cycle end."
            }
        )


# Targets and values


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

    if key_result.target_mode == TargetMode.ABSOLUTE:
        key_result.target_change = None
    else:
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
    places = Decimal(1).scaleb(-VALUE_DECIMAL_PLACES)
    key_result.target_value = target.quantize(places, rounding=ROUND_HALF_UP)


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


def lacks_baseline(key_result: KeyResult) -> bool:
    """Whether a number key result is still waiting for its baseline.

    Its target follows from the baseline, so until the owner sets one there
    is nothing to measure a reading against and `services` refuses check-ins.
    """
    if key_result.kind == Kind.MILESTONE:
        return False
    needs_start = key_result.kind in (Kind.INCREASE, Kind.DECREASE)
    return key_result.target_value is None or (
        needs_start and key_result.start_value is None
    )


def unit_problem(unit: str, value: Decimal) -> str | None:
    """Why `value` is impossible in `unit`, or None if it is fine."""
    if not value.is_finite():
        return "Enter a finite number."
    if unit == Unit.PERCENT and not Decimal(0) <= value <= Decimal(100):
        return f"A percentage must be between 0 and 100, not {format_decimal(value)}."
    if unit == Unit.DAYS and value < 0:
        return f"A number of days cannot be negative ({format_decimal(value)})."
    if unit == Unit.COUNT and (value < 0 or value != value.to_integral_value()):
        return (
            f"A count must be a whole number of 0 or more, not {format_decimal(value)}."
        )
    return None
