"""The dashboard runs the same number of queries for 10 objectives or 500."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from creditokr.okrs.models import CheckIn, KeyResult, Objective, Visibility

pytestmark = pytest.mark.django_db

# Organisation, session, user, memberships, cycles (5); objectives, their
# key results and latest check-ins (3); the same three for the aligned
# children, and one empty look for grandchildren (4); visible parents (1);
# team and owner choices (2); the unread count on the notification bell (1);
# the newest change the viewer may see, where live updates start (1).
DASHBOARD_QUERIES = 17


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2026, 11, 15, 12, 0, tzinfo=UTC), tick=False):
        yield


def build(count, quarter, teams, people):
    """`count` objectives in tens: one parent/child pair and one team-only.

    Each objective has three key results with two check-ins each.
    """
    team_list = [teams["credit_risk"], teams["collections"]]
    owners = [people["member"], people["manager"]]
    objectives = Objective.objects.bulk_create(
        Objective(
            cycle=quarter,
            team=team_list[i % 2],
            owner=owners[i % 2],
            title=f"Objective {i}",
            visibility=Visibility.TEAM if i % 10 == 2 else Visibility.ORGANISATION,
        )
        for i in range(count)
    )
    for parent, child in zip(objectives[0::10], objectives[1::10], strict=True):
        child.parent = parent
    Objective.objects.bulk_update(objectives[1::10], ["parent"])

    key_results = KeyResult.objects.bulk_create(
        KeyResult(
            objective=objective,
            owner=objective.owner,
            title=f"{objective.title} KR {n}",
            kind="decrease",
            unit="percent",
            start_value=Decimal("8.0"),
            target_value=Decimal("6.8"),
        )
        for objective in objectives
        for n in range(3)
    )
    CheckIn.objects.bulk_create(
        CheckIn(
            key_result=key_result,
            value=value,
            author=key_result.owner,
            as_of=as_of,
        )
        for key_result in key_results
        for as_of, value in (
            (date(2026, 11, 1), Decimal("7.8")),
            (date(2026, 11, 14), Decimal("7.4")),
        )
    )


def count_dashboard_queries(client, quarter):
    url = reverse("dashboard")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"cycle": quarter.pk})
    assert response.status_code == 200
    return len(queries), response


def test_the_dashboard_query_count_does_not_grow_with_objectives(
    client, people, teams, quarter
):
    client.force_login(people["viewer"])
    build(10, quarter, teams, people)
    client.get(reverse("dashboard"), {"cycle": quarter.pk})  # remember the cycle

    small, small_page = count_dashboard_queries(client, quarter)
    build(490, quarter, teams, people)
    large, large_page = count_dashboard_queries(client, quarter)

    assert small_page.context["board"].total == 10
    assert large_page.context["board"].total == 500
    assert small == large
    assert small == DASHBOARD_QUERIES


def test_an_outsider_runs_as_many_queries_and_sees_no_team_only_objective(
    client, people, teams, quarter
):
    client.force_login(people["outsider"])
    build(20, quarter, teams, people)
    client.get(reverse("dashboard"), {"cycle": quarter.pk})

    queries, response = count_dashboard_queries(client, quarter)

    assert queries == DASHBOARD_QUERIES
    assert response.context["board"].total == 18
    assert "Objective 2<" not in response.content.decode()
    assert "Objective 12<" not in response.content.decode()
