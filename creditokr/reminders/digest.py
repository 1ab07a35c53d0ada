"""The weekly digest for senior management and anyone who subscribes.

It covers the current cycle's objectives the reader may see, with their
status; the check-ins recorded in the last seven days; what is at risk or
off track; and the recovery and delinquency key results.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch

from creditokr.accounts.models import Membership, Role
from creditokr.cycles.models import Cycle, CycleKind, CycleState
from creditokr.okrs.board import (
    KeyResultCard,
    ObjectiveCard,
    key_result_card,
    key_results_with_latest,
)
from creditokr.okrs.models import CheckIn, Objective
from creditokr.okrs.progress import Status, format_decimal, worst_status
from creditokr.reminders.cadence import at_local_time, local_days
from creditokr.reminders.compose import Person, compose, link
from creditokr.reminders.models import Kind

if TYPE_CHECKING:
    from creditokr.reminders.planning import Pass

SENIOR_TEAM = "Senior Management"
CREDIT_KEYS = {"recovery-rate", "delinquency-rate"}
CREDIT_WORDS = ("recovery", "delinquency")
WORRYING = {Status.AT_RISK, Status.OFF_TRACK}
CHANGES_DAYS = 7


def recipients(run: "Pass") -> list[Person]:
    """Viewers of Senior Management, and anyone who subscribed."""
    senior = set(
        Membership.objects.filter(
            role=Role.VIEWER, team__name__iexact=SENIOR_TEAM
        ).values_list("user_id", flat=True)
    )
    subscribed = {
        user_id
        for (user_id, kind), choice in run.preferences.items()
        if kind == Kind.DIGEST and choice.enabled
    }
    return [run.people[pk] for pk in sorted(senior | subscribed) if pk in run.people]


def plan_digests(run: "Pass") -> None:
    settings = run.settings
    due: list[tuple[Person, date, datetime]] = []
    for person in recipients(run):
        if not run.wanted(person, Kind.DIGEST):
            continue
        for day in local_days(run.start, run.now, person.zone):
            if day.weekday() != settings.digest_weekday:
                continue
            at = at_local_time(
                day, settings.digest_time, person.zone, run.start, run.now
            )
            if at is not None:
                due.append((person, day, at))
    if not due:
        return

    report = Report.load(min(d for _, d, _ in due), max(d for _, d, _ in due), run)
    for person, day, at in due:
        occurrence = f"digest:{day.isoformat()}"
        context = report.for_person(person, day)
        if context is None or not run.is_new(person, Kind.DIGEST, occurrence):
            continue
        run.messages.append(
            compose(
                person,
                Kind.DIGEST,
                occurrence,
                "digest",
                context,
                run.wanted(person, Kind.DIGEST),
                not_before=at,
            )
        )


@dataclass
class Report:
    """The open cycles' objectives and cards, loaded once for every reader."""

    cycles: list[Cycle]
    cards: dict[int, list[ObjectiveCard]]  # by cycle id
    check_ins: list[CheckIn]

    @classmethod
    def load(cls, first: date, last: date, run: "Pass") -> "Report":
        cycles = list(
            Cycle.objects.exclude(state=CycleState.CLOSED).filter(
                start_date__lte=last, end_date__gte=first
            )
        )
        objectives = (
            Objective.objects.filter(cycle__in=cycles, archived=False)
            .select_related("cycle", "team", "owner")
            .prefetch_related(
                Prefetch("key_results", queryset=key_results_with_latest())
            )
        )
        loaded = list(objectives)
        latest_ids = [
            kr.latest_check_in_id  # type: ignore[attr-defined]
            for o in loaded
            for kr in o.key_results.all()
        ]
        latest = {
            c.key_result_id: c
            for c in CheckIn.objects.filter(pk__in=[i for i in latest_ids if i])
        }
        cards: dict[int, list[ObjectiveCard]] = {c.pk: [] for c in cycles}
        for objective in loaded:
            cards[objective.cycle_id].append(_card(objective, latest, run, last))
        recent = CheckIn.objects.filter(
            key_result__objective__in=loaded,
            created_at__gte=run.now - timedelta(days=CHANGES_DAYS),
        ).select_related("key_result__objective", "author")
        return cls(cycles, cards, list(recent.order_by("-created_at")))

    def current_cycle(self, day: date) -> Cycle | None:
        """The running cycle with most objectives, as the dashboard opens
        on; a quarter wins a tie over the fiscal year."""
        running = [c for c in self.cycles if c.contains(day)]
        running.sort(
            key=lambda c: (
                -len(self.cards.get(c.pk, [])),
                c.kind != CycleKind.QUARTER,
                c.start_date,
            )
        )
        return running[0] if running else None

    def for_person(self, person: Person, day: date) -> dict[str, Any] | None:
        cycle = self.current_cycle(day)
        if cycle is None:
            return None

        cards = [
            card
            for card in self.cards.get(cycle.pk, [])
            if person.can_see(card.objective.visibility, card.objective.team_id)
        ]
        visible = {card.objective.pk for card in cards}
        key_results = [kr for card in cards for kr in card.key_results]
        return {
            "cycle": cycle,
            "day": day,
            "objectives": [_objective_line(card) for card in cards],
            "changes": [
                _change_line(check_in)
                for check_in in self.check_ins
                if check_in.key_result.objective_id in visible
                and check_in.key_result.objective.cycle_id == cycle.pk
            ],
            "worrying": [
                _key_result_line(kr) for kr in key_results if kr.status in WORRYING
            ],
            "credit": [_key_result_line(kr) for kr in key_results if _is_credit(kr)],
        }


def _card(
    objective: Objective, latest: dict[int, CheckIn], run: "Pass", day: date
) -> ObjectiveCard:
    today = min(day, run.now.astimezone(run.organisation.zone).date())
    key_results = [
        key_result_card(kr, latest.get(kr.pk), objective, run.organisation, today)
        for kr in objective.key_results.all()
    ]
    counted = [kr for kr in key_results if kr.key_result.weight > 0] or key_results
    return ObjectiveCard(
        objective, key_results, computed_status=worst_status(k.status for k in counted)
    )


def _is_credit(card: KeyResultCard) -> bool:
    key_result = card.key_result
    if key_result.template_key in CREDIT_KEYS:
        return True
    title = key_result.title.casefold()
    return any(word in title for word in CREDIT_WORDS)


def _objective_line(card: ObjectiveCard) -> dict[str, Any]:
    return {
        "title": card.objective.title,
        "team": card.objective.team.name,
        "status": card.status.label,
        "url": link("objective_detail", card.objective.pk),
    }


def _key_result_line(card: KeyResultCard) -> dict[str, Any]:
    key_result = card.key_result
    latest = card.latest
    value = None
    if latest is not None and latest.value is not None:
        value = format_decimal(latest.value) + key_result.unit_suffix
    return {
        "title": key_result.title,
        "status": card.status.label,
        "value": value,
        "url": link("objective_detail", key_result.objective_id),
    }


def _change_line(check_in: CheckIn) -> dict[str, Any]:
    key_result = check_in.key_result
    value = "done" if check_in.done else ""
    if check_in.value is not None:
        value = format_decimal(check_in.value) + key_result.unit_suffix
    return {
        "key_result": key_result.title,
        "value": value,
        "author": str(check_in.author),
        "as_of": check_in.as_of,
    }
