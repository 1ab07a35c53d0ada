"""Tests for `creditokr demo_workspace`, run by `make run` every time.

The clock is frozen: on 4 Dec 2026 the demo organisation (fiscal year from
April, Europe/London) is in FY2027, 1 Apr 2026 - 31 Mar 2027, Q3. On
2 Apr 2027 FY2028 is one day old.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from creditokr.accounts.models import Membership, Organisation, Role, Team, User
from creditokr.collab.models import Comment, Notification, NotificationKind
from creditokr.core.management.commands.demo_workspace import (
    DEMO_PASSWORD,
    history_dates,
)
from creditokr.cycles.models import CadenceEvent, Cycle
from creditokr.okrs.access import actor_for, visible_objectives
from creditokr.okrs.board import objective_cards
from creditokr.okrs.models import CheckIn, Initiative, KeyResult, Objective, Visibility
from creditokr.okrs.progress import Status

DECEMBER = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
NEW_YEAR = datetime(2027, 4, 2, 12, 0, tzinfo=UTC)

TEMPLATE_TITLES = {
    "Reduce Credit Delinquency Rate by 15% by Q4",
    "Improve Credit Approval Process Efficiency",
    "Enhance Debt Recovery Rate by 10%",
}


def demo(*args: str) -> str:
    out = StringIO()
    call_command("demo_workspace", *args, stdout=out)
    return out.getvalue()


def everything() -> dict[str, int]:
    models: list[Any] = [
        Organisation,
        Team,
        User,
        Membership,
        Cycle,
        CadenceEvent,
        Objective,
        KeyResult,
        CheckIn,
        Initiative,
    ]
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture
def in_december(db):
    with time_machine.travel(DECEMBER, tick=False):
        yield


@pytest.mark.usefixtures("in_december")
def test_it_creates_a_marked_demo_organisation_with_teams():
    output = demo()

    organisation = Organisation.get()
    assert organisation.name == "Northwind Trade Credit (demo)"
    assert organisation.is_demo
    assert organisation.fiscal_year_start_month == 4
    assert organisation.time_zone == "Europe/London"
    assert set(Team.objects.values_list("name", flat=True)) == {
        "Credit Risk",
        "Collections",
        "Sales",
        "Finance",
        "Senior Management",
    }
    assert "demo password demo-okr-2026" in output


@pytest.mark.usefixtures("in_december")
def test_the_demo_people_have_distinct_roles_and_the_demo_password():
    demo()

    roles = {
        (m.user.username, m.team.name): m.role
        for m in Membership.objects.select_related("user", "team")
    }
    assert roles[("credit.manager", "Credit Risk")] == "manager"
    assert roles[("credit.manager", "Collections")] == "manager"
    assert roles[("credit.analyst", "Credit Risk")] == "member"
    assert roles[("collector", "Collections")] == "member"
    assert roles[("sales.rep", "Sales")] == "member"
    assert roles[("finance.analyst", "Finance")] == "member"
    assert roles[("senior.manager", "Credit Risk")] == "viewer"
    assert roles[("senior.manager", "Collections")] == "viewer"
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert all(user.check_password(DEMO_PASSWORD) for user in User.objects.all())
    assert all(user.get_full_name() for user in User.objects.all())
    zones = dict(User.objects.values_list("username", "time_zone"))
    assert zones["sales.rep"] == "America/New_York"
    assert zones["finance.analyst"] == "Asia/Singapore"
    assert zones["credit.manager"] == ""


@pytest.mark.usefixtures("in_december")
def test_the_senior_manager_only_reads():
    demo()

    senior = User.objects.get(username="senior.manager")
    roles = set(senior.memberships.values_list("role", flat=True))
    assert roles == {Role.VIEWER}
    assert not senior.is_staff
    assert not senior.is_superuser
    assert not actor_for(senior).is_contributor
    assert senior.memberships.filter(team__name="Senior Management").exists()


@pytest.mark.usefixtures("in_december")
def test_the_demo_has_a_conversation_with_a_mention():
    demo()

    comments = list(Comment.objects.select_related("author", "key_result"))
    assert [c.author.username for c in comments] == [
        "senior.manager",
        "credit.analyst",
    ]
    keys = {c.key_result.template_key for c in comments if c.key_result}
    assert keys == {"faster-credit-approval"}
    assert all(c.key_result for c in comments)
    analyst = User.objects.get(username="credit.analyst")
    assert list(comments[0].mentions.all()) == [analyst]
    assert '<span class="mention"' in comments[0].body_html
    assert (
        Notification.objects.filter(
            recipient=analyst, kind=NotificationKind.MENTION
        ).count()
        == 1
    )


@pytest.mark.usefixtures("in_december")
def test_it_creates_the_current_fiscal_year_and_its_quarters():
    demo()

    year = Cycle.objects.get(kind="year")
    assert (year.name, year.start_date, year.end_date) == (
        "FY2027",
        date(2026, 4, 1),
        date(2027, 3, 31),
    )
    quarters = Cycle.objects.filter(kind="quarter").order_by("start_date")
    assert [q.name for q in quarters] == [f"FY2027 Q{n}" for n in range(1, 5)]
    assert quarters[2].state == "active"
    assert CadenceEvent.objects.filter(cycle__in=quarters).count() == 12


@pytest.mark.usefixtures("in_december")
def test_the_template_is_loaded_into_the_fiscal_year_with_baselines():
    demo()

    year = Cycle.objects.get(kind="year")
    from_template = Objective.objects.filter(cycle=year).exclude(template_key="")
    assert set(from_template.values_list("title", flat=True)) == TEMPLATE_TITLES
    # The template's 11, and the DSO key result the demo's invoices feed.
    assert KeyResult.objects.filter(objective__in=from_template).count() == 12
    extra = KeyResult.objects.filter(objective__in=from_template, template_key="")
    assert [kr.title for kr in extra] == [
        "Keep days sales outstanding at or below 40 days"
    ]
    assert set(from_template.values_list("owner__username", flat=True)) == {
        "credit.manager"
    }
    owners = dict(
        KeyResult.objects.filter(objective__in=from_template).values_list(
            "template_key", "owner__username"
        )
    )
    assert owners["delinquency-rate"] == "credit.analyst"
    assert owners["recovery-rate"] == "collector"
    # The delinquency baseline comes from the demo's card data
    # (tests/creditdata/test_demo_data.py); the recovery rate's is given.
    recovery = KeyResult.objects.get(template_key="recovery-rate")
    assert recovery.start_value == Decimal(22)
    assert recovery.target_value == Decimal("24.2")


@pytest.mark.usefixtures("in_december")
def test_initiatives_are_assigned_with_priorities_and_states():
    demo()

    initiatives = Initiative.objects.select_related("assignee")
    assert initiatives.count() >= 5
    assert all(i.assignee is not None for i in initiatives)
    assert {i.priority for i in initiatives} == {"high", "medium", "low"}
    assert {"done", "in_progress", "blocked", "not_started"} <= {
        i.state for i in initiatives
    }


@pytest.mark.usefixtures("in_december")
def test_the_dashboard_shows_a_variety_of_statuses():
    demo()

    organisation = Organisation.get()
    actor = actor_for(User.objects.get(username="admin"))
    year = Cycle.objects.get(kind="year")
    cards = objective_cards(
        actor, Objective.objects.filter(cycle=year), organisation, date(2026, 12, 4)
    )

    statuses = {card.objective.title: card.status for card in cards}
    assert statuses == {
        # Fed by real card data, whose 30+ rate rose from 10.7% to 23.8%:
        # a move away from the target is no progress at all.
        "Reduce Credit Delinquency Rate by 15% by Q4": Status.OFF_TRACK,
        "Improve Credit Approval Process Efficiency": Status.IN_PROGRESS,
        "Enhance Debt Recovery Rate by 10%": Status.AT_RISK,
        "Refresh the collections call scripts": Status.COMPLETE,
    }


@pytest.mark.usefixtures("in_december")
def test_the_team_only_objective_is_hidden_outside_collections():
    demo()

    private = Objective.objects.get(visibility=Visibility.TEAM)
    assert private.team.name == "Collections"
    sales = actor_for(User.objects.get(username="sales.rep"))
    collector = actor_for(User.objects.get(username="collector"))
    assert private not in visible_objectives(sales)
    assert private in visible_objectives(collector)


@pytest.mark.usefixtures("in_december")
def test_running_it_again_creates_nothing_more():
    demo()
    before = everything()

    output = demo()

    assert everything() == before
    assert "Demo workspace already present." in output


@pytest.mark.parametrize(
    ("now", "fiscal_year", "today"),
    [
        (DECEMBER, "FY2027", date(2026, 12, 4)),
        (NEW_YEAR, "FY2028", date(2027, 4, 2)),
        # 23:30 UTC is already 00:30 on 1 April in London (BST): the first
        # day of FY2028 there, so the history is squeezed into one day.
        (datetime(2027, 3, 31, 23, 30, tzinfo=UTC), "FY2028", date(2027, 4, 1)),
        # The last day of a fiscal year, with every quarter but one over.
        (datetime(2027, 3, 31, 12, 0, tzinfo=UTC), "FY2027", date(2027, 3, 31)),
    ],
)
def test_check_ins_lie_between_the_cycle_start_and_today(db, now, fiscal_year, today):
    with time_machine.travel(now, tick=False):
        demo()

    year = Cycle.objects.get(kind="year")
    assert year.name == fiscal_year
    check_ins = CheckIn.objects.select_related("key_result__objective__cycle")
    assert check_ins.count() >= 8
    for check_in in check_ins:
        cycle = check_in.key_result.objective.cycle
        assert cycle.start_date <= check_in.as_of <= today
    assert max(c.as_of for c in check_ins) == today


@pytest.mark.usefixtures("in_december")
def test_it_leaves_an_installation_with_its_own_objectives_alone(public_objective):
    before = everything()

    output = demo()

    assert "no demo workspace was created" in output
    assert everything() == before
    organisation = Organisation.get()
    assert organisation.name == "Acme Credit"
    assert not organisation.is_demo
    assert demo("--sign-in-help") == "\n"


@pytest.mark.usefixtures("in_december")
def test_sign_in_help_lists_the_demo_people():
    assert demo("--sign-in-help") == "\n"
    demo()

    help_text = demo("--sign-in-help")

    assert "demo password demo-okr-2026" in help_text
    for username in ("admin", "credit.manager", "senior.manager"):
        assert f"    {username} " in help_text


def test_history_dates_are_squeezed_into_a_young_cycle():
    assert history_dates(date(2026, 4, 1), date(2026, 12, 4)) == [
        date(2026, 10, 23),
        date(2026, 11, 6),
        date(2026, 11, 20),
        date(2026, 12, 4),
    ]
    assert history_dates(date(2027, 4, 1), date(2027, 4, 7)) == [
        date(2027, 4, 1),
        date(2027, 4, 3),
        date(2027, 4, 5),
        date(2027, 4, 7),
    ]
    assert history_dates(date(2027, 4, 1), date(2027, 4, 1)) == [date(2027, 4, 1)]


@pytest.mark.usefixtures("in_december")
def test_it_leaves_an_installation_with_only_its_own_people_alone():
    User.objects.create_superuser("it.admin", "it@example.test", "pw")

    output = demo()

    assert "no demo workspace was created" in output
    assert not Organisation.get().is_demo
    assert Objective.objects.count() == 0
