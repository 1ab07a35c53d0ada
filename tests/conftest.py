"""Shared personas and a small credit-team world for the tests.

Personas (healthchecks style): admin, manager and member of Credit Risk,
a viewer (senior management, read-only on Credit Risk) and an outsider
(a member of Sales only). The organisation's fiscal year starts in April
and it works in Europe/London; FY2027 Q3 runs 1 Oct - 31 Dec 2026.
"""

from datetime import date
from decimal import Decimal

import pytest

from creditokr.accounts.models import Membership, Organisation, Role, Team, User
from creditokr.cycles.fiscal import FiscalCalendar, YearLabel
from creditokr.cycles.models import Cycle
from creditokr.cycles.services import ensure_cycle
from creditokr.okrs.models import KeyResult, Objective, Visibility

TODAY = date(2026, 11, 15)


@pytest.fixture(autouse=True)
def _private_credit_data(settings, tmp_path):
    """Imported credit data goes to the test's own folder, never var/."""
    settings.CREDIT_DATA_DIR = tmp_path / "credit-data"
    # SQLite data sources may be opened from the test's folder only.
    settings.CREDIT_DATA_SQLITE_DIR = str(tmp_path)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


@pytest.fixture
def organisation(db) -> Organisation:
    organisation = Organisation.get()
    organisation.name = "Acme Credit"
    organisation.fiscal_year_start_month = 4
    organisation.time_zone = "Europe/London"
    organisation.save()
    return organisation


@pytest.fixture
def teams(db) -> dict[str, Team]:
    names = {
        "credit_risk": "Credit Risk",
        "collections": "Collections",
        "sales": "Sales",
    }
    return {
        key: Team.objects.create(name=name, slug=key.replace("_", "-"))
        for key, name in names.items()
    }


def make_user(
    username: str, team: Team | None = None, role: Role | None = None
) -> User:
    user = User.objects.create_user(
        username=username,
        password="pw",
        first_name=username.capitalize(),
        email=f"{username}@example.test",
    )
    if team is not None and role is not None:
        Membership.objects.create(user=user, team=team, role=role)
    return user


@pytest.fixture
def people(organisation, teams) -> dict[str, User]:
    credit_risk = teams["credit_risk"]
    return {
        "admin": make_user("admin", credit_risk, Role.ADMIN),
        "manager": make_user("manager", credit_risk, Role.MANAGER),
        "member": make_user("member", credit_risk, Role.MEMBER),
        "viewer": make_user("viewer", credit_risk, Role.VIEWER),
        "outsider": make_user("outsider", teams["sales"], Role.MEMBER),
    }


@pytest.fixture
def calendar() -> FiscalCalendar:
    return FiscalCalendar(4, YearLabel.END)


@pytest.fixture
def quarter(organisation, calendar) -> Cycle:
    return ensure_cycle(organisation, calendar.quarter_period(2027, 3), TODAY)


@pytest.fixture
def fiscal_year(organisation, calendar) -> Cycle:
    return ensure_cycle(organisation, calendar.year_period(2027), TODAY)


def make_objective(cycle: Cycle, team: Team, owner: User, **fields) -> Objective:
    fields.setdefault("title", "Reduce 30+ delinquency")
    return Objective.objects.create(cycle=cycle, team=team, owner=owner, **fields)


def make_key_result(objective: Objective, owner: User, **fields) -> KeyResult:
    defaults = {
        "title": "30+ delinquency rate",
        "kind": "decrease",
        "unit": "percent",
        "start_value": Decimal("8.0"),
        "target_value": Decimal("6.8"),
    }
    return KeyResult.objects.create(
        objective=objective, owner=owner, **(defaults | fields)
    )


@pytest.fixture
def public_objective(quarter, teams, people) -> Objective:
    return make_objective(quarter, teams["credit_risk"], people["member"])


@pytest.fixture
def private_objective(quarter, teams, people) -> Objective:
    return make_objective(
        quarter,
        teams["credit_risk"],
        people["member"],
        title="Tighten limits for the watch list",
        visibility=Visibility.TEAM,
    )


@pytest.fixture
def public_key_result(public_objective, people) -> KeyResult:
    return make_key_result(public_objective, people["member"])


@pytest.fixture
def private_key_result(private_objective, people) -> KeyResult:
    return make_key_result(
        private_objective,
        people["member"],
        title="Watch-list limit reviews",
        kind="increase",
        unit="count",
        start_value=Decimal(0),
        target_value=Decimal(40),
    )
