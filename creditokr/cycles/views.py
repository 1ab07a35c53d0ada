"""Cycles on the fiscal calendar: list, detail, planning actions and cadence.

Everyone signed in sees every cycle (what is inside one is filtered by
`okrs.access`). Administrators create cycles; managers and administrators
move cycles along, open the next one, reschedule or cancel cadence events
(and email invitations to them) and load templates (managers only into
teams they manage). A closed cycle is done: its meetings are not changed
and no template is loaded into it, until an administrator reopens it
(steps it back to in review). Every change of state, and every
cancellation, is confirmed first.

The htmx rule is the same as for the OKR forms: an htmx request that is not
boosted gets the form's container (status 200); anything else gets the whole
page, with 400 for input errors.
"""

from dataclasses import dataclass
from datetime import date, datetime
from http import HTTPStatus
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from creditokr.accounts.models import Team
from creditokr.calendars import invitations
from creditokr.cycles import moves, services
from creditokr.cycles.fiscal import local_today
from creditokr.cycles.forms import (
    CadenceEventForm,
    CycleCreateForm,
    StartFromTemplateForm,
)
from creditokr.cycles.models import CadenceEvent, Cycle
from creditokr.okrs import access
from creditokr.okrs.access import Actor
from creditokr.okrs.htmx import PageRequest, render_partial_or_page, wants_partial
from creditokr.okrs.okr_template import LoadResult, load_template
from creditokr.okrs.template_format import TemplateError, available_templates
from creditokr.okrs.wording import format_day

GET_OR_POST = require_http_methods(["GET", "POST"])
FORM_PAGE = "cycles/form_page.html"


# Who may do what with cycles


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only administrators can do this.")


def _require_planner(actor: Actor) -> None:
    if not access.can_plan_cycles(actor):
        raise PermissionDenied("Only managers and administrators can do this.")


def _template_teams(actor: Actor) -> QuerySet[Team]:
    """Teams this actor may load a template into."""
    if actor.is_admin:
        return Team.objects.all()
    return Team.objects.filter(pk__in=actor.managed_team_ids)


# Shared plumbing


def _show_form(
    request: PageRequest,
    form: forms.BaseForm,
    context: dict[str, Any],
    *,
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    context = {"form": form, "action": request.get_full_path(), **context}
    return render_partial_or_page(
        request, FORM_PAGE, "cycles/form.html", context, status=status
    )


def _go_to(request: PageRequest, cycle: Cycle) -> HttpResponse:
    url = reverse("cycle_detail", args=[cycle.pk])
    if wants_partial(request):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _today(request: PageRequest) -> date:
    return local_today(request.organisation.zone)


def _dates(cycle: Cycle) -> str:
    return f"{format_day(cycle.start_date)} to {format_day(cycle.end_date)}"


def _refuse(
    request: PageRequest,
    actor: Actor,
    cycle: Cycle,
    *,
    refusal: str = "",
    state_error: str = "",
) -> HttpResponse:
    """Say on the cycle's page why nothing changed.

    A `refusal` (such as a closed cycle) shows at the top, a `state_error`
    by the state buttons; after an htmx swap either is a message instead.
    """
    if wants_partial(request):
        messages.error(request, refusal or state_error)
        return _go_to(request, cycle)
    return _render_detail(
        request,
        actor,
        cycle,
        refusal=refusal,
        state_error=state_error,
        status=HTTPStatus.BAD_REQUEST,
    )


# Reading


@require_http_methods(["GET"])
def cycle_list(request: PageRequest) -> HttpResponse:
    actor = access.actor_for(request.user)
    live_and_visible = Q(objectives__archived=False) & access.visibility_filter(
        actor, "objectives__"
    )
    cycles = Cycle.objects.annotate(
        objective_count=Count("objectives", filter=live_and_visible)
    ).order_by("-start_date", "kind")
    context = {
        "cycles": cycles,
        "today": _today(request),
        "can_create": actor.is_admin,
    }
    return render(request, "cycles/list.html", context)


@dataclass(frozen=True)
class EventRow:
    event: CadenceEvent
    organisation_time: str
    viewer_time: str
    duration: str


def _event_row(event: CadenceEvent, organisation_zone: ZoneInfo) -> EventRow:
    viewer_zone = timezone.get_current_timezone()
    organisation_time = _when(event.starts_at, organisation_zone)
    viewer_time = _when(event.starts_at, viewer_zone)
    return EventRow(
        event,
        organisation_time,
        "" if viewer_time == organisation_time else viewer_time,
        _duration(event.duration_minutes),
    )


def _when(moment: datetime, zone: Any) -> str:
    local = timezone.localtime(moment, zone)
    return f"{date_format(local, 'D j M Y, H:i')} {local.tzname()} ({zone})"


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    parts = [f"{hours} h" if hours else "", f"{rest} min" if rest else ""]
    return " ".join(part for part in parts if part) or "0 min"


@require_http_methods(["GET"])
def cycle_detail(request: PageRequest, pk: int) -> HttpResponse:
    actor = access.actor_for(request.user)
    cycle = get_object_or_404(Cycle, pk=pk)
    return _render_detail(request, actor, cycle)


def _render_detail(
    request: PageRequest,
    actor: Actor,
    cycle: Cycle,
    *,
    state_error: str = "",
    refusal: str = "",
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    organisation = request.organisation
    events = cycle.cadence_events.select_related("attendees")
    live = access.visible_objectives(actor).filter(cycle=cycle, archived=False)
    can_plan = access.can_plan_cycles(actor)
    context = {
        "cycle": cycle,
        "dates": _dates(cycle),
        "days": cycle.period.days,
        "events": [_event_row(event, organisation.zone) for event in events],
        "organisation_zone": organisation.time_zone,
        "objective_count": live.count(),
        "can_plan": can_plan,
        "can_change_plan": can_plan and not cycle.is_closed,
        "state_moves": moves.state_moves(actor, cycle),
        "state_error": state_error,
        "refusal": refusal,
        "today": _today(request),
    }
    return render(request, "cycles/detail.html", context, status=status)


# Creating cycles and moving them along


@GET_OR_POST
def cycle_create(request: PageRequest) -> HttpResponse:
    actor = access.actor_for(request.user)
    _require_admin(actor)
    organisation = request.organisation
    today = _today(request)
    data = request.POST if request.method == "POST" else None
    form = CycleCreateForm(organisation.calendar, today, data)
    context = {"title": "New cycle", "submit": "Create cycle", "cancel": "cycle_list"}

    if request.method != "POST":
        return _show_form(request, form, context)
    if not form.is_valid():
        return _show_form(request, form, context, status=HTTPStatus.BAD_REQUEST)

    period = form.fiscal_period
    existing = services.find_cycle(period)
    try:
        cycle = services.ensure_cycle(organisation, period, today, user=actor.user)
    except ValidationError as error:
        form.add_error(None, error)
        return _show_form(request, form, context, status=HTTPStatus.BAD_REQUEST)
    if existing is not None:
        messages.info(request, f"{cycle} already exists ({_dates(cycle)}).")
    else:
        messages.success(request, _created_message(cycle))
    return _go_to(request, cycle)


def _created_message(cycle: Cycle) -> str:
    message = f"Created {cycle} ({_dates(cycle)})"
    if cycle.quarter is None:
        return f"{message}."
    return (
        f"{message} with its planning session, mid-quarter review and "
        "end-of-quarter evaluation."
    )


@require_POST
def cycle_next(request: PageRequest, pk: int) -> HttpResponse:
    """Open the cycle after this one, across the fiscal-year end if need be."""
    actor = access.actor_for(request.user)
    _require_planner(actor)
    cycle = get_object_or_404(Cycle, pk=pk)
    organisation = request.organisation

    existing = services.find_cycle(services.following_period(organisation, cycle))
    try:
        created = services.next_cycle(organisation, cycle, _today(request), actor.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _go_to(request, cycle)
    if existing is not None:
        messages.info(request, f"{created} already exists ({_dates(created)}).")
    else:
        messages.success(request, _created_message(created))
    return _go_to(request, created)


@require_POST
def cycle_state(request: PageRequest, pk: int) -> HttpResponse:
    """Move a cycle one step on, or (administrators) one step back.

    Nothing moves until the person confirms: the cycle page's buttons ask
    in the browser (hx-confirm) and send `confirm`; a POST without it gets a
    page saying what the step means, with a button that sends it.
    """
    actor = access.actor_for(request.user)
    _require_planner(actor)
    cycle = get_object_or_404(Cycle, pk=pk)
    to_state = request.POST.get("state", "")
    back = services.is_step_back(cycle, to_state)
    if back:
        _require_admin(actor)
    if to_state == cycle.state:
        messages.info(
            request, f"{cycle} is already {cycle.get_state_display().lower()}."
        )
        return _go_to(request, cycle)

    try:
        move = moves.checked_move(cycle, to_state, back)
        if request.POST.get("confirm") != "yes":
            return render(request, "cycles/confirm_state.html", {"move": move})
        moves.make(move, actor.user)
    except ValidationError as error:
        message = " ".join(error.messages)
        return _refuse(request, actor, cycle, state_error=message)

    messages.success(request, moves.moved_message(move))
    return _go_to(request, cycle)


# Cadence events


@GET_OR_POST
def cadence_edit(request: PageRequest, pk: int) -> HttpResponse:
    actor = access.actor_for(request.user)
    _require_planner(actor)
    event = get_object_or_404(CadenceEvent.objects.select_related("cycle"), pk=pk)
    cycle = event.cycle
    if cycle.is_closed:
        message = f"{cycle} is closed; its meetings can no longer be rescheduled."
        return _refuse(request, actor, cycle, refusal=message)
    organisation = request.organisation
    data = request.POST if request.method == "POST" else None
    form = CadenceEventForm(organisation, data, instance=event)
    context = {
        "title": f"Reschedule: {event.title}",
        "submit": "Save",
        "cycle": event.cycle,
        "cadence_event": event,
    }

    if request.method != "POST":
        return _show_form(request, form, context)
    if not form.is_valid():
        return _show_form(request, form, context, status=HTTPStatus.BAD_REQUEST)

    moved = services.update_cadence_event(
        form.instance,
        organisation,
        day=form.local_day,
        at=form.local_start,
        user=actor.user,
    )
    local = _when(form.instance.starts_at, organisation.zone)
    messages.success(request, f"{event.title} now starts {local}.")
    if moved and not form.instance.is_cancelled:
        _report_sent(request, invitations.send_updates(form.instance), "an update")
    return _go_to(request, event.cycle)


def _planner_and_event(request: PageRequest, pk: int) -> tuple[Actor, CadenceEvent]:
    actor = access.actor_for(request.user)
    _require_planner(actor)
    event = get_object_or_404(CadenceEvent.objects.select_related("cycle"), pk=pk)
    return actor, event


def _refuse_closed(request: PageRequest, actor: Actor, cycle: Cycle) -> HttpResponse:
    message = f"{cycle} is closed; its meetings are kept as they were."
    return _refuse(request, actor, cycle, refusal=message)


@require_POST
def cadence_cancel(request: PageRequest, pk: int) -> HttpResponse:
    """Call a meeting off and tell everyone invited, after a confirmation.

    Like the state buttons, the page's button asks in the browser and sends
    `confirm`; a POST without it gets a page asking first.
    """
    actor, event = _planner_and_event(request, pk)
    if event.cycle.is_closed:
        return _refuse_closed(request, actor, event.cycle)
    if request.POST.get("confirm") != "yes":
        return render(request, "cycles/confirm_cancel.html", {"event": event})

    if not services.cancel_cadence_event(event, actor.user):
        messages.info(request, f"{event.title} is already cancelled.")
        return _go_to(request, event.cycle)
    messages.success(request, f"{event.title} is cancelled.")
    _report_sent(request, invitations.send_updates(event), "a cancellation")
    return _go_to(request, event.cycle)


@require_POST
def cadence_restore(request: PageRequest, pk: int) -> HttpResponse:
    """Put a cancelled meeting back and tell everyone invited."""
    actor, event = _planner_and_event(request, pk)
    if event.cycle.is_closed:
        return _refuse_closed(request, actor, event.cycle)
    if not services.restore_cadence_event(event, actor.user):
        messages.info(request, f"{event.title} is not cancelled.")
        return _go_to(request, event.cycle)
    messages.success(request, f"{event.title} is on again.")
    _report_sent(request, invitations.send_updates(event), "an update")
    return _go_to(request, event.cycle)


@require_POST
def cadence_invite(request: PageRequest, pk: int) -> HttpResponse:
    """Email the meeting, as an invitation, to everyone who attends it."""
    actor, event = _planner_and_event(request, pk)
    if event.cycle.is_closed:
        return _refuse_closed(request, actor, event.cycle)
    if event.is_cancelled:
        messages.error(request, f"{event.title} is cancelled; restore it first.")
        return _go_to(request, event.cycle)
    sent = invitations.send_invitations(event)
    if not sent:
        messages.info(
            request, "Everyone who attends already has this invitation (or no email)."
        )
    _report_sent(request, sent, "an invitation")
    return _go_to(request, event.cycle)


def _report_sent(request: PageRequest, sent: int, what: str) -> None:
    if sent:
        people = "1 person" if sent == 1 else f"{sent} people"
        messages.info(request, f"Sent {what} to {people}.")


# Templates


@GET_OR_POST
def cycle_start_from_template(request: PageRequest, pk: int) -> HttpResponse:
    actor = access.actor_for(request.user)
    _require_planner(actor)
    cycle = get_object_or_404(Cycle, pk=pk)
    if cycle.is_closed:
        message = f"{cycle} is closed; templates load only into open cycles."
        return _refuse(request, actor, cycle, refusal=message)
    data = request.POST if request.method == "POST" else None
    form = StartFromTemplateForm(
        available_templates(),
        _template_teams(actor),
        data,
        allow_template_teams=actor.is_admin,
    )
    context = {
        "title": f"Start {cycle} from a template",
        "submit": "Load template",
        "cycle": cycle,
    }

    if request.method != "POST":
        return _show_form(request, form, context)
    if not form.is_valid():
        return _show_form(request, form, context, status=HTTPStatus.BAD_REQUEST)

    try:
        result = load_template(
            form.cleaned_data["template"],
            cycle,
            actor.user,
            form.chosen_team,
            from_web=True,
        )
    except TemplateError as error:
        form.add_error(None, str(error))
        return _show_form(request, form, context, status=HTTPStatus.BAD_REQUEST)

    _report_load(request, result)
    return _go_to(request, cycle)


def _report_load(request: PageRequest, result: LoadResult) -> None:
    objectives = len(result.created_objectives)
    key_results = len(result.created_key_results)
    title, cycle = result.template.title, result.cycle
    if objectives or key_results:
        messages.success(
            request,
            f"Loaded “{title}” into {cycle}: {_count(objectives, 'objective')} "
            f"and {_count(key_results, 'key result')} created.",
        )
    else:
        messages.info(
            request, f"Nothing new: everything in “{title}” is already in {cycle}."
        )
    if result.skipped:
        messages.info(
            request,
            f"{_count(len(result.skipped), 'item')} already in {cycle} "
            "and left as they are.",
        )
    if result.created_teams:
        names = ", ".join(team.name for team in result.created_teams)
        messages.info(request, f"New teams for the template's objectives: {names}.")
    for note in result.messages:
        messages.warning(request, note)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")
