"""The named operations on OKRs. Views, commands and loaders all call these.

Each operation validates fully before it writes, so bad input changes
nothing, and edits carry the version the editor started from, so a second
person saving over a change they have not seen is told instead of silently
overwriting it.
"""

import logging
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.formats import date_format

from creditokr.accounts.models import Organisation, User
from creditokr.cycles.fiscal import local_today, parse_time_zone
from creditokr.okrs import access, participation
from creditokr.okrs.models import (
    OVERRIDABLE_STATUSES,
    VALUE_DECIMAL_PLACES,
    CheckIn,
    CheckInSource,
    Initiative,
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
    check_in.full_clean(exclude=["key_result", "author"])
    check_in.save()
    logger.info(
        "check-in %s recorded on key result %s by user %s",
        check_in.pk,
        key_result.pk,
        user.pk,
    )
    return check_in


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
        message = f"The as-of date cannot be in the future (today is {_day(today)})."
        raise ValidationError({"as_of": message})
    if check_in.as_of < cycle.start_date:
        message = f"{cycle} starts on {_day(cycle.start_date)}; pick a date from then."
        raise ValidationError({"as_of": message})

    if key_result.kind == Kind.MILESTONE:
        if check_in.done is None:
            raise ValidationError({"done": "Say whether the milestone is done."})
        check_in.value = None
        return

    check_in.done = None
    if key_result.target_value is None or (
        key_result.start_value is None
        and key_result.kind in (Kind.INCREASE, Kind.DECREASE)
    ):
        raise ValidationError(
            "Set this key result's baseline (start value) first; its target "
            "follows from it. Then check in."
        )
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
            message = "An objective cannot be aligned under itself or its children."
            raise ValidationError({"parent": message})
        if node.pk in seen:
            break
        seen.add(node.pk)
        node = node.parent


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


# Creating and editing objectives


def create_objective(user: User, objective: Objective) -> Objective:
    """Add a new objective, checked in full before it is saved."""
    check_parent(objective, objective.parent)
    _check_cycle_open(objective)
    _check_template_once(user, objective)
    participation.check_objective_people(objective)
    objective.full_clean()
    objective.save()
    logger.info("objective %s created by user %s", objective.pk, user.pk)
    return objective


def update_objective(user: User, objective: Objective, expected_version: int) -> None:
    """Save an edited objective; a move to another cycle or parent too."""
    check_objective(user, objective)
    save_versioned(objective, expected_version)
    logger.info("objective %s edited by user %s", objective.pk, user.pk)


def check_objective(user: User | None, objective: Objective) -> None:
    """Every rule an edited objective must meet, wherever it is edited.

    `user` decides which other objectives a message may name; None is the
    Django admin, whose users administer everything.
    """
    check_parent(objective, objective.parent)
    saved = Objective.objects.filter(pk=objective.pk).values_list("cycle_id", flat=True)
    if objective.cycle_id != saved.first():
        _check_cycle_open(objective)
    _check_template_once(user, objective)
    _check_due_dates_fit(objective)
    participation.check_objective_people(objective)
    objective.full_clean()


def _check_cycle_open(objective: Objective) -> None:
    """Refuse to put an objective into a closed cycle."""
    if objective.cycle_id is not None and objective.cycle.is_closed:
        message = (
            f"{objective.cycle} is closed; pick another cycle. An administrator "
            "can reopen it on the cycle's page."
        )
        raise ValidationError({"cycle": message})


def _check_template_once(user: User | None, objective: Objective) -> None:
    """Explain a clash with the template objective already in the cycle.

    The other objective is named only if `user` may see it.
    """
    if not objective.template_key or objective.cycle_id is None:
        return
    other = (
        Objective.objects.filter(
            cycle_id=objective.cycle_id, template_key=objective.template_key
        )
        .exclude(pk=objective.pk)
        .first()
    )
    if other is None:
        return

    named = f"'{other.title}'" if _sees(user, other) else "an objective you cannot see"
    raise ValidationError(
        {
            "cycle": f"{objective.cycle} already has this template objective: "
            f"{named}. A cycle holds each template objective once; pick another "
            "cycle or move that one out first."
        }
    )


def _sees(user: User | None, objective: Objective) -> bool:
    if user is None:
        return True
    try:
        actor = access.actor_for(user)
    except PermissionDenied:
        return False
    return access.visible_objectives(actor).filter(pk=objective.pk).exists()


def _check_due_dates_fit(objective: Objective) -> None:
    """Refuse a move that would leave key results due outside the cycle."""
    if objective.pk is None:
        return
    cycle = objective.cycle
    outside = [
        f"'{kr.title}' ({_day(kr.due_date)})"
        for kr in objective.key_results.filter(archived=False).exclude(due_date=None)
        if kr.due_date and not cycle.contains(kr.due_date)
    ]
    if outside:
        raise ValidationError(
            {
                "cycle": f"These key results are due outside {cycle}: "
                f"{', '.join(outside)}. Change or clear their due dates first "
                "(an empty due date means the end of the cycle)."
            }
        )


def archive_objective(user: User, objective: Objective) -> bool:
    """Take an objective out of lists and roll-ups, keeping all its history.

    Returns whether it changed: False if it was archived already.
    """
    changed = _set_archived(objective, archived=True)
    if changed:
        logger.info("objective %s archived by user %s", objective.pk, user.pk)
    return changed


def restore_objective(user: User, objective: Objective) -> bool:
    """Bring an archived objective back; False if it was not archived."""
    changed = _set_archived(objective, archived=False)
    if changed:
        logger.info("objective %s restored by user %s", objective.pk, user.pk)
    return changed


def _set_archived(item: Objective | KeyResult, *, archived: bool) -> bool:
    """Flip the archived flag once, however many times it is asked for."""
    changed = (
        type(item)
        .objects.filter(pk=item.pk, archived=not archived)
        .update(archived=archived, version=F("version") + 1, updated_at=timezone.now())
    )
    item.refresh_from_db(fields=["archived", "version", "updated_at"])
    return changed > 0


# Creating and editing key results

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
                "due_date": f"{cycle} starts on {_day(cycle.start_date)}; "
                "the due date cannot be before that."
            }
        )
    if due > cycle.end_date:
        raise ValidationError(
            {
                "due_date": f"{cycle} ends on {_day(cycle.end_date)}; pick a "
                "date up to then, or leave it empty for the cycle end."
            }
        )


def _check_objective_live(objective: Objective) -> None:
    if objective.archived:
        raise ValidationError(
            f"{objective.title} is archived; restore it before adding to it."
        )


def create_key_result(user: User, key_result: KeyResult) -> KeyResult:
    """Add a key result at the end of its objective's list."""
    _check_objective_live(key_result.objective)
    check_key_result(key_result)
    last = KeyResult.objects.filter(objective=key_result.objective).aggregate(
        last=Max("position")
    )["last"]
    key_result.position = 0 if last is None else last + 1
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
    changed = _set_archived(key_result, archived=True)
    if changed:
        logger.info("key result %s archived by user %s", key_result.pk, user.pk)
    return changed


def restore_key_result(user: User, key_result: KeyResult) -> bool:
    """Bring an archived key result back; False if it was not archived.

    Its objective may have moved to another cycle meanwhile; a key result
    due outside the cycle is refused rather than brought back overdue.
    """
    cycle = key_result.objective.cycle
    due = key_result.due_date
    if key_result.archived and due is not None and not cycle.contains(due):
        raise ValidationError(
            f"“{key_result.title}” is due {_day(due)}, outside {cycle}. Edit it "
            "to change or clear its due date, then restore it."
        )
    changed = _set_archived(key_result, archived=False)
    if changed:
        logger.info("key result %s restored by user %s", key_result.pk, user.pk)
    return changed


# Creating and editing initiatives


def check_initiative(initiative: Initiative) -> None:
    key_result = initiative.key_result
    if key_result is not None and key_result.objective_id != initiative.objective_id:
        raise ValidationError(
            {"key_result": "Pick one of this objective's key results."}
        )
    participation.check_initiative_assignee(initiative)
    initiative.full_clean()


def create_initiative(user: User, initiative: Initiative) -> Initiative:
    _check_objective_live(initiative.objective)
    check_initiative(initiative)
    last = Initiative.objects.filter(objective=initiative.objective).aggregate(
        last=Max("position")
    )["last"]
    initiative.position = 0 if last is None else last + 1
    initiative.save()
    logger.info("initiative %s created by user %s", initiative.pk, user.pk)
    return initiative


def update_initiative(
    user: User, initiative: Initiative, expected_version: int
) -> None:
    check_initiative(initiative)
    save_versioned(initiative, expected_version)
    logger.info("initiative %s edited by user %s", initiative.pk, user.pk)
