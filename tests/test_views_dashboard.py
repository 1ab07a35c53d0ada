"""The dashboard: what each persona sees, filters, htmx, the cycle choice."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from creditokr.okrs.models import Visibility
from creditokr.okrs.services import record_check_in
from tests.conftest import make_key_result, make_objective

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOON, tick=False):
        yield


@pytest.fixture
def board(quarter, teams, people, public_key_result, private_key_result):
    """A public and a team-only Credit Risk objective, and one in Sales."""
    sales = make_objective(
        quarter,
        teams["sales"],
        people["outsider"],
        title="Agree credit terms before quotes",
    )
    make_key_result(
        sales,
        people["outsider"],
        title="Quotes with agreed terms",
        kind="increase",
        unit="percent",
        start_value=Decimal(40),
        target_value=Decimal(90),
    )
    return {
        "public": public_key_result.objective,
        "private": private_key_result.objective,
        "sales": sales,
    }


def get_board(client, user, **params):
    client.force_login(user)
    return client.get(reverse("dashboard"), params)


def test_it_shows_visible_objectives_with_key_results_and_status_words(
    client, people, board, quarter
):
    response = get_board(client, people["member"], cycle=quarter.pk)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Reduce 30+ delinquency" in html
    assert "30+ delinquency rate" in html
    assert "8% → 6.8%" not in html  # the board shows current → target
    assert "— → 6.8%" in html
    assert "Not started" in html
    assert "Agree credit terms before quotes" in html
    assert "Tighten limits for the watch list" in html


def test_it_hides_a_team_only_objective_from_an_outsider(
    client, people, board, quarter
):
    response = get_board(client, people["outsider"], cycle=quarter.pk)

    html = response.content.decode()
    assert "Tighten limits for the watch list" not in html
    assert "Watch-list limit reviews" not in html
    assert "Reduce 30+ delinquency" in html
    counts = {c.status.value: c.count for c in response.context["board"].counts}
    assert sum(counts.values()) == 2
    assert response.context["board"].total == 2


def test_a_team_only_objective_is_shown_to_its_viewer_and_member(
    client, people, board, quarter
):
    for persona in ("viewer", "member"):
        response = get_board(client, people[persona], cycle=quarter.pk)

        assert "Tighten limits for the watch list" in response.content.decode()
        assert response.context["board"].total == 3


def test_team_and_owner_filters_leave_hidden_objectives_out(
    client, people, teams, board, quarter
):
    credit_risk = teams["credit_risk"].pk
    by_team = get_board(client, people["outsider"], cycle=quarter.pk, team=credit_risk)
    by_owner = get_board(
        client, people["outsider"], cycle=quarter.pk, owner=people["member"].pk
    )

    for response in (by_team, by_owner):
        html = response.content.decode()
        assert "Reduce 30+ delinquency" in html
        assert "Tighten limits for the watch list" not in html
        assert "Agree credit terms before quotes" not in html
        assert response.context["board"].total == 1


def test_the_owner_choices_only_name_owners_of_visible_objectives(
    client, people, teams, quarter
):
    make_objective(
        quarter,
        teams["credit_risk"],
        people["manager"],
        title="Secret",
        visibility=Visibility.TEAM,
    )

    response = get_board(client, people["outsider"], cycle=quarter.pk)

    assert people["manager"] not in list(response.context["owners"])
    assert teams["credit_risk"] not in list(response.context["teams"])


def test_the_status_filter_matches_the_shown_status(client, people, board, quarter):
    board["sales"].status_override = "at_risk"
    board["sales"].status_override_reason = "Sales pushes back"
    board["sales"].save()

    at_risk = get_board(client, people["member"], cycle=quarter.pk, status="at_risk")
    not_started = get_board(
        client, people["member"], cycle=quarter.pk, status="not_started"
    )

    assert "Agree credit terms before quotes" in at_risk.content.decode()
    assert "Reduce 30+ delinquency" not in at_risk.content.decode()
    assert "Agree credit terms before quotes" not in not_started.content.decode()
    assert "Reduce 30+ delinquency" in not_started.content.decode()


def test_an_overridden_status_is_marked_with_the_computed_one(
    client, people, board, quarter
):
    board["public"].status_override = "on_track"
    board["public"].status_override_reason = "Recovery plan agreed"
    board["public"].save()

    html = get_board(client, people["member"], cycle=quarter.pk).content.decode()

    assert "overridden · computed: Not started" in html


def test_a_template_starting_label_says_what_it_is(client, people, board, quarter):
    board["public"].starting_status = "at_risk"
    board["public"].save()

    html = get_board(client, people["member"], cycle=quarter.pk).content.decode()

    assert "starting label · no check-ins yet" in html


def test_a_check_in_changes_the_progress_and_status_shown(
    client, people, board, quarter, public_key_result
):
    record_check_in(
        people["member"],
        public_key_result,
        as_of=date(2026, 11, 14),
        value=Decimal("7.4"),
    )

    html = get_board(client, people["viewer"], cycle=quarter.pk).content.decode()

    assert "7.4% → 6.8%" in html
    assert "50.0%" in html
    assert "On track" in html


def test_a_value_moving_the_wrong_way_is_marked_worsening(
    client, people, board, quarter, public_key_result
):
    record_check_in(
        people["member"],
        public_key_result,
        as_of=date(2026, 11, 14),
        value=Decimal("8.5"),
    )

    html = get_board(client, people["member"], cycle=quarter.pk).content.decode()

    # Delinquency should fall; it rose, so the arrow points up.
    assert "↑ worsening" in html
    assert "8.5% → 6.8%" in html


def test_an_increase_falling_below_its_start_points_down(
    client, people, board, quarter, public_objective
):
    recovery = make_key_result(
        public_objective,
        people["member"],
        title="Recovery rate",
        kind="increase",
        start_value=Decimal(22),
        target_value=Decimal("24.2"),
    )
    record_check_in(
        people["member"], recovery, as_of=date(2026, 11, 14), value=Decimal(21)
    )

    html = get_board(client, people["member"], cycle=quarter.pk).content.decode()

    assert "↓ worsening" in html
    assert "↑ worsening" not in html


def test_an_htmx_request_gets_only_the_board(client, people, board, quarter):
    client.force_login(people["member"])

    response = client.get(
        reverse("dashboard"), {"cycle": quarter.pk}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert "<html" not in html
    assert html.startswith('<div id="board"')
    assert "Reduce 30+ delinquency" in html
    assert "HX-Request" in response["Vary"]


def test_a_boosted_htmx_request_gets_the_full_page(client, people, board, quarter):
    client.force_login(people["member"])

    response = client.get(
        reverse("dashboard"),
        {"cycle": quarter.pk},
        headers={"HX-Request": "true", "HX-Boosted": "true"},
    )

    assert "<html" in response.content.decode()


def test_the_cycle_switcher_remembers_the_choice(
    client, people, board, quarter, fiscal_year, teams
):
    make_objective(fiscal_year, teams["collections"], people["manager"], title="Yearly")
    get_board(client, people["member"], cycle=fiscal_year.pk)

    response = client.get(reverse("dashboard"))

    assert response.context["cycle"] == fiscal_year
    assert "Yearly" in response.content.decode()
    assert "Reduce 30+ delinquency" not in response.content.decode()


def test_without_a_choice_it_opens_the_running_cycle_with_most_objectives(
    client, people, board, quarter, fiscal_year
):
    response = get_board(client, people["member"])

    assert response.context["cycle"] == quarter
    assert "FY2027 Q3 (Active)" in response.content.decode()


def test_archived_objectives_are_left_out_unless_asked_for(
    client, people, board, quarter
):
    board["public"].archived = True
    board["public"].save()

    plain = get_board(client, people["member"], cycle=quarter.pk)
    with_archived = get_board(client, people["member"], cycle=quarter.pk, archived="1")

    assert "Reduce 30+ delinquency" not in plain.content.decode()
    assert plain.context["board"].total == 2
    assert "Reduce 30+ delinquency" in with_archived.content.decode()
    assert with_archived.context["board"].archived == [board["public"]]


def test_a_child_names_its_parent_only_when_the_parent_is_visible(
    client, people, teams, quarter
):
    hidden_parent = make_objective(
        quarter,
        teams["credit_risk"],
        people["manager"],
        title="Hidden parent",
        visibility=Visibility.TEAM,
    )
    make_objective(
        quarter, teams["sales"], people["outsider"], title="Child", parent=hidden_parent
    )

    outsider = get_board(client, people["outsider"], cycle=quarter.pk)
    member = get_board(client, people["member"], cycle=quarter.pk)

    assert "Child" in outsider.content.decode()
    assert "Aligned to" not in outsider.content.decode()
    assert "Hidden parent" not in outsider.content.decode()
    assert "Aligned to <a" in member.content.decode()


def test_an_empty_cycle_invites_contributors_to_create_an_objective(
    client, people, quarter
):
    response = get_board(client, people["member"], cycle=quarter.pk)

    html = response.content.decode()
    assert "No objectives in FY2027 Q3 yet." in html


def test_a_demo_workspace_says_so(client, people, organisation, quarter):
    organisation.is_demo = True
    organisation.save()

    html = get_board(client, people["viewer"], cycle=quarter.pk).content.decode()

    assert "Demo workspace — sample data" in html


def test_signed_out_visitors_are_sent_to_sign_in(client, organisation):
    response = client.get(reverse("dashboard"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "query",
    ["?team=99999999999999999999", "?owner=9223372036854775808", "?cycle=-1"],
)
def test_ids_out_of_range_in_filters_are_ignored(client, people, board, query):
    client.force_login(people["member"])

    response = client.get(reverse("dashboard") + query)

    assert response.status_code == 200


def test_a_limit_reads_as_a_limit_not_a_target(
    client, people, board, quarter, public_objective
):
    compliance = make_key_result(
        public_objective,
        people["member"],
        title="Policy compliance",
        kind="stay_above",
        start_value=None,
        target_value=Decimal(95),
    )
    record_check_in(
        people["member"], compliance, as_of=date(2026, 11, 14), value=Decimal("95.6")
    )
    client.force_login(people["member"])

    board_html = get_board(client, people["member"], cycle=quarter.pk).content.decode()
    page = client.get(reverse("objective_detail", args=[public_objective.pk]))

    assert "95.6% ≥ 95%" in board_html
    assert "Stay at or above 95%" in page.content.decode()


def test_a_key_result_weighing_nothing_says_it_is_not_counted(
    client, people, board, quarter, public_objective
):
    make_key_result(
        public_objective, people["member"], title="Trial metric", weight=Decimal(0)
    )

    html = get_board(client, people["member"], cycle=quarter.pk).content.decode()

    assert "Trial metric" in html
    assert "not counted</span>" in html
