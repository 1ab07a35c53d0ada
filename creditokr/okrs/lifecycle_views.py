"""Pages that archive, restore, delete and duplicate, each confirmed first.

Archive and restore: the objective's page buttons open a confirmation that
says what changes in the roll-up, as the viewer's board will show it; the
confirmation posts here, and the message afterwards repeats the effect.

Delete: administrators only (everyone else gets 403 and sees no button).
The page lists what goes with the item and asks for its title and a
reason; after an objective is deleted the dashboard opens.

Duplicate: anyone who may create objectives in the team copies one into a
later cycle and lands on the copy.

Every object arrives through `access`: hidden is 404, visible but not
yours to change is 403.
"""

from datetime import date
from http import HTTPStatus
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from creditokr.cycles.fiscal import local_today
from creditokr.okrs import access, form_flow, lifecycle, services
from creditokr.okrs.access import Actor
from creditokr.okrs.htmx import PageRequest
from creditokr.okrs.lifecycle import ARCHIVE, RESTORE, AlreadyCopied, Target
from creditokr.okrs.models import KeyResult, Objective
from creditokr.okrs.wording import quoted

GET_OR_POST = require_http_methods(["GET", "POST"])


def _today(request: PageRequest) -> date:
    return local_today(request.organisation.zone)


# Archive and restore


@GET_OR_POST
def objective_archive_confirm(request: PageRequest, pk: int) -> HttpResponse:
    actor = access.actor_for(request.user)
    objective = access.get_objective(actor, pk)
    access.require(access.can_edit_objective(actor, objective))
    return _archive_or_restore(request, actor, objective, objective)


@GET_OR_POST
def key_result_archive_confirm(request: PageRequest, pk: int) -> HttpResponse:
    actor = access.actor_for(request.user)
    key_result = access.get_key_result(actor, pk)
    access.require(access.can_edit_key_result(actor, key_result))
    return _archive_or_restore(request, actor, key_result, key_result.objective)


def _archive_or_restore(
    request: PageRequest,
    actor: Actor,
    item: Objective | KeyResult,
    objective: Objective,
) -> HttpResponse:
    """The confirmation (GET) or the change itself (POST)."""
    action = _stated_action(request, item)
    if action is None:
        return _refused(
            request,
            objective,
            "Say whether to archive or restore: the page was asked for an "
            "action it does not know. Nothing was changed; use the Archive or "
            "Restore button on the objective's page.",
        )
    done = "archived" if action == ARCHIVE else "restored"
    if item.archived == (action == ARCHIVE):
        message = f"{quoted(item.title)} is already {done}."
        if request.method == "POST":
            messages.info(request, message)
            return form_flow.go(request, form_flow.objective_url(objective.pk))
        return _confirm_page(request, item, objective, action, already=message)

    problem = ""
    if action == RESTORE and isinstance(item, KeyResult):
        problem = lifecycle.restore_refusal(item)
    today = _today(request)
    effect = None
    if not problem:
        effect = lifecycle.archive_effect(
            actor, item, action, request.organisation, today
        )
    if request.method != "POST":
        return _confirm_page(request, item, objective, action, effect, problem)

    try:
        changed = _change(actor, item, action)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return form_flow.go(request, form_flow.objective_url(objective.pk))
    if not changed:
        messages.info(request, f"{quoted(item.title)} is already {done}.")
        return form_flow.go(request, form_flow.objective_url(objective.pk))
    assert effect is not None
    return form_flow.finish(
        request, objective, _done_message(item, action, effect.lines)
    )


def _stated_action(request: PageRequest, item: Objective | KeyResult) -> str | None:
    """The action asked for; a page opened without one offers the only
    change that makes sense now. A POST must always say."""
    data = request.POST if request.method == "POST" else request.GET
    action = data.get("action")
    if action is None and request.method != "POST":
        return RESTORE if item.archived else ARCHIVE
    return action if action in (ARCHIVE, RESTORE) else None


def _change(actor: Actor, item: Objective | KeyResult, action: str) -> bool:
    user = actor.user
    if isinstance(item, KeyResult):
        if action == ARCHIVE:
            return services.archive_key_result(user, item)
        return services.restore_key_result(user, item)
    if action == ARCHIVE:
        return services.archive_objective(user, item)
    return services.restore_objective(user, item)


def _done_message(item: Objective | KeyResult, action: str, effect: list[str]) -> str:
    name = quoted(item.title)
    if action == RESTORE:
        return " ".join([f"Restored {name}.", *effect])
    if isinstance(item, KeyResult):
        after = (
            "Its check-ins are kept; restore it from “Archived key results” on "
            "this page."
        )
    else:
        after = "Everything in it is kept; you can restore it from this page."
    return " ".join([f"Archived {name}.", *effect, after])


def _confirm_page(
    request: PageRequest,
    item: Objective | KeyResult,
    objective: Objective,
    action: str,
    effect: lifecycle.ArchiveEffect | None = None,
    problem: str = "",
    already: str = "",
) -> HttpResponse:
    is_key_result = isinstance(item, KeyResult)
    name = (
        "key_result_archive_confirm" if is_key_result else "objective_archive_confirm"
    )
    actor = access.actor_for(request.user)
    delete_url = ""
    if actor.is_admin:
        delete = "key_result_delete" if is_key_result else "objective_delete"
        delete_url = reverse(delete, args=[item.pk])
    context = {
        "item": item,
        "objective": objective,
        "noun": "key result" if is_key_result else "objective",
        "action": action,
        "effect": effect,
        "problem": problem,
        "already": already,
        "post_url": reverse(name, args=[item.pk]),
        "delete_url": delete_url,
    }
    return render(request, "okrs/confirm_archive.html", context)


def _refused(request: PageRequest, objective: Objective, message: str) -> HttpResponse:
    context = {"message": message, "objective": objective}
    return render(
        request, "okrs/forms/refused.html", context, status=HTTPStatus.BAD_REQUEST
    )


# Delete


class DeleteForm(forms.Form):
    """The title typed again and a reason; the service judges both."""

    title = forms.CharField(
        label="Type the title to confirm",
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": 60}),
    )
    reason = forms.CharField(
        label="Why it is deleted",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept in the history with your name.",
    )


@GET_OR_POST
def objective_delete(request: PageRequest, pk: int) -> HttpResponse:
    actor = access.actor_for(request.user)
    objective = access.get_objective(actor, pk)
    _require_admin(actor)

    def delete(title: str, reason: str) -> HttpResponse:
        deletion = lifecycle.delete_objective(
            actor, objective, title=title, reason=reason
        )
        went = deletion.lines
        with_it = f" with {_listed(went)}" if went else ""
        messages.success(
            request,
            f"Deleted {quoted(objective.title)}{with_it}. The history keeps "
            "a record of it, with your reason.",
        )
        dashboard = f"{reverse('dashboard')}?cycle={objective.cycle_id}"
        return form_flow.go(request, dashboard)

    return _delete_page(request, objective, objective, delete)


@GET_OR_POST
def key_result_delete(request: PageRequest, pk: int) -> HttpResponse:
    actor = access.actor_for(request.user)
    key_result = access.get_key_result(actor, pk)
    _require_admin(actor)
    objective = key_result.objective

    def delete(title: str, reason: str) -> HttpResponse:
        deletion = lifecycle.delete_key_result(
            actor, key_result, title=title, reason=reason
        )
        went = deletion.lines
        with_it = f" with {_listed(went)}" if went else ""
        return form_flow.finish(
            request,
            objective,
            f"Deleted {quoted(key_result.title)}{with_it}. The history keeps a "
            "record of it, with your reason.",
        )

    return _delete_page(request, key_result, objective, delete)


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied(
            "Only an administrator can delete. Archive it instead: that keeps "
            "its history and can be undone."
        )


def _delete_page(
    request: PageRequest,
    item: Objective | KeyResult,
    objective: Objective,
    delete: Any,
) -> HttpResponse:
    form = DeleteForm(form_flow.submitted(request))
    status = HTTPStatus.OK
    if request.method == "POST" and form.is_valid():
        try:
            response: HttpResponse = delete(
                form.cleaned_data["title"], form.cleaned_data["reason"]
            )
            return response
        except ValidationError as error:
            _add_errors(form, error)
        status = HTTPStatus.BAD_REQUEST
    deletion = lifecycle.deletion_of(item)
    context = {
        "item": item,
        "objective": objective,
        "noun": "key result" if isinstance(item, KeyResult) else "objective",
        "deletion": deletion,
        "form": form,
        "post_url": request.path,
    }
    return render(request, "okrs/confirm_delete.html", context, status=status)


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    """Put the service's refusals next to the fields they are about."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def _listed(items: list[str]) -> str:
    """Items in a sentence: a, b and c."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


# Duplicate


@GET_OR_POST
def objective_duplicate(request: PageRequest, pk: int) -> HttpResponse:
    actor = access.actor_for(request.user)
    objective = access.get_objective(actor, pk)
    access.require(lifecycle.can_duplicate(actor, objective))
    organisation = request.organisation
    targets = lifecycle.copy_targets(actor, objective, organisation)
    data = request.POST if request.method == "POST" else request.GET
    # The form preselects the default; a POST must say which cycle it means.
    default = targets[0].key if targets and request.method == "GET" else ""
    key = data.get("cycle") or default
    target = lifecycle.target_for(key, targets)

    errors: list[str] = []
    conflict: AlreadyCopied | None = None
    status = HTTPStatus.OK
    if request.method == "POST":
        if target is None:
            errors.append("Pick a cycle from the list to copy it to.")
        else:
            try:
                copied = lifecycle.duplicate_objective(
                    actor,
                    objective,
                    target,
                    organisation=organisation,
                    today=_today(request),
                    again=request.POST.get("again") == "yes",
                )
            except AlreadyCopied as repeat:
                conflict = repeat
                status = HTTPStatus.CONFLICT
            except ValidationError as error:
                errors += error.messages
                status = HTTPStatus.BAD_REQUEST
            else:
                return form_flow.finish(request, copied.objective, copied.message)
        if target is None:
            status = HTTPStatus.BAD_REQUEST

    context = {
        "objective": objective,
        "targets": targets,
        "target": target,
        "plan": _plan(actor, objective, target),
        "existing": _existing_copies(actor, objective, target),
        "errors": errors,
        "conflict": conflict,
    }
    return render(request, "okrs/duplicate.html", context, status=status)


def _plan(
    actor: Actor, objective: Objective, target: Target | None
) -> lifecycle.CopyPlan | None:
    if target is None:
        return None
    return lifecycle.plan_copy(actor, objective, target)


def _existing_copies(
    actor: Actor, objective: Objective, target: Target | None
) -> list[Objective]:
    if target is None or target.cycle is None:
        return []
    return list(
        access.visible_objectives(actor)
        .filter(copied_from=objective, cycle=target.cycle)
        .order_by("pk")
    )
