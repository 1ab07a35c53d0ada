"""`creditokr demo_workspace`: a sample credit team to try CreditOKR with.

`make run` calls this every time. In an empty installation it creates the
demo: an organisation marked as a demo, its teams and people, the current
fiscal year with its quarters, the credit-management template with a few
weeks of check-ins, and some initiatives. Later runs find the demo and do
nothing, and an installation with data of its own is never touched.

`--sign-in-help` prints who to sign in as, and only in the demo.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils.text import slugify

from creditokr.accounts.models import Membership, Organisation, Role, Team, User
from creditokr.creditdata.demo import add_demo_data
from creditokr.cycles.fiscal import local_today
from creditokr.cycles.models import Cycle
from creditokr.cycles.services import ensure_cycle
from creditokr.okrs import services
from creditokr.okrs.models import (
    Confidence,
    Initiative,
    InitiativeState,
    KeyResult,
    Objective,
    Priority,
    Unit,
    Visibility,
)
from creditokr.okrs.okr_template import load_template
from creditokr.okrs.progress import Kind, expected_progress

logger = logging.getLogger(__name__)

# Shown to everyone on purpose: it only ever protects sample data.
DEMO_PASSWORD = "demo-okr-2026"  # noqa: S105
ORGANISATION_NAME = "Northwind Trade Credit (demo)"
TEMPLATE = "credit-management"
BASELINES = {"delinquency-rate": Decimal("6.8"), "recovery-rate": Decimal("22")}

TEAMS = {
    "Credit Risk": "Scoring, limits and credit approvals.",
    "Collections": "Reminders, payment arrangements and recoveries.",
    "Sales": "Account managers who bring in new customers.",
    "Finance": "Controlling, budgets and the receivables ledger.",
    "Senior Management": "Reads the dashboard and the weekly report.",
}


@dataclass(frozen=True)
class DemoPerson:
    username: str
    first_name: str
    last_name: str
    role: str
    teams: tuple[tuple[str, Role], ...] = ()
    time_zone: str = ""
    is_admin: bool = False


PEOPLE = (
    DemoPerson("admin", "Alex", "Morgan", "administrator", is_admin=True),
    DemoPerson(
        "credit.manager",
        "Helen",
        "Okafor",
        "credit manager, manages Credit Risk and Collections",
        (("Credit Risk", Role.MANAGER), ("Collections", Role.MANAGER)),
    ),
    DemoPerson(
        "credit.analyst",
        "Tom",
        "Brennan",
        "credit analyst in Credit Risk",
        (("Credit Risk", Role.MEMBER),),
    ),
    DemoPerson(
        "collector",
        "Priya",
        "Shah",
        "collector in Collections",
        (("Collections", Role.MEMBER),),
    ),
    DemoPerson(
        "sales.rep",
        "Daniel",
        "Reyes",
        "sales contributor, works in New York time",
        (("Sales", Role.MEMBER),),
        time_zone="America/New_York",
    ),
    DemoPerson(
        "finance.analyst",
        "Mei Lin",
        "Tan",
        "finance contributor, works in Singapore time",
        (("Finance", Role.MEMBER),),
        time_zone="Asia/Singapore",
    ),
    DemoPerson(
        "senior.manager",
        "Richard",
        "Hale",
        "senior manager, read-only everywhere",
        (
            ("Senior Management", Role.VIEWER),
            ("Credit Risk", Role.VIEWER),
            ("Collections", Role.VIEWER),
        ),
    ),
)

# (key result key, title, assignee, priority, state until its milestone is
# done, note) for the initiatives behind the template's key results.
INITIATIVES = (
    (
        "enhanced-scoring-models",
        "Back-test the new scorecard on last year's applications",
        "credit.analyst",
        Priority.HIGH,
        InitiativeState.IN_PROGRESS,
        "",
    ),
    (
        "fortnightly-payment-reminders",
        "Move the reminder run to a 14-day schedule",
        "collector",
        Priority.MEDIUM,
        InitiativeState.DONE,
        "",
    ),
    (
        "collections-negotiation-training",
        "Book a negotiation trainer for two half-day sessions",
        "credit.manager",
        Priority.MEDIUM,
        InitiativeState.NOT_STARTED,
        "",
    ),
    (
        "faster-credit-approval",
        "Ask Sales which credit checks hold up their deals",
        "sales.rep",
        Priority.MEDIUM,
        InitiativeState.IN_PROGRESS,
        "",
    ),
    (
        "credit-bureau-integration",
        "Agree data-sharing terms with the credit bureau",
        "credit.manager",
        Priority.HIGH,
        InitiativeState.IN_PROGRESS,
        "",
    ),
    (
        "self-service-payment-portal",
        "Choose a payment-plan provider for the portal",
        "finance.analyst",
        Priority.HIGH,
        InitiativeState.IN_PROGRESS,
        "",
    ),
    (
        "collection-agency-partnerships",
        "Compare the fees of three collection agencies",
        "collector",
        Priority.HIGH,
        InitiativeState.BLOCKED,
        "Waiting for Finance to approve the budget for agency fees.",
    ),
    (
        "weekly-recovery-reporting",
        "Draft the weekly recovery report for senior management",
        "collector",
        Priority.LOW,
        InitiativeState.NOT_STARTED,
        "",
    ),
)

# Milestones reported as under way (not done) while they are not yet due.
MILESTONES_UNDER_WAY = {
    "credit-bureau-integration": "Bureau contract signed; a test feed is running.",
    "self-service-payment-portal": "Provider chosen; payment-plan screens in build.",
    "collection-agency-partnerships": "Two agencies shortlisted; fees under review.",
}


class Command(BaseCommand):
    help = "Create the demo workspace in an empty installation (once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--sign-in-help",
            action="store_true",
            help="Only print the demo accounts to sign in with, if the demo exists.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["sign_in_help"]:
            self.stdout.write("\n".join(sign_in_help()))
            return

        # One log line per sample check-in would bury the sign-in help.
        services_log = logging.getLogger("creditokr.okrs.services")
        with transaction.atomic(), _quieter(services_log):
            reason = reason_to_leave_alone()
            if reason:
                self.stdout.write(reason)
                return
            year = create_demo()

        self.stdout.write(
            f'Created the demo workspace "{ORGANISATION_NAME}" in {year}. '
            "It holds sample data only. Every demo account signs in with the "
            f"demo password {DEMO_PASSWORD}."
        )


@contextmanager
def _quieter(logger: logging.Logger) -> Iterator[None]:
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def reason_to_leave_alone() -> str:
    """Why the installation must not get the demo, or "" if it may."""
    organisation = Organisation.objects.order_by("pk").first()
    if organisation is not None and organisation.is_demo:
        return "Demo workspace already present."
    if Objective.objects.exists() or User.objects.exists() or Team.objects.exists():
        return (
            "Note: this installation already has its own objectives, people "
            "or teams, so no demo workspace was created."
        )
    return ""


def sign_in_help() -> list[str]:
    organisation = Organisation.objects.order_by("pk").first()
    if organisation is None or not organisation.is_demo:
        return []
    present = set(
        User.objects.filter(username__in=[p.username for p in PEOPLE]).values_list(
            "username", flat=True
        )
    )
    if not present:
        return []

    lines = [
        "  This is a demo workspace with sample data. Sign in as any of these",
        f"  demo people with the shared demo password {DEMO_PASSWORD}:",
    ]
    for person in PEOPLE:
        if person.username in present:
            name = f"{person.first_name} {person.last_name}"
            lines.append(f"    {person.username:<16} {name}, {person.role}")
    return lines


def create_demo() -> Cycle:
    organisation = _organisation()
    today = local_today(organisation.zone)
    teams = {
        name: Team.objects.create(name=name, slug=slugify(name), description=text)
        for name, text in TEAMS.items()
    }
    people = {person.username: _create_person(person, teams) for person in PEOPLE}
    year = _cycles(organisation, teams["Credit Risk"], today)

    load_template(TEMPLATE, year, people["credit.manager"], baselines=BASELINES)
    key_results = _share_out_key_results(year, teams, people)
    _add_initiatives(key_results, people, today)
    _add_check_ins(key_results, year, today)
    add_demo_data(
        year, teams["Credit Risk"], people["credit.manager"], key_results, today
    )
    _add_team_only_objective(year, teams["Collections"], people, today)
    _add_conversation(key_results, people)
    logger.info("demo workspace created in cycle %s", year.pk)
    return year


def _organisation() -> Organisation:
    organisation = Organisation.get()
    organisation.name = ORGANISATION_NAME
    organisation.is_demo = True
    organisation.fiscal_year_start_month = 4
    organisation.time_zone = "Europe/London"
    organisation.save()
    return organisation


def _create_person(person: DemoPerson, teams: dict[str, Team]) -> User:
    user = User(
        username=person.username,
        first_name=person.first_name,
        last_name=person.last_name,
        email=f"{person.username}@northwind.example",
        time_zone=person.time_zone,
        is_staff=person.is_admin,
        is_superuser=person.is_admin,
    )
    user.set_password(DEMO_PASSWORD)
    user.save()
    for team_name, role in person.teams:
        Membership.objects.create(user=user, team=teams[team_name], role=role)
    return user


def _cycles(organisation: Organisation, attendees: Team, today: date) -> Cycle:
    """The fiscal year containing today, and its four quarters."""
    calendar = organisation.calendar
    period = calendar.year_containing(today)
    for quarter in calendar.quarters_of_year(period.fiscal_year):
        ensure_cycle(organisation, quarter, today, attendees)
    return ensure_cycle(organisation, period, today)


def _share_out_key_results(
    year: Cycle, teams: dict[str, Team], people: dict[str, User]
) -> dict[str, KeyResult]:
    """Give the key results to the people doing the work.

    The analyst owns Credit Risk's, the collector Collections'; the
    objectives stay with the credit manager.
    """
    key_results = KeyResult.objects.filter(objective__cycle=year)
    key_results.filter(objective__team=teams["Credit Risk"]).update(
        owner=people["credit.analyst"]
    )
    key_results.filter(objective__team=teams["Collections"]).update(
        owner=people["collector"]
    )
    loaded = key_results.select_related("objective__cycle", "owner")
    return {kr.template_key: kr for kr in loaded}


def _milestone_done(key_result: KeyResult, today: date) -> bool:
    """In the demo, a milestone whose due date has passed was delivered."""
    return today > key_result.effective_due_date


def _add_initiatives(
    key_results: dict[str, KeyResult], people: dict[str, User], today: date
) -> None:
    for position, row in enumerate(INITIATIVES):
        kr_key, title, assignee, priority, state, note = row
        key_result = key_results[kr_key]
        if key_result.kind == Kind.MILESTONE and _milestone_done(key_result, today):
            state = InitiativeState.DONE
        Initiative.objects.create(
            objective=key_result.objective,
            key_result=key_result,
            title=title,
            description=note,
            assignee=people[assignee],
            priority=priority,
            state=state,
            due_date=key_result.due_date,
            position=position,
        )


def history_dates(
    start: date, today: date, count: int = 4, every_days: int = 14
) -> list[date]:
    """Up to `count` dates `every_days` apart, ending today.

    When less time has passed since `start`, the dates are squeezed closer
    together so that none falls before it.
    """
    room = max((today - start).days, 0)
    step = min(every_days, room // (count - 1))
    return sorted({today - timedelta(days=step * back) for back in range(count)})


@dataclass
class _History:
    """Back-dated readings of the demo's key results, owner as author."""

    key_results: dict[str, KeyResult]
    year: Cycle
    today: date

    def __post_init__(self) -> None:
        self.days = history_dates(self.year.start_date, self.today)

    def on_pace(self, key: str, lead: str, places: str = "0.01") -> list[Decimal]:
        """Readings `lead` (a share of the year) ahead of a steady pace."""
        key_result = self.key_results[key]
        start, end = self.year.start_date, self.year.end_date
        readings = []
        for day in self.days:
            elapsed = expected_progress(start, end, day) / 100 + Decimal(lead)
            share = min(max(elapsed, Decimal(0)), Decimal(1))
            readings.append(_toward(key_result, share, places))
        return readings

    def record(self, key: str, values: list[Decimal], **fields: Any) -> None:
        """Check in the last of `values`, one per history date."""
        key_result = self.key_results[key]
        for day, value in zip(self.days, values[-len(self.days) :], strict=True):
            services.record_check_in(
                key_result.owner,
                key_result,
                as_of=day,
                value=value,
                today=self.today,
                **fields,
            )


def _add_check_ins(key_results: dict[str, KeyResult], year: Cycle, today: date) -> None:
    history = _History(key_results, year, today)
    # On pace, a little ahead: the delinquency rate and approval times.
    # The delinquency rate comes from the card statements in the demo's
    # credit data (creditokr.creditdata.demo), not from typed-in values.
    history.record(
        "faster-credit-approval",
        history.on_pace("faster-credit-approval", "0.05", "0.1"),
    )
    # Done early: reminders now go out every 14 days.
    history.record("fortnightly-payment-reminders", _decimals("30", "30", "21", "14"))
    # Still above the floor, but drifting towards it.
    history.record(
        "credit-policy-compliance",
        _decimals("97.2", "96.8", "96.1", "95.6"),
        note="Two branches still use the old checklist.",
    )
    # Behind pace: recoveries stalled, so the owner flags the risk.
    history.record(
        "recovery-rate",
        history.on_pace("recovery-rate", "-0.15"),
        confidence=Confidence.AT_RISK,
        note="Two large debtors went into insolvency; their recoveries are on hold.",
    )
    _add_milestone_check_ins(key_results, history.days[-1], today)


def _add_milestone_check_ins(
    key_results: dict[str, KeyResult], latest: date, today: date
) -> None:
    for key_result in key_results.values():
        if key_result.kind != Kind.MILESTONE:
            continue
        if _milestone_done(key_result, today):
            services.record_check_in(
                key_result.owner,
                key_result,
                as_of=key_result.effective_due_date,
                done=True,
                today=today,
            )
        elif key_result.template_key in MILESTONES_UNDER_WAY:
            services.record_check_in(
                key_result.owner,
                key_result,
                as_of=latest,
                done=False,
                note=MILESTONES_UNDER_WAY[key_result.template_key],
                today=today,
            )


def _toward(key_result: KeyResult, share: Decimal, places: str = "0.01") -> Decimal:
    """The value `share` of the way from the start to the target."""
    start, target = key_result.start_value, key_result.target_value
    assert start is not None
    assert target is not None
    value = start + (target - start) * share
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _decimals(*values: str) -> list[Decimal]:
    return [Decimal(value) for value in values]


def _add_team_only_objective(
    year: Cycle, collections: Team, people: dict[str, User], today: date
) -> None:
    """A finished objective only the Collections team (and admins) can see."""
    objective = Objective.objects.create(
        cycle=year,
        team=collections,
        owner=people["credit.manager"],
        title="Refresh the collections call scripts",
        description=(
            "Team only: people outside Collections do not see this objective, "
            "its key results or its progress anywhere."
        ),
        visibility=Visibility.TEAM,
    )
    collector = people["collector"]
    script = KeyResult.objects.create(
        objective=objective,
        title="Rewrite the first-reminder call script",
        owner=collector,
        kind=Kind.MILESTONE,
    )
    coded = KeyResult(
        objective=objective,
        title="Disputed invoices logged with a reason code",
        owner=collector,
        kind=Kind.INCREASE,
        unit=Unit.PERCENT,
        start_value=Decimal(40),
        target_value=Decimal(90),
        position=1,
    )
    services.apply_target_definition(coded)
    coded.save()

    services.record_check_in(collector, script, as_of=today, done=True, today=today)
    services.record_check_in(
        collector, coded, as_of=today, value=Decimal(92), today=today
    )


def _add_conversation(
    key_results: dict[str, KeyResult], people: dict[str, User]
) -> None:
    """A question from senior management and the analyst's answer, with a
    mention, so the discussion, notifications and history have something."""
    from creditokr.collab.access import Thread
    from creditokr.collab.services import follow, post_comment

    key_result = key_results["faster-credit-approval"]
    thread = Thread(key_result.objective, key_result)
    post_comment(
        people["senior.manager"],
        thread,
        "Are we counting **business days** here? @credit.analyst, can you confirm?",
    )
    post_comment(
        people["credit.analyst"],
        thread,
        "Yes: business days from a complete application to the decision, "
        "weekends and bank holidays excluded.",
    )
    follow(people["senior.manager"], key_result.objective)
