"""A team's page: who carries what, counted as the viewer may see it.

FY2027 Q3 runs 1 Oct - 31 Dec 2026 and today is 15 Nov 2026. Credit Risk
has an organisation-wide objective P and a team-only objective H:

    P  KR1 member, due 1 Nov, no check-in (overdue: off track)
       KR2 member, due at the cycle end, 7.4 on 14 Nov (8 -> 6.8: 50% done
           against 49% of the time: on track)
       KR3 manager
       KR4 outsider (in Sales; may take part in an organisation-wide one)
       I1  member, in progress, due 10 Nov (overdue)
       I2  member, done (not counted)
       I3  nobody
    H  KR5 member, due 1 Nov, no check-in (overdue: off track)
       I4  manager

Not counted anywhere: an archived objective, last quarter's (closed) one,
and a Sales objective, each with a key result the member owns.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from creditokr.accounts.models import Role
from creditokr.cycles.models import CycleState
from creditokr.cycles.services import ensure_cycle
from creditokr.okrs.models import Initiative, InitiativeState, Visibility
from creditokr.okrs.progress import Status
from creditokr.okrs.services import record_check_in
from tests.conftest import TODAY, make_key_result, make_objective, make_user


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2026, 11, 15, 12, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def work(people, teams, quarter, organisation, calendar):
    member, manager = people["member"], people["manager"]
    credit_risk = teams["credit_risk"]
    public = make_objective(quarter, credit_risk, manager, title="P objective")
    make_key_result(public, member, title="KR1", due_date=date(2026, 11, 1))
    kr2 = make_key_result(public, member, title="KR2")
    record_check_in(member, kr2, as_of=date(2026, 11, 14), value=Decimal("7.4"))
    make_key_result(public, manager, title="KR3")
    make_key_result(public, people["outsider"], title="KR4")
    Initiative.objects.create(
        objective=public,
        title="I1",
        assignee=member,
        state=InitiativeState.IN_PROGRESS,
        due_date=date(2026, 11, 10),
    )
    Initiative.objects.create(
        objective=public,
        title="Finished initiative two",
        assignee=member,
        state=InitiativeState.DONE,
    )
    Initiative.objects.create(objective=public, title="I3")

    hidden = make_objective(
        quarter,
        credit_risk,
        manager,
        title="H objective",
        visibility=Visibility.TEAM,
    )
    make_key_result(
        hidden, member, title="Hidden key result five", due_date=date(2026, 11, 1)
    )
    Initiative.objects.create(
        objective=hidden, title="Hidden initiative four", assignee=manager
    )

    archived = make_objective(quarter, credit_risk, manager, archived=True)
    make_key_result(archived, member, title="Archived KR")
    closed = ensure_cycle(organisation, calendar.quarter_period(2027, 2), TODAY)
    closed.state = CycleState.CLOSED
    closed.save()
    make_key_result(make_objective(closed, credit_risk, manager), member, title="Old")
    sales = make_objective(quarter, teams["sales"], people["outsider"])
    make_key_result(sales, member, title="Sales KR")


def summary(response):
    """(person, key results, open initiatives, overdue) per row, in order."""
    return [
        (
            str(load.person) if load.person else None,
            len(load.key_results),
            len(load.initiatives),
            load.overdue,
        )
        for load in response.context["loads"]
    ]


def team_page(client, person):
    client.force_login(person)
    return client.get(reverse("team_detail", args=["credit-risk"]))


def test_someone_in_the_team_sees_everyone_with_team_only_work_counted(
    client, people, work
):
    response = team_page(client, people["manager"])

    assert response.status_code == 200
    assert summary(response) == [
        ("Admin", 0, 0, 0),
        ("Manager", 1, 1, 0),
        ("Member", 3, 1, 3),
        ("Viewer", 0, 0, 0),
        ("Outsider", 1, 0, 0),
        (None, 0, 1, 0),
    ]
    member = response.context["loads"][2]
    assert member.statuses == [(Status.ON_TRACK, 1), (Status.OFF_TRACK, 2)]
    assert member.role == "Member"
    assert "Hidden key result five" in response.text
    assert "H objective" in response.text


def test_an_outsider_counts_only_what_the_organisation_sees(client, people, work):
    response = team_page(client, people["outsider"])

    assert summary(response) == [
        ("Admin", 0, 0, 0),
        ("Manager", 1, 0, 0),
        ("Member", 2, 1, 2),
        ("Viewer", 0, 0, 0),
        ("Outsider", 1, 0, 0),
        (None, 0, 1, 0),
    ]
    member = response.context["loads"][2]
    assert member.statuses == [(Status.ON_TRACK, 1), (Status.OFF_TRACK, 1)]
    for hidden in ("Hidden key result five", "Hidden initiative four", "H objective"):
        assert hidden not in response.text


def test_the_page_lists_what_each_person_carries_with_overdue_marks(
    client, people, work
):
    response = team_page(client, people["viewer"])
    text = response.text

    member_section = text[text.index(f'id="person-{people["member"].pk}"') :]
    member_section = member_section[: member_section.index("</section>")]
    assert member_section.count("Overdue") == 3  # KR1, KR5, I1
    assert "Finished initiative two" not in text
    for missing in ("Archived KR", "Old", "Sales KR"):
        assert f">{missing}<" not in text


def test_the_team_list_links_to_each_team(client, people, teams):
    client.force_login(people["viewer"])

    response = client.get(reverse("team_list"))

    for team in teams.values():
        assert reverse("team_detail", args=[team.slug]) in response.text
    assert "Your team" in response.text
    assert reverse("team_list") in client.get(reverse("dashboard")).text


def test_an_unknown_team_is_not_found(client, people):
    client.force_login(people["member"])

    response = client.get(reverse("team_detail", args=["no-such-team"]))

    assert response.status_code == 404


def test_managers_see_bulk_assign_and_invite_links_others_do_not(client, people, teams):
    work_url = reverse("team_work", args=["credit-risk"])
    invite_url = reverse("invitation_list")

    as_manager = team_page(client, people["manager"]).text
    as_member = team_page(client, people["member"]).text

    assert work_url in as_manager
    assert invite_url in as_manager
    assert work_url not in as_member
    assert invite_url not in as_member


def count_queries(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return len(queries)


def test_the_team_page_runs_the_same_queries_however_much_it_shows(
    client, people, teams, quarter
):
    url = reverse("team_detail", args=["credit-risk"])
    client.force_login(people["manager"])

    def add_work(n):
        for i in range(n):
            person = make_user(f"analyst{n}x{i}", teams["credit_risk"], Role.MEMBER)
            objective = make_objective(quarter, teams["credit_risk"], person)
            key_result = make_key_result(objective, person, title=f"KR {n}.{i}")
            record_check_in(
                person, key_result, as_of=date(2026, 11, 14), value=Decimal(7)
            )
            Initiative.objects.create(
                objective=objective,
                key_result=key_result,
                title="Work",
                assignee=person,
            )

    add_work(1)
    small = count_queries(client, url)
    add_work(5)
    large = count_queries(client, url)

    assert small == large
