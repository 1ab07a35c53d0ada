"""Progress and status of objectives as one viewer sees them.

Nothing here is stored: every figure is worked out from the latest check-ins
when a page is drawn, from the objects the viewer may see. So moving an
objective to another cycle or parent changes both sides at once, and a
hidden objective never contributes to anyone else's roll-up. The number of
queries depends on the depth of alignment, never on the number of objectives.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Case, OuterRef, Prefetch, QuerySet, Subquery, When

from creditokr.accounts.models import Organisation
from creditokr.okrs.access import Actor, visible_objectives
from creditokr.okrs.models import CheckIn, CheckInSource, KeyResult, Objective
from creditokr.okrs.progress import (
    Kind,
    Measurement,
    Status,
    expected_progress,
    key_result_status,
    measure,
    weighted_progress,
    worst_status,
)

MAX_ALIGNMENT_DEPTH = 20


@dataclass
class KeyResultCard:
    key_result: KeyResult
    latest: CheckIn | None
    measurement: Measurement | None
    status: Status
    expected: Decimal
    problem: str = ""

    @property
    def progress(self) -> Decimal:
        return self.measurement.progress if self.measurement else Decimal(0)

    @property
    def worsening(self) -> bool:
        return bool(self.measurement and self.measurement.worsening)


@dataclass
class ObjectiveCard:
    objective: Objective
    key_results: list[KeyResultCard]
    children: list["ObjectiveCard"] = field(default_factory=list)
    progress: Decimal | None = None
    computed_status: Status = Status.NOT_STARTED

    @property
    def status(self) -> Status:
        """What to show: an override, a starting label, or the computed one."""
        if self.objective.status_override:
            return Status(self.objective.status_override)
        if self.objective.starting_status and not self.has_check_ins:
            return Status(self.objective.starting_status)
        return self.computed_status

    @property
    def has_check_ins(self) -> bool:
        """Whether anything under it has been checked in on yet."""
        return any(kr.latest for kr in self.key_results) or any(
            child.has_check_ins for child in self.children
        )

    @property
    def is_overridden(self) -> bool:
        return bool(self.objective.status_override)

    @property
    def is_starting_status(self) -> bool:
        """Shown status is the template's label, before any check-in."""
        return (
            not self.is_overridden
            and bool(self.objective.starting_status)
            and not self.has_check_ins
        )


def key_results_with_latest() -> QuerySet[KeyResult]:
    """Live key results, each annotated with the id of its latest check-in.

    For a key result fed by credit data the value is the data's: its latest
    check-in from data, whatever was typed in before the feed was set up.
    """
    latest = CheckIn.objects.filter(key_result=OuterRef("pk")).order_by(
        "-as_of", "-created_at", "-pk"
    )
    latest_from_data = latest.filter(source=CheckInSource.DATA)
    return (
        KeyResult.objects.filter(archived=False)
        .select_related("owner", "feed__source")
        .annotate(
            latest_check_in_id=Case(
                When(
                    feed__isnull=False,
                    then=Subquery(latest_from_data.values("pk")[:1]),
                ),
                default=Subquery(latest.values("pk")[:1]),
            )
        )
    )


def objective_cards(
    actor: Actor,
    objectives: QuerySet[Objective],
    organisation: Organisation,
    today: date,
) -> list[ObjectiveCard]:
    """Cards for `objectives` (already filtered for the actor), rolled up."""
    loaded = list(
        objectives.select_related("cycle", "team", "owner").prefetch_related(
            Prefetch("key_results", queryset=key_results_with_latest())
        )
    )
    cards = _cards_for(loaded, organisation, today)
    _attach_children(actor, cards, organisation, today)
    for card in cards:
        roll_up(card)
    return cards


def _cards_for(
    objectives: Sequence[Objective], organisation: Organisation, today: date
) -> list[ObjectiveCard]:
    key_results = [kr for o in objectives for kr in o.key_results.all()]
    latest = _latest_check_ins(key_results)
    return [
        ObjectiveCard(
            objective=o,
            key_results=[
                key_result_card(kr, latest.get(kr.pk), o, organisation, today)
                for kr in o.key_results.all()
            ],
        )
        for o in objectives
    ]


def _latest_check_ins(key_results: Iterable[KeyResult]) -> dict[int, CheckIn]:
    ids = [kr.latest_check_in_id for kr in key_results if kr.latest_check_in_id]  # type: ignore[attr-defined]
    if not ids:
        return {}
    return {c.key_result_id: c for c in CheckIn.objects.filter(pk__in=ids)}


def key_result_card(
    key_result: KeyResult,
    latest: CheckIn | None,
    objective: Objective,
    organisation: Organisation,
    today: date,
) -> KeyResultCard:
    start = objective.cycle.start_date
    due = key_result.due_date or objective.cycle.end_date
    expected = expected_progress(start, due, today)
    try:
        measurement = _measure(key_result, latest)
    except ValueError as error:
        return KeyResultCard(
            key_result, latest, None, Status.NOT_STARTED, expected, str(error)
        )

    status = key_result_status(
        Kind(key_result.kind), measurement, start, due, today, organisation.tolerances
    )
    return KeyResultCard(key_result, latest, measurement, status, expected)


def _measure(key_result: KeyResult, latest: CheckIn | None) -> Measurement | None:
    if latest is None:
        return None
    if key_result.kind != Kind.MILESTONE and key_result.target_value is None:
        raise ValueError("This key result has no target yet.")

    return measure(
        Kind(key_result.kind),
        key_result.start_value,
        key_result.target_value if key_result.target_value is not None else Decimal(0),
        latest.value,
        latest.done,
    )


def _attach_children(
    actor: Actor,
    cards: list[ObjectiveCard],
    organisation: Organisation,
    today: date,
) -> None:
    """Load visible, live child objectives level by level under the cards."""
    level = cards
    for _ in range(MAX_ALIGNMENT_DEPTH):
        by_id = {card.objective.pk: card for card in level}
        if not by_id:
            return

        children = visible_objectives(actor).filter(parent_id__in=by_id, archived=False)
        loaded = list(
            children.select_related("cycle", "team", "owner").prefetch_related(
                Prefetch("key_results", queryset=key_results_with_latest())
            )
        )
        child_cards = _cards_for(loaded, organisation, today)
        grouped: dict[int, list[ObjectiveCard]] = defaultdict(list)
        for child in child_cards:
            grouped[child.objective.parent_id].append(child)  # type: ignore[index]
        for parent_id, parent_card in by_id.items():
            parent_card.children = grouped.get(parent_id, [])
        level = child_cards


def roll_up(card: ObjectiveCard) -> None:
    """Progress and status from key results, else from visible children."""
    for child in card.children:
        roll_up(child)

    if card.key_results:
        card.progress = weighted_progress(
            (kr.progress, kr.key_result.weight) for kr in card.key_results
        )
        # A weight of 0 leaves a key result out of the roll-up entirely,
        # status included, unless every key result weighs nothing.
        counted = [kr for kr in card.key_results if kr.key_result.weight > 0]
        card.computed_status = worst_status(
            kr.status for kr in counted or card.key_results
        )
        return

    if card.children:
        card.progress = weighted_progress(
            (child.progress, Decimal(1))
            for child in card.children
            if child.progress is not None
        )
        card.computed_status = worst_status(child.status for child in card.children)
