"""Read-side pages: the dashboard, my work and one objective.

Every object arrives through creditokr.okrs.access, so a hidden objective is
left out of lists, counts and filter choices, and asking for it by id is a
404. Progress and status come from creditokr.okrs.board; templates only
format what these views hand them.

One htmx rule (creditokr.okrs.htmx) for every view here: an htmx request
that is not boosted (and not a history restore) gets the partial from
templates/okrs/partials/, anything else gets the full page.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import groupby
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse

from creditokr.accounts.models import Organisation, Team, User
from creditokr.creditdata.access import visible_source_ids
from creditokr.cycles.fiscal import local_today
from creditokr.cycles.models import Cycle, CycleState
from creditokr.cycles.services import default_cycle
from creditokr.okrs.access import (
    Actor,
    actor_for,
    as_id,
    can_add_initiative,
    can_check_in,
    can_edit_initiative,
    can_edit_key_result,
    can_edit_objective,
    get_key_result,
    get_objective,
    visibility_filter,
    visible_check_ins,
    visible_initiatives,
    visible_key_results,
    visible_objectives,
)
from creditokr.okrs.board import (
    KeyResultCard,
    ObjectiveCard,
    key_result_card,
    key_results_with_latest,
    objective_cards,
)
from creditokr.okrs.htmx import PageRequest, render_partial_or_page, wants_partial
from creditokr.okrs.models import (
    CheckIn,
    Initiative,
    InitiativeState,
    KeyResult,
    Objective,
    Priority,
)
from creditokr.okrs.progress import Status
from creditokr.okrs.templatetags.okr_format import optional_url

SESSION_CYCLE = "dashboard_cycle"
CHECK_IN_DUE_AFTER = timedelta(days=7)

# The order statuses are counted and offered in, best news first.
STATUS_ORDER = (
    Status.ON_TRACK,
    Status.IN_PROGRESS,
    Status.AT_RISK,
    Status.OFF_TRACK,
    Status.COMPLETE,
    Status.NOT_STARTED,
)
PRIORITY_RANK = {Priority.HIGH: 0, Priority.MEDIUM: 1, Priority.LOW: 2}


def _today(request: PageRequest) -> date:
    return local_today(request.organisation.zone)


# Dashboard


@dataclass(frozen=True)
class BoardFilters:
    team: int | None = None
    owner: int | None = None
    status: Status | None = None
    show_archived: bool = False

    @classmethod
    def from_query(cls, query: QueryDict) -> "BoardFilters":
        status = query.get("status", "")
        return cls(
            team=as_id(query.get("team")),
            owner=as_id(query.get("owner")),
            status=Status(status) if status in Status else None,
            show_archived=query.get("archived") == "1",
        )

    @property
    def active(self) -> bool:
        return bool(self.team or self.owner or self.status)

    def query(self, cycle: Cycle, **changes: Any) -> str:
        """The query string for this board with some filters changed."""
        values = {
            "cycle": cycle.pk,
            "team": self.team,
            "owner": self.owner,
            "status": self.status.value if self.status else None,
            "archived": "1" if self.show_archived else None,
        } | changes
        return urlencode({k: v for k, v in values.items() if v})


@dataclass
class BoardEntry:
    """One objective card on the board, with the parent it is aligned to."""

    card: ObjectiveCard
    parent: Objective | None = None


@dataclass
class StatusCount:
    status: Status
    count: int
    query: str
    current: bool


@dataclass
class Board:
    groups: list[tuple[Team, list[BoardEntry]]]
    counts: list[StatusCount]
    total: int
    shown: int
    archived: list[Objective] = field(default_factory=list)


def dashboard(request: PageRequest) -> HttpResponse:
    actor = actor_for(request.user)
    today = _today(request)
    cycles = list(Cycle.objects.all())
    cycle = _chosen_cycle(request, actor, cycles, today)
    filters = BoardFilters.from_query(request.GET)

    context: dict[str, Any] = {
        "cycles": cycles,
        "cycle": cycle,
        "filters": filters,
        "statuses": STATUS_ORDER,
        "create_url": _create_url(actor, cycle),
    }
    if cycle is not None:
        live = visible_objectives(actor).filter(cycle=cycle, archived=False)
        board = _board(actor, live, cycle, filters, request.organisation, today)
        context["board"] = board
        context["teams"] = Team.objects.filter(objectives__in=live).distinct()
        owners = User.objects.filter(owned_objectives__in=live).distinct()
        context["owners"] = owners.only("first_name", "last_name", "username")
    return render_partial_or_page(
        request, "okrs/dashboard.html", "okrs/partials/board.html", context
    )


def _chosen_cycle(
    request: PageRequest, actor: Actor, cycles: list[Cycle], today: date
) -> Cycle | None:
    """The cycle asked for, else the one remembered, else the default."""
    by_id = {cycle.pk: cycle for cycle in cycles}
    asked = as_id(request.GET.get("cycle"))
    if asked in by_id:
        if request.session.get(SESSION_CYCLE) != asked:
            request.session[SESSION_CYCLE] = asked
        return by_id[asked]

    remembered = request.session.get(SESSION_CYCLE)
    if remembered in by_id:
        return by_id[remembered]
    return default_cycle(visibility_filter(actor, "objectives__"), today)


def _board(
    actor: Actor,
    live: QuerySet[Objective],
    cycle: Cycle,
    filters: BoardFilters,
    organisation: Organisation,
    today: date,
) -> Board:
    objectives = live
    if filters.team:
        objectives = objectives.filter(team_id=filters.team)
    if filters.owner:
        objectives = objectives.filter(owner_id=filters.owner)
    cards = objective_cards(actor, objectives, organisation, today)

    shown = [c for c in cards if filters.status in (None, c.status)]
    parents = _visible_parents(actor, [c.objective for c in shown])
    entries = [BoardEntry(c, parents.get(c.objective.parent_id or 0)) for c in shown]
    groups = [
        (team, list(group))
        for team, group in groupby(entries, key=lambda e: e.card.objective.team)
    ]
    board = Board(groups, _status_counts(cards, cycle, filters), len(cards), len(shown))

    if filters.show_archived:
        archived = _archived(actor, cycle, filters).select_related("team", "owner")
        board.archived = list(archived)
    return board


def _status_counts(
    cards: list[ObjectiveCard], cycle: Cycle, filters: BoardFilters
) -> list[StatusCount]:
    """How many cards show each status; each links to (or off) its filter."""
    tally = Counter(card.status for card in cards)
    counts = []
    for status in STATUS_ORDER:
        current = status == filters.status
        query = filters.query(cycle, status=None if current else status.value)
        counts.append(StatusCount(status, tally[status], query, current))
    return counts


def _visible_parents(
    actor: Actor, objectives: Iterable[Objective]
) -> dict[int, Objective]:
    """The parents of `objectives` that this actor may see, by id."""
    ids = {o.parent_id for o in objectives if o.parent_id}
    parents = visible_objectives(actor).filter(pk__in=ids).only("pk", "title")
    return {parent.pk: parent for parent in parents}


def _archived(actor: Actor, cycle: Cycle, filters: BoardFilters) -> QuerySet[Objective]:
    archived = visible_objectives(actor).filter(cycle=cycle, archived=True)
    if filters.team:
        archived = archived.filter(team_id=filters.team)
    if filters.owner:
        archived = archived.filter(owner_id=filters.owner)
    return archived


def _create_url(actor: Actor, cycle: Cycle | None) -> str:
    """Where to create an objective, for people who may; else ""."""
    url = optional_url("objective_create") if actor.is_contributor else ""
    if url and cycle is not None:
        url = f"{url}?{urlencode({'cycle': cycle.pk})}"
    return url


# My work


@dataclass
class OwedCheckIn:
    card: KeyResultCard
    days_since: int | None


def my_work(request: PageRequest) -> HttpResponse:
    actor = actor_for(request.user)
    today = _today(request)
    cycles = list(
        Cycle.objects.exclude(state=CycleState.CLOSED).filter(start_date__lte=today)
    )

    objectives = visible_objectives(actor).filter(
        owner=actor.user, archived=False, cycle__in=cycles
    )
    key_results = _my_key_result_cards(actor, cycles, request.organisation, today)
    context = {
        "cycles": cycles,
        "objectives": objective_cards(actor, objectives, request.organisation, today),
        "key_results": key_results,
        "initiatives": _my_initiatives(actor, cycles),
        "owed": _owed_check_ins(key_results, today),
    }
    return render_partial_or_page(
        request, "okrs/my_work.html", "okrs/partials/my_work.html", context
    )


def _my_key_result_cards(
    actor: Actor, cycles: list[Cycle], organisation: Organisation, today: date
) -> list[KeyResultCard]:
    """Live key results the actor owns in `cycles`, with status and latest."""
    mine = visible_key_results(actor).filter(
        owner=actor.user, objective__archived=False, objective__cycle__in=cycles
    )
    key_results = list(
        key_results_with_latest()
        .filter(pk__in=mine.values("pk"))
        .select_related("objective__cycle", "objective__team")
        .order_by("objective__cycle__start_date", "objective_id", "position", "pk")
    )
    latest = _check_ins_by_key_result(actor, key_results)
    return [
        key_result_card(kr, latest.get(kr.pk), kr.objective, organisation, today)
        for kr in key_results
    ]


def _check_ins_by_key_result(
    actor: Actor, key_results: Iterable[KeyResult]
) -> dict[int, CheckIn]:
    ids = [kr.latest_check_in_id for kr in key_results if kr.latest_check_in_id]  # type: ignore[attr-defined]
    return {c.key_result_id: c for c in visible_check_ins(actor).filter(pk__in=ids)}


def _owed_check_ins(cards: Iterable[KeyResultCard], today: date) -> list[OwedCheckIn]:
    """Key results not complete whose latest reading is over a week old."""
    owed = [
        OwedCheckIn(card, (today - card.latest.as_of).days if card.latest else None)
        for card in cards
        if card.status != Status.COMPLETE
        and (card.latest is None or card.latest.as_of < today - CHECK_IN_DUE_AFTER)
    ]
    return sorted(owed, key=lambda o: (o.days_since is not None, -(o.days_since or 0)))


def _my_initiatives(actor: Actor, cycles: list[Cycle]) -> list[Initiative]:
    initiatives = visible_initiatives(actor).filter(
        assignee=actor.user, objective__archived=False, objective__cycle__in=cycles
    )
    loaded = list(initiatives.select_related("objective", "key_result"))
    return sorted(
        loaded,
        key=lambda i: (
            i.state == InitiativeState.DONE,
            i.due_date is None,
            i.due_date or date.max,
            PRIORITY_RANK.get(Priority(i.priority), 1),
        ),
    )


# One objective


@dataclass
class CheckInRow:
    check_in: CheckIn
    back_dated: bool
    # Whether the viewer may see the data source a value came from; if not,
    # its provenance shows the KPI and its conventions but nothing of the
    # source (name, file, counts).
    shows_source: bool = False


@dataclass
class KeyResultRow:
    card: KeyResultCard
    history: list[CheckInRow]
    edit_url: str = ""
    archive_url: str = ""
    check_in_url: str = ""
    feed_url: str = ""


@dataclass
class InitiativeRow:
    initiative: Initiative
    edit_url: str = ""


def objective_detail(request: PageRequest, pk: int) -> HttpResponse:
    actor = actor_for(request.user)
    objective = get_objective(actor, pk)
    today = _today(request)

    only_this = visible_objectives(actor).filter(pk=objective.pk)
    card = objective_cards(actor, only_this, request.organisation, today)[0]
    sources = visible_source_ids(actor)
    context = {
        "objective": card.objective,
        "card": card,
        "parent": _visible_parents(actor, [objective]).get(objective.parent_id or 0),
        "shows_starting_status": _shows_starting_status(card),
        "key_results": _key_result_rows(actor, card, request.organisation, sources),
        "initiatives": _initiative_rows(actor, card.objective),
        "links": _objective_links(actor, card.objective),
        "visible_source_ids": sources,
    }
    return render_partial_or_page(
        request, "okrs/objective_detail.html", "okrs/partials/objective.html", context
    )


def _shows_starting_status(card: ObjectiveCard) -> bool:
    return (
        not card.is_overridden
        and card.computed_status == Status.NOT_STARTED
        and bool(card.objective.starting_status)
    )


def _key_result_rows(
    actor: Actor,
    card: ObjectiveCard,
    organisation: Organisation,
    sources: frozenset[int],
) -> list[KeyResultRow]:
    histories = _histories(
        actor, [kr.key_result for kr in card.key_results], organisation, sources
    )
    rows = []
    for kr_card in card.key_results:
        key_result = kr_card.key_result
        row = KeyResultRow(kr_card, histories.get(key_result.pk, []))
        if can_edit_key_result(actor, key_result):
            row.edit_url = optional_url("key_result_edit", key_result.pk)
            row.archive_url = optional_url("key_result_archive", key_result.pk)
            if key_result.kind != "milestone":
                row.feed_url = optional_url("data_feed", key_result.pk)
        if can_check_in(actor, key_result):
            row.check_in_url = optional_url("check_in_create", key_result.pk)
        rows.append(row)
    return rows


def _histories(
    actor: Actor,
    key_results: Iterable[KeyResult],
    organisation: Organisation,
    sources: frozenset[int] | None = None,
) -> Mapping[int, list[CheckInRow]]:
    """Each key result's check-ins, newest as-of first, in one query.

    `sources` are the data sources the actor may see (looked up when not
    given); provenance shows a source's details only for those.
    """
    by_id = {key_result.pk: key_result for key_result in key_results}
    check_ins = visible_check_ins(actor).filter(key_result__in=list(by_id))
    if sources is None:
        sources = visible_source_ids(actor)
    histories: dict[int, list[CheckInRow]] = defaultdict(list)
    for check_in in check_ins.select_related("author", "reading__data_import"):
        check_in.key_result = by_id[check_in.key_result_id]
        recorded_on = local_today(organisation.zone, check_in.created_at)
        # A value from data describes a period that has ended: not back-dated.
        back_dated = check_in.as_of < recorded_on and check_in.source == "manual"
        reading = getattr(check_in, "reading", None)
        shows = reading is not None and reading.source_id in sources
        row = CheckInRow(check_in, back_dated=back_dated, shows_source=shows)
        histories[check_in.key_result_id].append(row)
    return histories


def _initiative_rows(actor: Actor, objective: Objective) -> list[InitiativeRow]:
    initiatives = visible_initiatives(actor).filter(objective=objective)
    rows = []
    for initiative in initiatives.select_related("objective", "key_result", "assignee"):
        row = InitiativeRow(initiative)
        if can_edit_initiative(actor, initiative):
            row.edit_url = optional_url("initiative_edit", initiative.pk)
        rows.append(row)
    return rows


def _objective_links(actor: Actor, objective: Objective) -> dict[str, str]:
    """The change links this actor may follow ("" for the rest)."""
    links = dict.fromkeys(
        ("edit", "status", "archive", "add_key_result", "add_initiative"), ""
    )
    if can_edit_objective(actor, objective):
        links["edit"] = optional_url("objective_edit", objective.pk)
        links["status"] = optional_url("objective_status", objective.pk)
        links["archive"] = optional_url("objective_archive", objective.pk)
        links["add_key_result"] = optional_url("key_result_create", objective.pk)
    if can_add_initiative(actor, objective):
        links["add_initiative"] = optional_url("initiative_create", objective.pk)
    return links


def key_result_history(request: PageRequest, pk: int) -> HttpResponse:
    """One key result's check-ins; outside htmx, its place on the page."""
    actor = actor_for(request.user)
    key_result = get_key_result(actor, pk)
    if not wants_partial(request):
        url = reverse("objective_detail", args=[key_result.objective_id])
        return redirect(f"{url}#kr-{key_result.pk}")

    histories = _histories(actor, [key_result], request.organisation)
    context = {"key_result": key_result, "history": histories.get(key_result.pk, [])}
    return render_partial_or_page(
        request,
        "okrs/objective_detail.html",
        "okrs/partials/key_result_history.html",
        context,
    )
