"""My work: what someone owns, what is assigned to them, what they owe."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from creditokr.cycles.models import CycleState
from creditokr.cycles.services import ensure_cycle
from creditokr.okrs.models import Initiative, Visibility
from creditokr.okrs.services import record_check_in
from tests.conftest import TODAY, make_key_result, make_objective

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2026, 11, 15, 12, 0, tzinfo=UTC), tick=False):
        yield


def check_in(user, key_result, day, value):
    return record_check_in(
        user, key_result, as_of=date(2026, 11, day), value=Decimal(value)
    )


@pytest.fixture
def work(
    people,
    teams,
    quarter,
    organisation,
    calendar,
    public_key_result,
    private_key_result,
):
    member = people["member"]
    objective = public_key_result.objective
    fresh = make_key_result(objective, member, title="Payment reminders sent")
    done = make_key_result(objective, member, title="Already there")
    make_key_result(objective, member, title="Dropped", archived=True)
    check_in(member, public_key_result, 2, "7.9")
    check_in(member, fresh, 10, "7.5")
    check_in(member, done, 1, "6.5")

    closed = ensure_cycle(organisation, calendar.quarter_period(2027, 2), TODAY)
    closed.state = CycleState.CLOSED
    closed.save()
    old = make_objective(closed, teams["credit_risk"], member, title="Last quarter")
    make_key_result(old, member, title="Old key result")

    hidden = make_objective(
        quarter,
        teams["sales"],
        people["outsider"],
        title="Sales secret",
        visibility=Visibility.TEAM,
    )
    hidden_kr = make_key_result(hidden, member, title="Hidden key result")
    Initiative.objects.create(
        objective=hidden, key_result=hidden_kr, title="Hidden task", assignee=member
    )
    Initiative.objects.create(
        objective=objective,
        key_result=public_key_result,
        title="Bi-weekly reminders",
        assignee=member,
        priority="high",
        due_date=date(2026, 12, 1),
    )
    return {"stale": public_key_result, "never": private_key_result, "fresh": fresh}


def open_my_work(client, user):
    client.force_login(user)
    return client.get(reverse("my_work"))


def test_it_lists_what_the_member_owns_and_is_assigned(client, people, work):
    response = open_my_work(client, people["member"])

    html = response.content.decode()
    assert response.status_code == 200
    titles = [card.objective.title for card in response.context["objectives"]]
    assert titles == ["Reduce 30+ delinquency", "Tighten limits for the watch list"]
    owned = {card.key_result.title for card in response.context["key_results"]}
    assert owned == {
        "30+ delinquency rate",
        "Payment reminders sent",
        "Already there",
        "Watch-list limit reviews",
    }
    assert "Bi-weekly reminders" in html
    assert "1 Dec 2026" in html
    assert "High" in html


def test_check_ins_owed_are_the_stale_and_missing_ones_oldest_first(
    client, people, work
):
    response = open_my_work(client, people["member"])

    owed = response.context["owed"]
    assert [item.card.key_result for item in owed] == [work["never"], work["stale"]]
    assert [item.days_since for item in owed] == [None, 13]
    assert "13 days ago" in response.content.decode()


def test_nothing_hidden_or_closed_or_archived_is_listed(client, people, work):
    html = open_my_work(client, people["member"]).content.decode()

    for title in ("Sales secret", "Hidden key result", "Hidden task"):
        assert title not in html
    assert "Last quarter" not in html
    assert "Old key result" not in html
    assert "Dropped" not in html


def test_someone_with_nothing_to_do_is_told_so(client, people, work):
    html = open_my_work(client, people["viewer"]).content.decode()

    assert "You own no key results in the open cycles" in html
    assert "You are up to date" not in html
    assert "You own no objectives in the open cycles." in html


def test_an_htmx_request_gets_only_the_list(client, people, work):
    client.force_login(people["member"])

    response = client.get(reverse("my_work"), headers={"HX-Request": "true"})

    assert "<html" not in response.content.decode()
    assert 'id="my-work"' in response.content.decode()


def test_the_page_runs_the_same_queries_however_much_is_listed(
    client, people, teams, quarter, work
):
    client.force_login(people["member"])
    url = reverse("my_work")
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        client.get(url)

    for n in range(5):
        objective = make_objective(quarter, teams["collections"], people["member"])
        key_result = make_key_result(objective, people["member"], title=f"KR {n}")
        check_in(people["member"], key_result, 1, "7.7")
        Initiative.objects.create(
            objective=objective,
            key_result=key_result,
            title=f"T {n}",
            assignee=people["member"],
        )
    with CaptureQueriesContext(connection) as after:
        client.get(url)

    # Session, organisation, user, memberships (4); open cycles (1); owned
    # objectives, their key results, latest check-ins, children (4); owned
    # key results and their latest check-ins (2); initiatives (1); the
    # unread count on the notification bell (1); the newest change the
    # viewer may see, where live updates start (1).
    assert len(before) == len(after) == 14
