"""Everything one planning pass reads, loaded in a fixed number of queries.

A pass never queries per person or per key result: people, roles, rules,
live key results with their latest reading, recent check-ins and open
initiatives come in one query each, and the rest is worked out in memory.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, Q, Subquery

from creditokr.accounts.models import Membership, Organisation, Role, User
from creditokr.cycles.fiscal import parse_time_zone
from creditokr.cycles.models import CycleState
from creditokr.okrs.models import CheckIn, Initiative, InitiativeState, KeyResult
from creditokr.okrs.progress import (
    Kind,
    Status,
    Tolerances,
    key_result_status,
    measure,
)
from creditokr.reminders.compose import Person
from creditokr.reminders.models import ReminderRule, Scope

# Check-in reminders go on for a week after a cycle's last day (its final
# reading), unless the cycle is closed first.
GRACE_DAYS = 7


@dataclass
class LiveKeyResult:
    """A key result that may still need reminding about."""

    pk: int
    title: str
    owner_id: int
    objective_id: int
    objective_title: str
    team_id: int
    visibility: str
    cycle_start: date
    cycle_end: date
    due: date
    kind: str
    start_value: Decimal | None
    target_value: Decimal | None
    latest_value: Decimal | None
    latest_done: bool | None
    has_check_in: bool

    def is_complete(self, today: date, tolerances: Tolerances) -> bool:
        """Complete by the status rules (a met target, a done milestone)."""
        if not self.has_check_in:
            return False
        try:
            measurement = measure(
                Kind(self.kind),
                self.start_value,
                self.target_value if self.target_value is not None else Decimal(0),
                self.latest_value,
                self.latest_done,
            )
        except ValueError:
            return False
        status = key_result_status(
            Kind(self.kind),
            measurement,
            self.cycle_start,
            self.due,
            today,
            tolerances,
        )
        return status == Status.COMPLETE


@dataclass
class OpenInitiative:
    pk: int
    title: str
    due: date
    objective_id: int
    objective_title: str
    team_id: int
    visibility: str
    recipients: set[int]


@dataclass
class Rules:
    """Check-in reminder rules: key result, else team, else organisation."""

    organisation: ReminderRule
    by_team: dict[int, ReminderRule] = field(default_factory=dict)
    by_key_result: dict[int, ReminderRule] = field(default_factory=dict)

    def for_key_result(self, key_result_id: int, team_id: int) -> ReminderRule:
        return (
            self.by_key_result.get(key_result_id)
            or self.by_team.get(team_id)
            or self.organisation
        )


def organisation_rule() -> ReminderRule:
    """The organisation's default rule, created on first use."""
    rule, _ = ReminderRule.objects.get_or_create(scope=Scope.ORGANISATION)
    return rule


def load_rules() -> Rules:
    rules = Rules(organisation_rule())
    for rule in ReminderRule.objects.exclude(scope=Scope.ORGANISATION):
        if rule.scope == Scope.TEAM and rule.team_id is not None:
            rules.by_team[rule.team_id] = rule
        elif rule.key_result_id is not None:
            rules.by_key_result[rule.key_result_id] = rule
    return rules


def load_people(organisation: Organisation) -> dict[int, Person]:
    """Every active person with their zone and teams (two queries)."""
    zones: dict[str, ZoneInfo] = {}

    def zone_of(name: str) -> ZoneInfo:
        if name not in zones:
            try:
                zones[name] = parse_time_zone(name) if name else organisation.zone
            except ValueError:
                zones[name] = organisation.zone
        return zones[name]

    people = {
        pk: Person(pk, first or username, email, zone_of(zone), is_superuser)
        for pk, first, username, email, zone, is_superuser in User.objects.filter(
            is_active=True
        ).values_list(
            "pk", "first_name", "username", "email", "time_zone", "is_superuser"
        )
    }
    for user_id, team_id, role in Membership.objects.values_list(
        "user_id", "team_id", "role"
    ):
        person = people.get(user_id)
        if person is None:
            continue
        person.team_ids.add(team_id)
        if role == Role.ADMIN:
            person.is_admin = True
    return people


def load_key_results(first_day: date, last_day: date) -> list[LiveKeyResult]:
    """Live key results of open cycles that overlap first_day to last_day."""
    latest = CheckIn.objects.filter(key_result=OuterRef("pk")).order_by(
        "-as_of", "-created_at", "-pk"
    )
    rows = (
        KeyResult.objects.filter(archived=False, objective__archived=False)
        .exclude(objective__cycle__state=CycleState.CLOSED)
        .filter(
            objective__cycle__start_date__lte=last_day,
            objective__cycle__end_date__gte=first_day - timedelta(days=GRACE_DAYS),
        )
        .annotate(
            latest_id=Subquery(latest.values("pk")[:1]),
            latest_value=Subquery(latest.values("value")[:1]),
            latest_done=Subquery(latest.values("done")[:1]),
        )
        .values_list(
            "pk",
            "title",
            "owner_id",
            "objective_id",
            "objective__title",
            "objective__team_id",
            "objective__visibility",
            "objective__cycle__start_date",
            "objective__cycle__end_date",
            "due_date",
            "kind",
            "start_value",
            "target_value",
            "latest_value",
            "latest_done",
            "latest_id",
        )
        .order_by("pk")
    )
    return [_live(row) for row in rows.iterator(chunk_size=5000)]


def _live(row: tuple[Any, ...]) -> LiveKeyResult:
    (pk, title, owner, objective, objective_title, team, visibility) = row[:7]
    (start, end, due, kind, start_value, target, value, done, latest_id) = row[7:]
    return LiveKeyResult(
        pk=pk,
        title=title,
        owner_id=owner,
        objective_id=objective,
        objective_title=objective_title,
        team_id=team,
        visibility=visibility,
        cycle_start=start,
        cycle_end=end,
        due=due or end,
        kind=kind,
        start_value=start_value,
        target_value=target,
        latest_value=value,
        latest_done=done,
        has_check_in=latest_id is not None,
    )


def load_recent_check_ins(since: datetime) -> dict[tuple[int, int], datetime]:
    """The last time each person checked in on each key result, since then."""
    recent: dict[tuple[int, int], datetime] = {}
    rows = CheckIn.objects.filter(created_at__gte=since).values_list(
        "key_result_id", "author_id", "created_at"
    )
    for key_result_id, author_id, created_at in rows.iterator(chunk_size=5000):
        key = (key_result_id, author_id)
        if key not in recent or created_at > recent[key]:
            recent[key] = created_at
    return recent


def load_initiatives(first_day: date, last_day: date) -> list[OpenInitiative]:
    """Initiatives not done, due from first_day to last_day, on live work.

    Each is for its assignee and the owner of its key result (one person
    holding both is told once); with neither, for the objective's owner.
    """
    rows = (
        Initiative.objects.exclude(state=InitiativeState.DONE)
        .filter(due_date__gte=first_day, due_date__lte=last_day)
        .exclude(due_date=None)
        .filter(objective__archived=False)
        .exclude(objective__cycle__state=CycleState.CLOSED)
        .filter(Q(key_result__isnull=True) | Q(key_result__archived=False))
        .values_list(
            "pk",
            "title",
            "due_date",
            "objective_id",
            "objective__title",
            "objective__team_id",
            "objective__visibility",
            "assignee_id",
            "key_result__owner_id",
            "objective__owner_id",
        )
        .order_by("pk")
    )
    found = []
    for pk, title, due, objective, objective_title, team, vis, *people in rows:
        assignee, key_result_owner, objective_owner = people
        assert due is not None  # filtered on above
        recipients = {p for p in (assignee, key_result_owner) if p is not None}
        found.append(
            OpenInitiative(
                pk,
                title,
                due,
                objective,
                objective_title,
                team,
                vis,
                recipients or {objective_owner},
            )
        )
    return found


def group_by_team(people: dict[int, Person]) -> dict[int, list[Person]]:
    teams: dict[int, list[Person]] = defaultdict(list)
    for person in people.values():
        for team_id in person.team_ids:
            teams[team_id].append(person)
    return teams
