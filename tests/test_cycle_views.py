"""Cycle pages: listing, creating, moving along, cadence and templates."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse

from creditokr.accounts.models import Role
from creditokr.cycles import services
from creditokr.cycles.models import CadenceEvent, CadenceKind, Cycle, CycleState
from creditokr.cycles.services import ensure_cycle
from creditokr.okrs.models import KeyResult, Objective
from tests.conftest import TODAY, make_user

HTMX = {"HTTP_HX_REQUEST": "true"}
HTMX_HEADERS = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2026, 11, 15, 12, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def fourth_quarter(organisation, calendar) -> Cycle:
    return ensure_cycle(organisation, calendar.quarter_period(2027, 4), TODAY)


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# Reading


def test_everyone_sees_the_cycles_with_counts_of_what_they_may_see(
    client, people, quarter, public_objective, private_objective
):
    client.force_login(people["outsider"])

    response = client.get(reverse("cycle_list"))

    [listed] = response.context["cycles"]
    assert listed == quarter
    assert listed.objective_count == 1


def test_the_cycle_page_shows_the_cadence_in_the_organisation_and_viewer_zones(
    client, people, quarter
):
    viewer = people["viewer"]
    viewer.time_zone = "America/New_York"
    viewer.save()
    client.force_login(viewer)

    response = client.get(reverse("cycle_detail", args=[quarter.pk]))

    page = response.content.decode()
    assert "Thu 1 Oct 2026, 10:00 BST (Europe/London)" in page
    assert "Your time: Thu 1 Oct 2026, 05:00 EDT (America/New_York)" in page
    assert "2 h" in page


# Creating


def test_an_admin_creates_a_quarter_from_the_fiscal_calendar(client, people):
    client.force_login(people["admin"])

    response = client.post(
        reverse("cycle_create"), {"fiscal_year": 2027, "period": "4"}
    )

    cycle = Cycle.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("cycle_detail", args=[cycle.pk])
    assert cycle.name == "FY2027 Q4"
    assert (cycle.start_date, cycle.end_date) == (date(2027, 1, 1), date(2027, 3, 31))
    assert cycle.cadence_events.count() == 3


def test_an_admin_creates_a_whole_fiscal_year(client, people):
    client.force_login(people["admin"])

    client.post(reverse("cycle_create"), {"fiscal_year": 2028, "period": "year"})

    cycle = Cycle.objects.get()
    assert cycle.name == "FY2028"
    assert (cycle.start_date, cycle.end_date) == (date(2027, 4, 1), date(2028, 3, 31))
    assert cycle.cadence_events.count() == 0


def test_creating_a_cycle_that_exists_says_so_and_adds_nothing(client, people, quarter):
    client.force_login(people["admin"])

    response = client.post(
        reverse("cycle_create"), {"fiscal_year": 2027, "period": "3"}
    )

    assert Cycle.objects.count() == 1
    assert said(response) == ["FY2027 Q3 already exists (1 Oct 2026 to 31 Dec 2026)."]


def test_a_fiscal_year_outside_the_offered_ones_is_refused(client, people):
    client.force_login(people["admin"])

    response = client.post(
        reverse("cycle_create"), {"fiscal_year": 1999, "period": "1"}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["fiscal_year"] == [
        "Pick a fiscal year from the list."
    ]
    assert not Cycle.objects.exists()


def test_a_manager_cannot_create_cycles(client, people):
    client.force_login(people["manager"])

    response = client.post(
        reverse("cycle_create"), {"fiscal_year": 2027, "period": "4"}
    )

    assert response.status_code == 403
    assert not Cycle.objects.exists()


# Next cycle


def test_the_cycle_after_the_fourth_quarter_is_the_next_fiscal_years_first(
    client, people, fourth_quarter
):
    client.force_login(people["manager"])

    response = client.post(reverse("cycle_next", args=[fourth_quarter.pk]))

    following = Cycle.objects.get(fiscal_year=2028, quarter=1)
    assert response.url == reverse("cycle_detail", args=[following.pk])
    assert following.start_date == date(2027, 4, 1)
    assert following.end_date == date(2027, 6, 30)
    events = {event.kind: event for event in following.cadence_events.all()}
    assert set(events) == set(CadenceKind)
    assert events[CadenceKind.PLANNING].starts_at == datetime(
        2027, 4, 1, 9, 0, tzinfo=UTC
    )


def test_opening_the_next_cycle_twice_makes_it_once(client, people, fourth_quarter):
    client.force_login(people["admin"])
    url = reverse("cycle_next", args=[fourth_quarter.pk])

    client.post(url)
    second = client.post(url)

    assert Cycle.objects.filter(fiscal_year=2028).count() == 1
    assert said(second)[-1] == "FY2028 Q1 already exists (1 Apr 2027 to 30 Jun 2027)."


def test_a_member_cannot_open_the_next_cycle(client, people, fourth_quarter):
    client.force_login(people["member"])

    response = client.post(reverse("cycle_next", args=[fourth_quarter.pk]))

    assert response.status_code == 403
    assert Cycle.objects.count() == 1


def test_the_next_cycle_needs_a_post(client, people, fourth_quarter):
    client.force_login(people["admin"])

    assert (
        client.get(reverse("cycle_next", args=[fourth_quarter.pk])).status_code == 405
    )


# State


@pytest.fixture
def closed_quarter(quarter):
    quarter.state = CycleState.CLOSED
    quarter.save()
    return quarter


def move(client, cycle, state, *, confirm=True, headers=None):
    data = {"state": state} | ({"confirm": "yes"} if confirm else {})
    return client.post(reverse("cycle_state", args=[cycle.pk]), data, headers=headers)


def test_a_manager_moves_a_cycle_one_step_on(client, people, fourth_quarter):
    client.force_login(people["manager"])

    response = move(client, fourth_quarter, CycleState.ACTIVE)

    fourth_quarter.refresh_from_db()
    assert response.status_code == 302
    assert fourth_quarter.state == CycleState.ACTIVE
    assert said(response) == ["FY2027 Q4 is now active."]


def test_a_move_is_confirmed_first_and_changes_nothing_until_then(
    client, people, fourth_quarter
):
    client.force_login(people["manager"])

    response = move(client, fourth_quarter, CycleState.ACTIVE, confirm=False)

    fourth_quarter.refresh_from_db()
    assert response.status_code == 200
    assert fourth_quarter.state == CycleState.PLANNING
    assert '<input type="hidden" name="confirm" value="yes">' in response.text
    assert '<input type="hidden" name="state" value="active">' in response.text
    assert "Move FY2027 Q4 to active" in response.text


def test_closing_is_confirmed_with_what_closing_means(client, people, quarter):
    quarter.state = CycleState.IN_REVIEW
    quarter.save()
    client.force_login(people["manager"])

    response = move(client, quarter, CycleState.CLOSED, confirm=False)

    quarter.refresh_from_db()
    assert quarter.state == CycleState.IN_REVIEW
    page = response.text
    assert "Close FY2027 Q3?" in page
    assert "No new objectives can be added to it or moved into it." in page
    assert "Templates can no longer be loaded into it." in page
    assert "Its meetings can no longer be rescheduled." in page
    assert "Late check-ins are still allowed" in page
    assert "An administrator can reopen it." in page


def test_the_cycle_page_asks_before_moving_over_htmx(client, people, quarter):
    client.force_login(people["manager"])

    page = client.get(reverse("cycle_detail", args=[quarter.pk])).text

    assert 'hx-confirm="Move FY2027 Q3 to in review?"' in page
    assert """hx-vals='{"confirm": "yes"}'""" in page
    assert 'name="confirm"' not in page


def test_a_confirmed_move_over_htmx_goes_to_the_cycle_page(client, people, quarter):
    client.force_login(people["manager"])

    response = move(client, quarter, CycleState.IN_REVIEW, headers=HTMX_HEADERS)

    quarter.refresh_from_db()
    assert response["HX-Redirect"] == reverse("cycle_detail", args=[quarter.pk])
    assert quarter.state == CycleState.IN_REVIEW


def test_a_refused_move_over_htmx_says_why_on_the_cycle_page(client, people, quarter):
    client.force_login(people["manager"])

    response = move(client, quarter, CycleState.CLOSED, headers=HTMX_HEADERS)

    quarter.refresh_from_db()
    assert response["HX-Redirect"] == reverse("cycle_detail", args=[quarter.pk])
    assert said(response) == [
        "FY2027 Q3 is active; it can only move to in review next."
    ]
    assert quarter.state == CycleState.ACTIVE


def test_moving_to_the_state_it_is_in_says_so_and_changes_nothing(
    client, people, quarter
):
    client.force_login(people["manager"])

    response = move(client, quarter, CycleState.ACTIVE)

    assert response.status_code == 302
    assert said(response) == ["FY2027 Q3 is already active."]


# Stepping back


@pytest.mark.parametrize(
    ("now", "back", "message"),
    [
        (
            CycleState.CLOSED,
            CycleState.IN_REVIEW,
            "Reopened FY2027 Q3; it is in review again.",
        ),
        (CycleState.IN_REVIEW, CycleState.ACTIVE, "FY2027 Q3 is active again."),
        (CycleState.ACTIVE, CycleState.PLANNING, "FY2027 Q3 is planning again."),
    ],
)
def test_an_admin_steps_a_cycle_back_one_state(
    client, people, quarter, now, back, message
):
    quarter.state = now
    quarter.save()
    client.force_login(people["admin"])

    response = move(client, quarter, back)

    quarter.refresh_from_db()
    assert response.status_code == 302
    assert quarter.state == back
    assert said(response) == [message]


def test_a_closed_cycle_offers_reopen_to_administrators_only(
    client, people, closed_quarter
):
    url = reverse("cycle_detail", args=[closed_quarter.pk])
    client.force_login(people["admin"])
    admins_page = client.get(url).text
    client.force_login(people["manager"])
    managers_page = client.get(url).text

    assert ">Reopen</button>" in admins_page
    assert 'hx-confirm="Reopen FY2027 Q3? It goes back to in review."' in admins_page
    assert ">Reopen</button>" not in managers_page
    assert 'value="in_review"' not in managers_page


def test_reopening_is_confirmed_first(client, people, closed_quarter):
    client.force_login(people["admin"])

    response = move(client, closed_quarter, CycleState.IN_REVIEW, confirm=False)

    closed_quarter.refresh_from_db()
    assert closed_quarter.state == CycleState.CLOSED
    assert "Reopen FY2027 Q3?" in response.text
    assert "Objectives can be added to it or moved into it again" in response.text


def test_a_manager_cannot_step_a_cycle_back(client, people, closed_quarter):
    client.force_login(people["manager"])

    response = move(client, closed_quarter, CycleState.IN_REVIEW)

    closed_quarter.refresh_from_db()
    assert response.status_code == 403
    assert closed_quarter.state == CycleState.CLOSED


def test_stepping_back_more_than_one_state_is_refused(client, people, closed_quarter):
    client.force_login(people["admin"])

    response = move(client, closed_quarter, CycleState.ACTIVE)

    closed_quarter.refresh_from_db()
    assert response.status_code == 400
    assert "FY2027 Q3 is closed; it can only go back to in review." in response.text
    assert closed_quarter.state == CycleState.CLOSED


def test_reopening_twice_steps_back_once(closed_quarter):
    stale = Cycle.objects.get(pk=closed_quarter.pk)
    services.reopen_cycle(closed_quarter, CycleState.IN_REVIEW)

    with pytest.raises(ValidationError) as refused:
        services.reopen_cycle(stale, CycleState.IN_REVIEW)

    closed_quarter.refresh_from_db()
    assert closed_quarter.state == CycleState.IN_REVIEW
    assert refused.value.messages == [
        "Someone else changed the state of FY2027 Q3; reload the page."
    ]


def test_a_planning_cycle_has_no_earlier_state(client, people, fourth_quarter):
    client.force_login(people["admin"])

    page = client.get(reverse("cycle_detail", args=[fourth_quarter.pk])).text
    with pytest.raises(ValidationError) as refused:
        services.reopen_cycle(fourth_quarter, CycleState.PLANNING)

    assert "Back to" not in page
    assert refused.value.messages == [
        "FY2027 Q4 is planning; there is no earlier state."
    ]


def test_the_close_button_says_what_closing_means(client, people, quarter):
    quarter.state = CycleState.IN_REVIEW
    quarter.save()
    client.force_login(people["manager"])

    page = client.get(reverse("cycle_detail", args=[quarter.pk])).text

    assert ">Close the cycle</button>" in page
    assert (
        'hx-confirm="Close FY2027 Q3? No new objectives, template loading or '
        'rescheduling after this; late check-ins are still allowed."'
    ) in page


def test_a_reopened_cycle_takes_new_objectives_again(
    client, people, teams, closed_quarter
):
    client.force_login(people["admin"])
    move(client, closed_quarter, CycleState.IN_REVIEW)

    response = client.post(
        reverse("objective_create"),
        {
            "title": "Late addition",
            "description": "",
            "cycle": closed_quarter.pk,
            "team": teams["credit_risk"].pk,
            "owner": people["manager"].pk,
            "parent": "",
            "visibility": "org",
            "priority": "medium",
        },
    )

    assert response.status_code == 302
    assert Objective.objects.get().cycle == closed_quarter


def test_skipping_a_state_is_refused_inline(client, people, fourth_quarter):
    client.force_login(people["manager"])

    response = move(client, fourth_quarter, CycleState.CLOSED)

    fourth_quarter.refresh_from_db()
    assert response.status_code == 400
    assert "FY2027 Q4 is planning; it can only move to active next." in (
        response.content.decode()
    )
    assert fourth_quarter.state == CycleState.PLANNING


def test_a_member_cannot_change_the_state_of_a_cycle(client, people, quarter):
    client.force_login(people["member"])

    response = move(client, quarter, CycleState.IN_REVIEW)

    quarter.refresh_from_db()
    assert response.status_code == 403
    assert quarter.state == CycleState.ACTIVE


# Cadence


def planning(cycle: Cycle) -> CadenceEvent:
    return cycle.cadence_events.get(kind=CadenceKind.PLANNING)


def cadence_data(**changes) -> dict[str, object]:
    data = {
        "day": "2027-03-29",
        "start_time": "10:00",
        "duration_minutes": "90",
        "attendees": "",
        "location": "Board room",
        "notes": "Bring the Q4 scores.",
    }
    return data | changes


def test_a_rescheduled_event_is_stored_in_utc_and_shown_in_local_time(
    client, people, teams, fourth_quarter
):
    event = planning(fourth_quarter)
    client.force_login(people["manager"])
    data = cadence_data(attendees=teams["credit_risk"].pk)

    response = client.post(reverse("cadence_edit", args=[event.pk]), data)

    event.refresh_from_db()
    assert response.status_code == 302
    assert event.starts_at == datetime(2027, 3, 29, 9, 0, tzinfo=UTC)
    assert event.duration_minutes == 90
    assert event.attendees == teams["credit_risk"]
    assert event.location == "Board room"
    assert event.updated_by == people["manager"]
    page = client.get(
        reverse("cycle_detail", args=[fourth_quarter.pk])
    ).content.decode()
    assert "Mon 29 Mar 2027, 10:00 BST (Europe/London)" in page


def test_a_time_the_clocks_skip_moves_forward(client, people, fourth_quarter):
    event = planning(fourth_quarter)
    client.force_login(people["admin"])

    client.post(
        reverse("cadence_edit", args=[event.pk]),
        cadence_data(day="2027-03-28", start_time="01:30"),
    )

    event.refresh_from_db()
    assert event.starts_at == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)


def test_the_edit_form_shows_the_organisation_local_start(client, people, quarter):
    event = planning(quarter)
    client.force_login(people["manager"])

    form = client.get(reverse("cadence_edit", args=[event.pk])).context["form"]

    assert form["day"].value() == date(2026, 10, 1)
    assert form["start_time"].value().strftime("%H:%M") == "10:00"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"day": "2027-02-30"}, "day", "2027-02-30 is not a real date."),
        (
            {"start_time": "25:00"},
            "start_time",
            "Enter the time as hours:minutes, like 14:30.",
        ),
        (
            {"duration_minutes": "0"},
            "duration_minutes",
            "A meeting lasts at least 5 minutes.",
        ),
    ],
)
def test_bad_cadence_input_is_refused_and_changes_nothing(
    client, people, fourth_quarter, changes, field, message
):
    event = planning(fourth_quarter)
    before = event.starts_at
    client.force_login(people["manager"])

    response = client.post(
        reverse("cadence_edit", args=[event.pk]), cadence_data(**changes)
    )

    event.refresh_from_db()
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    assert event.starts_at == before
    assert event.location == ""


def test_htmx_gets_the_cadence_form_back_with_200(client, people, fourth_quarter):
    event = planning(fourth_quarter)
    client.force_login(people["manager"])

    response = client.post(
        reverse("cadence_edit", args=[event.pk]), cadence_data(day="x"), **HTMX
    )

    assert response.status_code == 200
    assert 'id="cycle-form"' in response.content.decode()


def test_a_member_cannot_reschedule(client, people, quarter):
    event = planning(quarter)
    client.force_login(people["member"])

    response = client.post(reverse("cadence_edit", args=[event.pk]), cadence_data())

    assert response.status_code == 403


# Templates


def load(client, cycle, *, headers=None, **data):
    url = reverse("cycle_start_from_template", args=[cycle.pk])
    return client.post(url, {"template": "credit-management"} | data, headers=headers)


def test_an_admin_loads_a_template_into_one_team_and_a_second_load_adds_nothing(
    client, people, teams, quarter
):
    client.force_login(people["admin"])

    first = load(client, quarter, team=teams["collections"].pk)
    objectives, key_results = Objective.objects.count(), KeyResult.objects.count()
    second = load(client, quarter, team=teams["collections"].pk)

    assert first.status_code == 302
    assert objectives == 3
    assert key_results > 0
    assert set(Objective.objects.values_list("team", flat=True)) == {
        teams["collections"].pk
    }
    assert any("3 objectives" in message for message in said(first))
    assert (Objective.objects.count(), KeyResult.objects.count()) == (
        objectives,
        key_results,
    )
    assert any("Nothing new" in message for message in said(second))


def test_a_manager_may_load_only_into_a_team_they_manage(
    client, people, teams, quarter
):
    client.force_login(people["manager"])
    url = reverse("cycle_start_from_template", args=[quarter.pk])

    offered = client.get(url).context["form"].fields["team"].choices
    refused = load(client, quarter, team=teams["sales"].pk)
    own_teams = load(client, quarter, team="template")

    assert offered == [(str(teams["credit_risk"].pk), "Credit Risk")]
    assert refused.status_code == 400
    assert own_teams.status_code == 400
    assert not Objective.objects.exists()
    assert load(client, quarter, team=teams["credit_risk"].pk).status_code == 302
    assert Objective.objects.count() == 3


def test_a_member_cannot_load_templates(client, people, teams, quarter):
    client.force_login(people["member"])

    assert load(client, quarter, team=teams["credit_risk"].pk).status_code == 403


def test_a_template_that_cannot_load_says_why_inline(client, people, teams, quarter):
    quarter.state = CycleState.CLOSED
    quarter.save()
    client.force_login(people["admin"])

    response = load(client, quarter, team=teams["credit_risk"].pk)

    assert response.status_code == 400
    assert "FY2027 Q3 is closed; templates load only into open cycles." in (
        response.content.decode()
    )
    assert not Objective.objects.exists()


def test_a_manager_of_another_team_only_sees_their_team(client, teams, quarter):
    collections_lead = make_user("lead", teams["collections"], Role.MANAGER)
    client.force_login(collections_lead)

    url = reverse("cycle_start_from_template", args=[quarter.pk])
    offered = client.get(url).context["form"].fields["team"].choices

    assert offered == [(str(teams["collections"].pk), "Collections")]


# Cadence dates and calendar changes (admin and cycle services)


def test_a_cadence_event_far_from_its_cycle_is_refused_naming_the_range(
    client, people, quarter
):
    event = planning(quarter)
    before = event.starts_at
    client.force_login(people["manager"])

    response = client.post(
        reverse("cadence_edit", args=[event.pk]), cadence_data(day="2027-03-29")
    )

    assert response.status_code == 400
    assert response.context["form"].errors["day"] == [
        "Pick a date from 1 Sep 2026 to 30 Jan 2027: up to 30 days before or "
        "after FY2027 Q3 (1 Oct 2026 to 31 Dec 2026)."
    ]
    event.refresh_from_db()
    assert event.starts_at == before


def test_the_next_cycle_opens_after_the_fiscal_year_start_moved(
    client, people, organisation, quarter
):
    organisation.fiscal_year_start_month = 1
    organisation.save()
    client.force_login(people["manager"])

    response = client.post(reverse("cycle_next", args=[quarter.pk]))

    created = Cycle.objects.get(name="FY2027 Q1")
    assert response.status_code == 302
    assert (created.start_date, created.end_date) == (
        date(2027, 1, 1),
        date(2027, 3, 31),
    )


def test_creating_a_cycle_taken_under_the_earlier_calendar_says_why(
    client, people, organisation, calendar
):
    ensure_cycle(organisation, calendar.quarter_period(2027, 1), TODAY)
    organisation.fiscal_year_start_month = 5
    organisation.save()
    client.force_login(people["admin"])

    response = client.post(
        reverse("cycle_create"), {"fiscal_year": 2027, "period": "1"}
    )

    assert response.status_code == 400
    assert "FY2027 Q1 already exists with dates 1 Apr 2026 to 30 Jun 2026" in (
        response.content.decode()
    )
    assert Cycle.objects.count() == 1


def test_a_web_load_says_the_owner_sets_the_baseline_on_the_key_result(
    client, people, teams, quarter
):
    client.force_login(people["admin"])

    response = load(client, quarter, team=teams["credit_risk"].pk)

    notes = said(response)
    assert not any("--baseline" in note for note in notes)
    assert (
        "'Credit delinquency rate (30+ days past due)' has no baseline yet: its "
        "owner sets the start value when editing the key result, and the target "
        "follows from it."
    ) in notes


# Closed cycles


def test_a_closed_cycle_offers_no_template_or_reschedule(
    client, people, closed_quarter
):
    client.force_login(people["admin"])

    page = client.get(reverse("cycle_detail", args=[closed_quarter.pk]))

    assert page.status_code == 200
    assert reverse("cycle_start_from_template", args=[closed_quarter.pk]) not in (
        page.text
    )
    assert "Reschedule" not in page.text
    assert "Thu 1 Oct 2026, 10:00 BST (Europe/London)" in page.text


def test_an_open_cycle_offers_template_and_reschedule(client, people, quarter):
    client.force_login(people["admin"])

    page = client.get(reverse("cycle_detail", args=[quarter.pk]))

    assert reverse("cycle_start_from_template", args=[quarter.pk]) in page.text
    assert "Reschedule" in page.text


@pytest.mark.parametrize("method", ["get", "post"])
def test_loading_a_template_into_a_closed_cycle_is_refused(
    client, people, teams, closed_quarter, method
):
    client.force_login(people["admin"])
    url = reverse("cycle_start_from_template", args=[closed_quarter.pk])
    data = {"template": "credit-management", "team": teams["credit_risk"].pk}

    response = getattr(client, method)(url, data if method == "post" else None)

    assert response.status_code == 400
    assert "FY2027 Q3 is closed; templates load only into open cycles." in (
        response.text
    )
    assert not Objective.objects.exists()


def test_a_closed_cycles_refusal_over_htmx_goes_to_the_cycle_page(
    client, people, teams, closed_quarter
):
    client.force_login(people["admin"])

    response = load(
        client, closed_quarter, team=teams["credit_risk"].pk, headers=HTMX_HEADERS
    )

    assert response["HX-Redirect"] == reverse("cycle_detail", args=[closed_quarter.pk])
    assert said(response) == [
        "FY2027 Q3 is closed; templates load only into open cycles."
    ]


@pytest.mark.parametrize("method", ["get", "post"])
def test_rescheduling_in_a_closed_cycle_is_refused(
    client, people, closed_quarter, method
):
    event = planning(closed_quarter)
    before = event.starts_at
    client.force_login(people["manager"])
    url = reverse("cadence_edit", args=[event.pk])

    response = getattr(client, method)(
        url, cadence_data() if method == "post" else None
    )

    event.refresh_from_db()
    assert response.status_code == 400
    assert "FY2027 Q3 is closed; its meetings can no longer be rescheduled." in (
        response.text
    )
    assert event.starts_at == before
