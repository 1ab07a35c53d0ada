"""One objective's page: figures, history, overrides and who may change it."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from creditokr.okrs.models import Initiative
from creditokr.okrs.services import record_check_in
from tests.conftest import make_key_result, make_objective

pytestmark = pytest.mark.django_db

AFTERNOON = datetime(2026, 11, 15, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(AFTERNOON, tick=False):
        yield


def open_page(client, user, objective, headers=None):
    client.force_login(user)
    return client.get(reverse("objective_detail", args=[objective.pk]), headers=headers)


def test_it_shows_the_figures_of_a_checked_in_key_result(
    client, people, public_key_result
):
    record_check_in(
        people["member"],
        public_key_result,
        as_of=date(2026, 11, 14),
        value=Decimal("7.4"),
    )

    response = open_page(client, people["viewer"], public_key_result.objective)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Decrease to target" in html
    assert "8% → 6.8%" in html
    assert "7.4%" in html
    assert "as of 14 Nov 2026" in html
    assert 'aria-valuenow="50.0"' in html
    assert "50.0%" in html
    assert "On track" in html
    assert "49.5%" in html  # pace: 45 of 91 days into the quarter


def test_a_relative_target_shows_its_definition(client, people, public_objective):
    make_key_result(
        public_objective,
        people["member"],
        target_mode="relative_percent",
        target_change=Decimal("-15"),
    )

    html = open_page(client, people["member"], public_objective).content.decode()

    assert "\u221215% of baseline 8% → 6.8%" in html


def test_history_is_listed_newest_as_of_first_with_back_dated_marked(
    client, people, public_key_result
):
    for day, value in ((14, "7.6"), (15, "7.4"), (2, "7.9")):
        record_check_in(
            people["member"],
            public_key_result,
            as_of=date(2026, 11, day),
            value=Decimal(value),
            note=f"Reading for the {day}th",
        )

    response = open_page(client, people["member"], public_key_result.objective)

    html = response.content.decode()
    newest, middle, oldest = (
        html.index(f"Reading for the {day}th") for day in (15, 14, 2)
    )
    assert newest < middle < oldest
    history = response.context["key_results"][0].history
    assert [row.back_dated for row in history] == [False, True, True]
    assert html.count(">back-dated</span>") == 2


def test_recorded_times_are_shown_in_the_viewers_time_zone(
    client, people, public_key_result
):
    record_check_in(
        people["member"],
        public_key_result,
        as_of=date(2026, 11, 15),
        value=Decimal("7.4"),
        confidence="at_risk",
    )
    viewer = people["viewer"]
    viewer.time_zone = "America/New_York"
    viewer.save()

    in_new_york = open_page(client, viewer, public_key_result.objective)
    in_london = open_page(client, people["member"], public_key_result.objective)

    assert "15 Nov 2026, 10:00" in in_new_york.content.decode()
    assert "15 Nov 2026, 15:00" in in_london.content.decode()
    assert "At risk" in in_new_york.content.decode()


def test_an_override_shows_both_statuses_and_the_reason(
    client, people, public_key_result
):
    objective = public_key_result.objective
    objective.status_override = "at_risk"
    objective.status_override_reason = "A large debtor filed for insolvency."
    objective.save()

    html = open_page(client, people["viewer"], objective).content.decode()

    assert "Status set by hand" in html
    assert "status--at_risk" in html
    assert "computed from the key results" in html
    assert "status--not_started" in html
    assert "A large debtor filed for insolvency." in html
    assert "a manager of Credit Risk can change or clear" in html


def test_a_starting_status_is_labelled_until_the_first_check_in(
    client, people, public_key_result
):
    objective = public_key_result.objective
    objective.starting_status = "in_progress"
    objective.save()

    before = open_page(client, people["viewer"], objective).content.decode()
    record_check_in(
        people["member"], public_key_result, as_of=date(2026, 11, 15), value=Decimal(8)
    )
    after = open_page(client, people["viewer"], objective).content.decode()

    assert "starting status from the template" in before
    assert "starting status from the template" not in after


def test_a_hidden_objective_is_not_found_for_an_outsider(
    client, people, private_key_result
):
    objective = private_key_result.objective

    page = open_page(client, people["outsider"], objective)
    history = client.get(
        reverse("key_result_history", args=[private_key_result.pk]),
        headers={"HX-Request": "true"},
    )

    assert page.status_code == 404
    assert history.status_code == 404
    assert open_page(client, people["viewer"], objective).status_code == 200


def test_a_hidden_child_is_left_out_and_a_visible_one_listed(
    client, people, teams, quarter, public_objective
):
    make_objective(
        quarter,
        teams["credit_risk"],
        people["member"],
        title="Hidden child",
        visibility="team",
        parent=public_objective,
    )
    make_objective(
        quarter,
        teams["sales"],
        people["outsider"],
        title="Open child",
        parent=public_objective,
    )

    html = open_page(client, people["outsider"], public_objective).content.decode()

    assert "Open child" in html
    assert "Hidden child" not in html


def test_viewers_get_no_change_links(client, people, public_key_result):
    Initiative.objects.create(
        objective=public_key_result.objective,
        key_result=public_key_result,
        title="Bi-weekly reminders",
        assignee=people["member"],
    )

    response = open_page(client, people["viewer"], public_key_result.objective)

    assert set(response.context["links"].values()) == {""}
    row = response.context["key_results"][0]
    assert (row.edit_url, row.archive_url, row.check_in_url) == ("", "", "")
    assert response.context["initiatives"][0].edit_url == ""
    assert "Check in</a>" not in response.content.decode()


def test_managers_get_every_change_link(client, people, public_key_result):
    objective = public_key_result.objective

    response = open_page(client, people["manager"], objective)

    links = response.context["links"]
    assert links["edit"] == reverse("objective_edit", args=[objective.pk])
    assert links["add_key_result"] == reverse("key_result_create", args=[objective.pk])
    row = response.context["key_results"][0]
    assert row.check_in_url == reverse("check_in_create", args=[public_key_result.pk])
    assert "Check in</a>" in response.content.decode()


def test_the_history_partial_is_served_to_htmx_and_redirects_otherwise(
    client, people, public_key_result
):
    record_check_in(
        people["member"], public_key_result, as_of=date(2026, 11, 15), value=Decimal(7)
    )
    client.force_login(people["viewer"])
    url = reverse("key_result_history", args=[public_key_result.pk])

    partial = client.get(url, headers={"HX-Request": "true"})
    plain = client.get(url)

    assert "<html" not in partial.content.decode()
    assert "7%" in partial.content.decode()
    assert plain.status_code == 302
    assert plain["Location"].endswith(f"#kr-{public_key_result.pk}")


def test_an_htmx_request_gets_only_the_objective(client, people, public_objective):
    response = open_page(
        client, people["member"], public_objective, {"HX-Request": "true"}
    )

    assert "<html" not in response.content.decode()
    assert 'id="objective"' in response.content.decode()


def count_page_queries(client, objective):
    url = reverse("objective_detail", args=[objective.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return len(queries)


def build_objective(quarter, teams, people, key_results):
    """An objective with an aligned child, initiatives and check-ins."""
    objective = make_objective(quarter, teams["credit_risk"], people["member"])
    make_objective(quarter, teams["sales"], people["outsider"], parent=objective)
    for n in range(key_results):
        key_result = make_key_result(objective, people["member"], title=f"KR {n}")
        Initiative.objects.create(
            objective=objective, key_result=key_result, title=f"Task {n}"
        )
        for day in (3, 9, 14):
            record_check_in(
                people["member"],
                key_result,
                as_of=date(2026, 11, day),
                value=Decimal(7),
            )
    return objective


def test_the_page_runs_the_same_queries_however_much_it_shows(
    client, people, quarter, teams
):
    client.force_login(people["manager"])

    small = count_page_queries(client, build_objective(quarter, teams, people, 1))
    large = count_page_queries(client, build_objective(quarter, teams, people, 6))

    # Session, organisation, user, memberships (4); the objective (1); its
    # card: objective, key results, latest check-ins, children, their key
    # results, grandchildren (6); the history (1); the initiatives (1); the
    # data sources the viewer may see, for provenance (1); the unread count
    # on the notification bell and whether the viewer follows it (2); the
    # objective it was copied from and its copies (1); the newest change
    # the viewer may see, where live updates start (1).
    assert small == large == 18
