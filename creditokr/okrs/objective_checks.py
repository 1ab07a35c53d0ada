"""What an objective, and an initiative under it, must satisfy to be saved.

The operations in `services` call these checks, and so does the Django
admin, so every way of editing refuses the same things with the same
words. Problems are raised as ValidationError keyed by field.
"""

from django.core.exceptions import PermissionDenied, ValidationError

from creditokr.accounts.models import User
from creditokr.okrs import access, participation
from creditokr.okrs.models import Initiative, Objective
from creditokr.okrs.wording import format_day


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
        f"'{kr.title}' ({format_day(kr.due_date)})"
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


# Initiatives


def check_initiative(initiative: Initiative) -> None:
    key_result = initiative.key_result
    if key_result is not None and key_result.objective_id != initiative.objective_id:
        raise ValidationError(
            {"key_result": "Pick one of this objective's key results."}
        )
    participation.check_initiative_assignee(initiative)
    initiative.full_clean()
