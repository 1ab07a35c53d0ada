"""Pages that change objectives, key results, check-ins and initiatives.

Every view fetches through `access` (hidden: 404; visible but not yours to
change: 403), lets a form parse the input and hands the change to one named
operation in `services`. Bad input changes nothing and comes back inline.
`form_flow` holds the show-validate-save pattern every form view follows.

One htmx rule (`htmx`) for every view here: an htmx request that is not
boosted (and not a history restore) gets only the form's container, always
with status 200 so htmx swaps it in; anything else gets the whole page, with
400 for input errors and 409 for an edit conflict. Success is an
HX-Redirect for htmx and a plain redirect otherwise, to the objective's
page.

Create forms save once per one-time token (`submissions`), so a double
click or a resend does not make two of anything. Archive and restore are
separate, stated actions: asking twice for one changes nothing.
"""

from datetime import date
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from creditokr.cycles.fiscal import local_today
from creditokr.cycles.models import Cycle, CycleState
from creditokr.cycles.services import default_cycle
from creditokr.okrs import access, form_flow, services
from creditokr.okrs.access import Actor
from creditokr.okrs.form_flow import Screen
from creditokr.okrs.forms import (
    CheckInForm,
    InitiativeForm,
    KeyResultForm,
    ObjectiveForm,
    StatusOverrideForm,
)
from creditokr.okrs.htmx import PageRequest, render_partial_or_page
from creditokr.okrs.models import KeyResult, Objective
from creditokr.okrs.progress import format_decimal
from creditokr.okrs.submissions import SubmissionKind, create_once
from creditokr.okrs.wording import format_day, quoted

GET_OR_POST = require_http_methods(["GET", "POST"])


def _today(request: PageRequest) -> date:
    return local_today(request.organisation.zone)


# Objectives


@GET_OR_POST
def objective_create(request: PageRequest) -> HttpResponse:
    actor = access.actor_for(request.user)
    access.require(
        actor.is_contributor and access.teams_for_new_objectives(actor).exists()
    )
    form = ObjectiveForm(
        actor,
        form_flow.submitted(request),
        initial=_new_objective_initial(request, actor),
    )
    screen = Screen(
        "New objective", "okrs/forms/objective.html", Objective(), "Create objective"
    )

    def save() -> HttpResponse:
        objective = create_once(
            form.token,
            SubmissionKind.OBJECTIVE,
            lambda: services.create_objective(actor.user, form.instance),
        )
        return form_flow.finish(
            request, objective, f"Created {quoted(objective.title)}."
        )

    return form_flow.handle(request, form, screen, save)


def _new_objective_initial(request: PageRequest, actor: Actor) -> dict[str, Any]:
    """Defaults from ?cycle=, ?team= and ?parent= that this actor may use."""
    initial: dict[str, Any] = {"owner": actor.user.pk}
    query = request.GET
    parent = _pick(access.visible_objectives(actor), query.get("parent"))
    open_cycles = Cycle.objects.exclude(state=CycleState.CLOSED)
    if parent is not None:
        initial["parent"] = parent.pk
        if open_cycles.filter(pk=parent.cycle_id).exists():
            initial["cycle"] = parent.cycle_id

    cycle = _pick(open_cycles, query.get("cycle"))
    if cycle is None and parent is None:
        visible = access.visibility_filter(actor, "objectives__")
        cycle = default_cycle(visible, _today(request))
    if cycle is not None:
        initial["cycle"] = cycle.pk

    teams = access.teams_for_new_objectives(actor)
    team = _pick(teams, query.get("team"))
    if team is None and parent is not None:
        team = _pick(teams, str(parent.team_id))
    if team is None and len(actor.team_ids) == 1:
        team = _pick(teams, str(actor.team_ids[0]))
    if team is not None:
        initial["team"] = team.pk
    return initial


def _pick[M: models.Model](queryset: QuerySet[M], raw: str | None) -> M | None:
    """The row with id `raw` from `queryset`, or None for anything else."""
    try:
        pk = int(raw or "")
    except ValueError:
        return None
    return queryset.filter(pk=pk).first()


@GET_OR_POST
def objective_edit(request: PageRequest, pk: int) -> HttpResponse:
    actor = access.actor_for(request.user)
    objective = access.get_objective(actor, pk)
    access.require(access.can_edit_objective(actor, objective))
    screen = Screen(
        f"Edit {quoted(objective.title)}", "okrs/forms/objective.html", objective
    )

    def form_for(instance: Any, data: Any = None) -> ObjectiveForm:
        return ObjectiveForm(actor, data, instance=instance)

    form = form_for(objective, form_flow.submitted(request))

    def save() -> HttpResponse:
        services.update_objective(
            actor.user, form.instance, form.loaded_version, form.change_reason
        )
        return form_flow.finish(request, objective, "Objective saved.")

    return form_flow.handle(request, form, screen, save, form_for)


@GET_OR_POST
def objective_status(request: PageRequest, pk: int) -> HttpResponse:
    actor = access.actor_for(request.user)
    objective = access.get_objective(actor, pk)
    access.require(access.can_edit_objective(actor, objective))
    screen = Screen(
        "Override the status",
        "okrs/forms/status.html",
        objective,
        "Set status",
        extra={"has_override": bool(objective.status_override)},
    )
    clearing = request.method == "POST" and "clear" in request.POST

    def form_for(instance: Any, data: Any = None) -> StatusOverrideForm:
        return StatusOverrideForm(data, instance=instance)

    form = form_for(objective, form_flow.submitted(request))
    if clearing:
        form.fields["status_override"].required = False
        form.fields["status_override_reason"].required = False

    def save() -> HttpResponse:
        status = "" if clearing else form.cleaned_data["status_override"]
        reason = "" if clearing else form.cleaned_data["status_override_reason"]
        services.set_status_override(
            actor.user, form.instance, status, reason, form.loaded_version
        )
        if clearing:
            return form_flow.finish(
                request,
                objective,
                "Status override cleared; the computed status shows again.",
            )
        return form_flow.finish(request, objective, "Status override saved.")

    return form_flow.handle(request, form, screen, save, form_for)


ARCHIVE, RESTORE = "archive", "restore"


@require_POST
def objective_archive(request: PageRequest, pk: int) -> HttpResponse:
    """Archive or restore an objective, as the POST's `action` says."""
    actor = access.actor_for(request.user)
    objective = access.get_objective(actor, pk)
    access.require(access.can_edit_objective(actor, objective))
    action = request.POST.get("action")
    if action not in (ARCHIVE, RESTORE):
        return _unknown_action(request, objective, "objective")

    if action == RESTORE:
        changed = services.restore_objective(actor.user, objective)
        message = f"Restored {quoted(objective.title)}; it counts in roll-ups again."
    else:
        changed = services.archive_objective(actor.user, objective)
        message = (
            f"Archived {quoted(objective.title)}. It no longer counts in roll-ups; "
            "you can restore it from this page."
        )
    if not changed:
        return _unchanged(request, objective, objective.title, action)
    return form_flow.finish(request, objective, message)


def _unknown_action(
    request: PageRequest, objective: Objective, noun: str
) -> HttpResponse:
    message = (
        f"Say whether to archive or restore this {noun}: the form sent no "
        "action this page knows. Nothing was changed; reload the page and "
        "use its Archive or Restore button."
    )
    context = {"message": message, "objective": objective}
    return render(
        request, "okrs/forms/refused.html", context, status=HTTPStatus.BAD_REQUEST
    )


def _unchanged(
    request: PageRequest, objective: Objective, title: str, action: str
) -> HttpResponse:
    """Asking twice for the same thing: say it is done, change nothing."""
    done = "archived" if action == ARCHIVE else "restored"
    messages.info(request, f"{quoted(title)} is already {done}.")
    url = form_flow.objective_url(objective.pk)
    return form_flow.go(request, url)


# Key results


@GET_OR_POST
def key_result_create(request: PageRequest, pk: int) -> HttpResponse:
    actor = access.actor_for(request.user)
    objective = access.get_objective(actor, pk)
    access.require(access.can_edit_objective(actor, objective))
    form = KeyResultForm(actor, objective, form_flow.submitted(request))
    screen = Screen(
        "New key result", "okrs/forms/key_result.html", objective, "Add key result"
    )

    def save() -> HttpResponse:
        key_result = create_once(
            form.token,
            SubmissionKind.KEY_RESULT,
            lambda: services.create_key_result(actor.user, form.instance),
        )
        return form_flow.finish(
            request,
            objective,
            f"Added {quoted(key_result.title)}.",
            anchor=f"kr-{key_result.pk}",
        )

    return form_flow.handle(request, form, screen, save)


@GET_OR_POST
def key_result_edit(request: PageRequest, pk: int) -> HttpResponse:
    actor = access.actor_for(request.user)
    key_result = access.get_key_result(actor, pk)
    access.require(access.can_edit_key_result(actor, key_result))
    objective = key_result.objective
    screen = Screen(
        f"Edit {quoted(key_result.title)}", "okrs/forms/key_result.html", objective
    )

    def form_for(instance: Any, data: Any = None) -> KeyResultForm:
        return KeyResultForm(actor, objective, data, instance=instance)

    form = form_for(key_result, form_flow.submitted(request))

    def save() -> HttpResponse:
        services.update_key_result(
            actor.user, form.instance, form.loaded_version, form.change_reason
        )
        return form_flow.finish(request, objective, "Key result saved.")

    return form_flow.handle(request, form, screen, save, form_for)


@require_POST
def key_result_archive(request: PageRequest, pk: int) -> HttpResponse:
    """Archive or restore a key result, as the POST's `action` says."""
    actor = access.actor_for(request.user)
    key_result = access.get_key_result(actor, pk)
    access.require(access.can_edit_key_result(actor, key_result))
    objective = key_result.objective
    action = request.POST.get("action")
    if action not in (ARCHIVE, RESTORE):
        return _unknown_action(request, objective, "key result")

    if action == RESTORE:
        try:
            changed = services.restore_key_result(actor.user, key_result)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return form_flow.go(request, form_flow.objective_url(objective.pk))
        message = f"Restored {quoted(key_result.title)}; it counts in progress again."
    else:
        changed = services.archive_key_result(actor.user, key_result)
        message = (
            f"Archived {quoted(key_result.title)}. It no longer counts in the "
            "objective's progress; its check-ins are kept. Restore it from "
            "“Archived key results” on this page."
        )
    if not changed:
        return _unchanged(request, objective, key_result.title, action)
    return form_flow.finish(request, objective, message)


@require_GET
def archived_key_results(request: PageRequest, pk: int) -> HttpResponse:
    """An objective's archived key results, with Restore for its editors.

    The objective's page loads this with htmx; without htmx it is a page of
    its own.
    """
    actor = access.actor_for(request.user)
    objective = access.get_objective(actor, pk)
    archived = access.visible_key_results(actor).filter(
        objective=objective, archived=True
    )

    rows = []
    for key_result in archived.select_related("owner").order_by("title", "pk"):
        key_result.objective = objective
        rows.append((key_result, access.can_edit_key_result(actor, key_result)))
    context = {"objective": objective, "rows": rows}
    return render_partial_or_page(
        request,
        "okrs/archived_key_results.html",
        "okrs/partials/archived_key_results.html",
        context,
    )


# Check-ins


@GET_OR_POST
def check_in_create(request: PageRequest, pk: int) -> HttpResponse:
    actor = access.actor_for(request.user)
    key_result = access.get_key_result(actor, pk)
    access.require(access.can_check_in(actor, key_result))
    today = _today(request)
    form = CheckInForm(key_result, today, form_flow.submitted(request))
    screen = Screen(
        f"Check in on {quoted(key_result.title)}",
        "okrs/forms/check_in.html",
        key_result.objective,
        "Save check-in",
        extra={
            "key_result": key_result,
            "edit_url": reverse("key_result_edit", args=[key_result.pk]),
        },
    )

    def save() -> HttpResponse:
        data = form.cleaned_data
        reading = form.data_reading
        if reading is not None:
            data["as_of"], data["value"] = reading.as_of, reading.value
        check_in = create_once(
            form.token,
            SubmissionKind.CHECK_IN,
            lambda: services.record_check_in(
                actor.user,
                key_result,
                as_of=data["as_of"],
                value=data.get("value"),
                done=data.get("done"),
                confidence=data["confidence"],
                note=data["note"],
                today=today,
            ),
        )
        return form_flow.finish(
            request,
            key_result.objective,
            _checked_in(key_result, check_in.value, check_in.done, check_in.as_of),
        )

    return form_flow.handle(request, form, screen, save)


def _checked_in(
    key_result: KeyResult, value: Decimal | None, done: bool | None, as_of: date
) -> str:
    title, day = quoted(key_result.title), format_day(as_of)
    if value is None:
        reading = "done" if done else "not done yet"
        return f"Checked in on {title}: {reading}, as of {day}."
    reading = f"{format_decimal(value)}{key_result.unit_suffix}"
    return f"Checked in {reading} on {title} as of {day}."


# Initiatives


@GET_OR_POST
def initiative_create(request: PageRequest, pk: int) -> HttpResponse:
    actor = access.actor_for(request.user)
    objective = access.get_objective(actor, pk)
    access.require(access.can_add_initiative(actor, objective))
    initial = {"key_result": request.GET.get("key_result")}
    form = InitiativeForm(
        actor, objective, form_flow.submitted(request), initial=initial
    )
    screen = Screen(
        "New initiative", "okrs/forms/initiative.html", objective, "Add initiative"
    )

    def save() -> HttpResponse:
        initiative = create_once(
            form.token,
            SubmissionKind.INITIATIVE,
            lambda: services.create_initiative(actor.user, form.instance),
        )
        return form_flow.finish(
            request, objective, f"Added {quoted(initiative.title)}."
        )

    return form_flow.handle(request, form, screen, save)


@GET_OR_POST
def initiative_edit(request: PageRequest, pk: int) -> HttpResponse:
    actor = access.actor_for(request.user)
    initiative = access.get_initiative(actor, pk)
    access.require(access.can_edit_initiative(actor, initiative))
    objective = initiative.objective
    screen = Screen(
        f"Edit {quoted(initiative.title)}", "okrs/forms/initiative.html", objective
    )

    def form_for(instance: Any, data: Any = None) -> InitiativeForm:
        return InitiativeForm(actor, objective, data, instance=instance)

    form = form_for(initiative, form_flow.submitted(request))

    def save() -> HttpResponse:
        services.update_initiative(
            actor.user, form.instance, form.loaded_version, form.change_reason
        )
        return form_flow.finish(request, objective, "Initiative saved.")

    return form_flow.handle(request, form, screen, save, form_for)
