"""Pages about people and their work: who carries what, and giving work.

- A team's page shows, per person, the key results they own and the open
  initiatives assigned to them in the running cycles, with statuses and
  what is overdue. Everything is counted through `access`, as the viewer
  sees it: someone outside the team counts only what is visible to the
  whole organisation.
- An inline Assign control on the objective's page gives one initiative or
  key result to someone (htmx swaps the control; without it, a page of its
  own). Only the people `access.can_assign_owner` and `participation` allow
  are offered; the service checks whatever is posted.
- A team's work list gives many items to one person at once, all or
  nothing (`services.bulk_assign`).
- An objective's initiatives are put in order by dragging (SortableJS,
  loaded by static/js/reorder.js) or with Move up / Move down buttons that
  are plain POST forms. Either way the full order is posted with the
  versions the page was drawn with, and a list that no longer matches is
  refused (`services.reorder_initiatives`).

Every change goes through `services`, so the history records it.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from http import HTTPStatus
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from creditokr.accounts import invitations
from creditokr.accounts.models import (
    ROLE_RANK,
    Membership,
    Organisation,
    Role,
    Team,
    User,
)
from creditokr.cycles.fiscal import local_today
from creditokr.cycles.models import Cycle, CycleState
from creditokr.okrs import access, services
from creditokr.okrs.access import Actor
from creditokr.okrs.board import KeyResultCard, key_result_card, key_results_with_latest
from creditokr.okrs.fields import (
    PersonChoiceField,
    VersionField,
    offer_people,
    people_for,
)
from creditokr.okrs.form_flow import go, objective_url
from creditokr.okrs.htmx import PageRequest, render_partial_or_page, wants_partial
from creditokr.okrs.models import (
    CheckIn,
    Initiative,
    InitiativeState,
    KeyResult,
    Objective,
    Priority,
    Visibility,
)
from creditokr.okrs.participation import taking_part
from creditokr.okrs.progress import Status
from creditokr.okrs.services import Assignable, EditConflict
from creditokr.okrs.templatetags.okr_format import optional_url
from creditokr.okrs.views import STATUS_ORDER, InitiativeRow
from creditokr.okrs.wording import quoted

GET_OR_POST = require_http_methods(["GET", "POST"])


def _today(request: PageRequest) -> date:
    return local_today(request.organisation.zone)


def running_cycles(today: date) -> QuerySet[Cycle]:
    """The cycles work is counted in: started and not closed."""
    return Cycle.objects.exclude(state=CycleState.CLOSED).filter(start_date__lte=today)


def get_team(actor: Actor, slug: str) -> Team:
    team = access.visible_teams(actor).filter(slug=slug).first()
    if team is None:
        raise Http404("No such team.")
    return team


# Teams and who carries what


@require_GET
def team_list(request: PageRequest) -> HttpResponse:
    actor = access.actor_for(request.user)
    active = Q(memberships__user__is_active=True)
    teams = access.visible_teams(actor).annotate(size=Count("memberships", active))
    rows = [
        (team, team.size, team.pk in actor.roles) for team in teams.order_by("name")
    ]
    context = {
        "rows": rows,
        "invite_url": _invite_url(actor),
        "people_url": optional_url("person_list") if actor.is_admin else "",
    }
    return render(request, "okrs/team_list.html", context)


@dataclass
class Load:
    """What one person carries in a team's objectives of the running cycles.

    `person` None collects the initiatives nobody is assigned yet.
    """

    person: User | None
    role: str = ""
    key_results: list[KeyResultCard] = field(default_factory=list)
    initiatives: list[Initiative] = field(default_factory=list)
    overdue_key_results: int = 0
    overdue_initiatives: int = 0

    @property
    def overdue(self) -> int:
        return self.overdue_key_results + self.overdue_initiatives

    @property
    def statuses(self) -> list[tuple[Status, int]]:
        """How many of their key results show each status, best news first."""
        tally = Counter(card.status for card in self.key_results)
        return [(status, tally[status]) for status in STATUS_ORDER if tally[status]]

    @property
    def carries_nothing(self) -> bool:
        return not self.key_results and not self.initiatives


@require_GET
def team_detail(request: PageRequest, slug: str) -> HttpResponse:
    """Per person, what they carry of this team's work, as the viewer sees."""
    actor = access.actor_for(request.user)
    team = get_team(actor, slug)
    today = _today(request)
    cycles = list(running_cycles(today).order_by("start_date", "kind"))
    loads = team_loads(actor, team, cycles, request.organisation, today)
    context = {
        "team": team,
        "cycles": cycles,
        "loads": loads,
        "unassigned": next((load for load in loads if load.person is None), None),
        "work_url": _work_url(actor, team),
        "invite_url": _invite_url(actor, team),
        "deactivates": actor.is_admin,
        "today": today,
    }
    return render(request, "okrs/team_detail.html", context)


def team_loads(
    actor: Actor,
    team: Team,
    cycles: list[Cycle],
    organisation: Organisation,
    today: date,
) -> list[Load]:
    """The team's members (carrying something or not), then anyone else who
    carries some of its work, then the initiatives nobody carries."""
    objectives = access.visible_objectives(actor).filter(
        team=team, archived=False, cycle__in=cycles
    )
    loads: dict[int | None, Load] = {}
    memberships = Membership.objects.filter(team=team, user__is_active=True)
    for membership in sorted(
        memberships.select_related("user"),
        key=lambda m: (-ROLE_RANK[Role(m.role)], str(m.user).lower()),
    ):
        loads[membership.user_id] = Load(membership.user, membership.get_role_display())

    for card in _key_result_cards(actor, objectives, organisation, today):
        owner = card.key_result.owner
        load = loads.setdefault(owner.pk, Load(owner))
        load.key_results.append(card)
        due = card.key_result.effective_due_date
        if due < today and card.status != Status.COMPLETE:
            load.overdue_key_results += 1

    initiatives = (
        access.visible_initiatives(actor)
        .filter(objective__in=objectives)
        .exclude(state=InitiativeState.DONE)
        .select_related("objective", "key_result", "assignee")
        .order_by("objective__title", "position", "pk")
    )
    for initiative in initiatives:
        person = initiative.assignee
        load = loads.setdefault(person.pk if person else None, Load(person))
        load.initiatives.append(initiative)
        if initiative.due_date is not None and initiative.due_date < today:
            load.overdue_initiatives += 1

    others = sorted(
        (load for key, load in loads.items() if key is not None and not load.role),
        key=lambda load: str(load.person).lower(),
    )
    members = [load for load in loads.values() if load.role]
    nobody = [loads[None]] if None in loads else []
    return members + others + nobody


def _key_result_cards(
    actor: Actor,
    objectives: QuerySet[Objective],
    organisation: Organisation,
    today: date,
) -> list[KeyResultCard]:
    visible = access.visible_key_results(actor).filter(objective__in=objectives)
    key_results = list(
        key_results_with_latest()
        .filter(pk__in=visible.values("pk"))
        .select_related("objective__cycle")
        .order_by("objective__title", "-is_headline", "position", "pk")
    )
    ids = [kr.latest_check_in_id for kr in key_results if kr.latest_check_in_id]  # type: ignore[attr-defined]
    latest: dict[int, CheckIn] = {
        c.key_result_id: c for c in access.visible_check_ins(actor).filter(pk__in=ids)
    }
    return [
        key_result_card(kr, latest.get(kr.pk), kr.objective, organisation, today)
        for kr in key_results
    ]


def _work_url(actor: Actor, team: Team) -> str:
    if actor.has_role(team.pk, Role.MANAGER):
        return optional_url("team_work", team.slug)
    return ""


def _invite_url(actor: Actor, team: Team | None = None) -> str:
    if team is not None and not invitations.roles_to_give(actor, team.pk):
        return ""
    if not invitations.can_invite(actor):
        return ""
    url = optional_url("invitation_list")
    return f"{url}?team={team.pk}" if url and team is not None else url


# Giving many items to one person


@dataclass
class WorkRow:
    item: Assignable
    key: str
    kind: str
    holder: User | None
    due: date | None
    ticked: bool = False


class BulkAssignForm(forms.Form):
    assignee = PersonChoiceField(
        queryset=User.objects.none(),
        label="Assign selected to",
        empty_label="— Choose a person —",
        error_messages={"required": "Pick the person to give the ticked items to."},
    )

    def __init__(self, actor: Actor, team: Team, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, PersonChoiceField)
        people = people_for(actor, [team.pk]).filter(
            taking_part(team.pk, Visibility.ORGANISATION)
        )
        field.queryset = people.order_by("first_name", "last_name", "username")


@GET_OR_POST
def team_work(request: PageRequest, slug: str) -> HttpResponse:
    """The team's open key results and initiatives, to give many at once."""
    actor = access.actor_for(request.user)
    team = get_team(actor, slug)
    access.require(actor.has_role(team.pk, Role.MANAGER))
    rows = _work_rows(actor, team)
    form = BulkAssignForm(actor, team, request.POST or None)
    error = ""
    if request.method == "POST":
        ticked = request.POST.getlist("item")
        for row in rows:
            row.ticked = row.key in ticked
        if form.is_valid():
            try:
                changed = _bulk_assign(request, actor, rows, ticked, form)
            except ValidationError as refused:
                error = " ".join(refused.messages)
            else:
                assignee = form.cleaned_data["assignee"]
                messages.success(request, _given(changed, len(ticked), assignee))
                return redirect("team_work", team.slug)

    status = HTTPStatus.BAD_REQUEST if error or form.errors else HTTPStatus.OK
    context = {
        "team": team,
        "rows": rows,
        "form": form,
        "error": error,
        "team_url": reverse("team_detail", args=[team.slug]),
    }
    return render(request, "okrs/bulk_assign.html", context, status=status)


def _work_rows(actor: Actor, team: Team) -> list[WorkRow]:
    """Open items of the team's visible objectives, objective by objective."""
    visible = access.visible_objectives(actor).filter(team=team)
    related = ("objective__cycle", "objective__team")
    key_results = (
        services.open_key_results()
        .filter(objective__in=visible)
        .select_related("owner", *related)
    )
    initiatives = (
        services.open_initiatives()
        .filter(objective__in=visible)
        .select_related("assignee", "key_result", *related)
    )
    rows = [
        WorkRow(kr, services.item_key(kr), "Key result", kr.owner, kr.due_date)
        for kr in key_results
    ] + [
        WorkRow(i, services.item_key(i), "Initiative", i.assignee, i.due_date)
        for i in initiatives
    ]
    return sorted(
        rows,
        key=lambda row: (
            row.item.objective.cycle.start_date,
            row.item.objective.title,
            row.item.objective_id,
            row.kind,
            row.item.position,
            row.item.pk,
        ),
    )


def _bulk_assign(
    request: PageRequest,
    actor: Actor,
    rows: list[WorkRow],
    ticked: list[str],
    form: BulkAssignForm,
) -> int:
    by_key = {row.key: row.item for row in rows}
    missing = [key for key in ticked if key not in by_key]
    if missing:
        raise ValidationError(
            "Some ticked items are no longer open work of this team (done, "
            "archived or removed meanwhile). Nothing was assigned; the list "
            "below is up to date."
        )
    versions = {}
    for key in ticked:
        try:
            versions[key] = int(request.POST.get(f"version-{key}", ""))
        except ValueError:
            raise ValidationError(
                "This page is out of date; reload it and tick the items again."
            ) from None
    items = [by_key[key] for key in dict.fromkeys(ticked)]
    return services.bulk_assign(
        actor.user, items, form.cleaned_data["assignee"], versions=versions
    )


def _given(changed: int, ticked: int, assignee: User) -> str:
    items = "item" if changed == 1 else "items"
    message = f"Gave {changed} {items} to {assignee}."
    if changed < ticked:
        message += f" {ticked - changed} were theirs already."
    return message


# Giving one item, inline on the objective's page


class AssignForm(forms.Form):
    version = VersionField()

    def __init__(self, actor: Actor, item: Assignable, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("version", item.version)
        objective = item.objective
        current = services.holder(item)
        keep = current.pk if current is not None else None
        is_initiative = isinstance(item, Initiative)
        self.fields["person"] = PersonChoiceField(
            queryset=people_for(actor, [objective.team_id], keep),
            required=not is_initiative,
            empty_label="— Nobody —" if is_initiative else None,
            label=f"Give {quoted(item.title)} to",
            initial=keep,
            error_messages={
                "required": "A key result always has an owner; pick someone."
            },
        )
        offer_people(
            self.fields["person"], objective.team_id, objective.visibility, keep
        )


@GET_OR_POST
def initiative_assign(request: PageRequest, pk: int) -> HttpResponse:
    actor = access.actor_for(request.user)
    initiative = access.get_initiative(actor, pk)
    access.require(access.can_edit_initiative(actor, initiative))
    return _assign(request, actor, initiative, "initiative_assign")


@GET_OR_POST
def key_result_assign(request: PageRequest, pk: int) -> HttpResponse:
    actor = access.actor_for(request.user)
    key_result = access.get_key_result(actor, pk)
    access.require(access.can_edit_key_result(actor, key_result))
    return _assign(request, actor, key_result, "key_result_assign")


def _assign(
    request: PageRequest, actor: Actor, item: Assignable, url_name: str
) -> HttpResponse:
    """Show the Assign form, or save it; htmx gets the control, else a page."""
    context: dict[str, Any] = {
        "item": item,
        "url_name": url_name,
        "back": _item_url(item),
    }
    if request.method == "GET" and "show" in request.GET:
        return _shown(request, item, url_name)

    form = AssignForm(actor, item, request.POST or None, auto_id=_ids(item))
    status = HTTPStatus.OK
    if request.method == "POST":
        if form.is_valid():
            person = form.cleaned_data["person"]
            try:
                changed = services.assign(
                    actor.user, item, person, form.cleaned_data["version"]
                )
            except EditConflict as conflict:
                current = conflict.current
                assert isinstance(current, Initiative | KeyResult)
                holder = services.holder(current)
                form = AssignForm(actor, current, None, auto_id=_ids(current))
                context["conflict"] = (
                    "Someone else changed this while you were choosing; it is "
                    f"now with {holder or 'nobody'}. Choose again if needed."
                )
            except ValidationError as error:
                form.add_error("person", error.messages)
            else:
                return _assigned(request, item, url_name, person, changed)
        status = HTTPStatus.BAD_REQUEST
    context["form"] = form
    return render_partial_or_page(
        request,
        "okrs/assign.html",
        "okrs/partials/assign_form.html",
        context,
        status=status,
    )


def _assigned(
    request: PageRequest,
    item: Assignable,
    url_name: str,
    person: User | None,
    changed: bool,
) -> HttpResponse:
    """Say what happened. An initiative's whole section comes back to htmx,
    so its other controls carry the new version; a key result's control
    alone does (nothing else in its row carries one)."""
    title = quoted(item.title)
    if not changed:
        message = f"{title} was with {person or 'nobody'} already."
    elif person is None:
        message = f"{title} is now assigned to nobody."
    else:
        message = f"Gave {title} to {person}."
    if wants_partial(request):
        if isinstance(item, KeyResult):
            return _shown(request, item, url_name, saved=changed)
        actor = access.actor_for(request.user)
        focus = Focus("assign", item.pk)
        response = _initiatives_answer(
            request, actor, item.objective, "", message, focus
        )
        response["HX-Retarget"] = "#initiatives"
        response["HX-Reswap"] = "outerHTML"
        return response
    if changed:
        messages.success(request, message)
    else:
        messages.info(request, message)
    return redirect(_item_url(item))


def _shown(
    request: PageRequest, item: Assignable, url_name: str, *, saved: bool = False
) -> HttpResponse:
    """The control as the objective's page shows it: holder and Assign."""
    context = {
        "holder": services.holder(item),
        "url_name": url_name,
        "pk": item.pk,
        "can": True,
        "saved": saved,
    }
    return render(request, "okrs/partials/assignee.html", context)


def _ids(item: Assignable) -> str:
    """Ids for the form's fields, unique on a page with many such forms."""
    return f"assign-{services.item_key(item)}-%s"


def _item_url(item: Assignable) -> str:
    anchor = f"kr-{item.pk}" if isinstance(item, KeyResult) else "initiatives"
    return objective_url(item.objective_id, anchor)


# Priority and order of an objective's initiatives


@require_POST
def initiative_priority(request: PageRequest, pk: int) -> HttpResponse:
    actor = access.actor_for(request.user)
    initiative = access.get_initiative(actor, pk)
    access.require(access.can_edit_initiative(actor, initiative))
    objective = initiative.objective
    title = quoted(initiative.title)
    priority = request.POST.get("priority", "")
    error = notice = ""
    try:
        version = int(request.POST.get("version", ""))
        changed = services.set_initiative_priority(
            actor.user, initiative, priority, version
        )
    except ValueError:
        error = "This page is out of date; reload it and set the priority again."
    except EditConflict:
        error = (
            f"Someone else changed {title} meanwhile; the list now shows their "
            "version. Set the priority again if it is still needed."
        )
    except ValidationError as refused:
        error = " ".join(refused.messages)
    else:
        label = Priority(priority).label.lower()
        notice = f"{title} is {label} priority" + ("." if changed else " already.")
    focus = Focus("priority", initiative.pk)
    return _initiatives_answer(request, actor, objective, error, notice, focus)


@dataclass(frozen=True)
class Focus:
    """The control that keeps the keyboard focus when the section comes back:
    the button just used (the other one at either end), or a priority."""

    kind: str
    pk: int

    @classmethod
    def after_move(cls, order: list[int], pk: int, *, up: bool) -> "Focus | None":
        if len(order) < 2:
            return None
        place = order.index(pk)
        if up and place == 0:
            up = False
        elif not up and place == len(order) - 1:
            up = True
        return cls("up" if up else "down", pk)


@require_POST
def initiative_order(request: PageRequest, pk: int) -> HttpResponse:
    """Save the order of an objective's initiatives.

    The page posts every initiative's id in its order, with its version. A
    Move up / Move down button adds `move` ("<id>:up" or "<id>:down"), and
    the order saved is the posted one with that initiative moved; without
    it (a drag), the posted order is the new one.
    """
    actor = access.actor_for(request.user)
    objective = access.get_objective(actor, pk)
    access.require(access.can_edit_objective(actor, objective))
    error = notice = ""
    focus = None
    try:
        order, versions = _posted_order(request)
        moving, up = _posted_move(request.POST.get("move", ""), order)
        new_order = services.moved_order(order, moving, up=up) if moving else order
        moved = services.reorder_initiatives(actor.user, objective, new_order, versions)
    except ValidationError as refused:
        error = " ".join(refused.messages)
    else:
        notice = _order_notice(objective, new_order, moving, moved)
        if moving is not None:
            focus = Focus.after_move(new_order, moving, up=up)
    return _initiatives_answer(request, actor, objective, error, notice, focus)


def _posted_order(request: PageRequest) -> tuple[list[int], dict[int, int]]:
    ids = [access.as_id(value) for value in request.POST.getlist("order")]
    order = [pk for pk in ids if pk is not None]
    if len(order) != len(ids):
        raise ValidationError(services.STALE_ORDER)
    versions = {}
    for pk in order:
        try:
            versions[pk] = int(request.POST.get(f"version-{pk}", ""))
        except ValueError:
            raise ValidationError(services.STALE_ORDER) from None
    return order, versions


def _posted_move(move: str, order: list[int]) -> tuple[int | None, bool]:
    if not move:
        return None, False
    raw, _, direction = move.partition(":")
    pk = access.as_id(raw)
    if pk is None or pk not in order or direction not in ("up", "down"):
        raise ValidationError(services.STALE_ORDER)
    return pk, direction == "up"


def _order_notice(
    objective: Objective, order: list[int], moving: int | None, moved: int
) -> str:
    if moving is None:
        return "Order saved." if moved else "The order is unchanged."
    initiative = objective.initiatives.get(pk=moving)
    title = quoted(initiative.title)
    place = order.index(moving) + 1
    if not moved:
        return f"{title} is {'first' if place == 1 else 'last'} already."
    return f"Moved {title} to place {place} of {len(order)}."


def _initiatives_answer(
    request: PageRequest,
    actor: Actor,
    objective: Objective,
    error: str,
    notice: str,
    focus: Focus | None = None,
) -> HttpResponse:
    """htmx gets the initiatives section again; otherwise, back to the page."""
    if not wants_partial(request):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, notice)
        return go(request, objective_url(objective.pk, "initiatives"))

    context = {
        "objective": objective,
        "initiatives": initiative_rows(actor, objective),
        "links": {
            "edit": optional_url("objective_edit", objective.pk)
            if access.can_edit_objective(actor, objective)
            else "",
            "add_initiative": optional_url("initiative_create", objective.pk)
            if access.can_add_initiative(actor, objective)
            else "",
        },
        "order_error": error,
        "order_notice": notice,
        "focus": focus,
    }
    return render(request, "okrs/partials/initiatives.html", context)


def initiative_rows(actor: Actor, objective: Objective) -> list[InitiativeRow]:
    """The objective's initiatives in order, with Edit for those who may."""
    initiatives = access.visible_initiatives(actor).filter(objective=objective)
    rows = []
    for initiative in initiatives.select_related("key_result", "assignee"):
        initiative.objective = objective
        row = InitiativeRow(initiative)
        if access.can_edit_initiative(actor, initiative):
            row.edit_url = optional_url("initiative_edit", initiative.pk)
        rows.append(row)
    return rows
