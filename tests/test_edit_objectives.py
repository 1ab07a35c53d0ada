"""Creating, editing, overriding and archiving objectives through the forms."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from creditokr.accounts.models import Role, User
from creditokr.cycles.models import CycleState
from creditokr.cycles.services import ensure_cycle, next_cycle
from creditokr.okrs import access, services
from creditokr.okrs.board import objective_cards
from creditokr.okrs.models import Initiative, Objective, Visibility
from creditokr.okrs.participation import can_take_part, people_who_can_take_part
from tests.conftest import TODAY, make_key_result, make_objective, make_user

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2026, 11, 15, 12, 0, tzinfo=UTC), tick=False):
        yield


def objective_data(objective: Objective, **changes) -> dict[str, object]:
    data = {
        "title": objective.title,
        "description": objective.description,
        "cycle": objective.cycle_id,
        "team": objective.team_id,
        "owner": objective.owner_id,
        "parent": objective.parent_id or "",
        "visibility": objective.visibility,
        "priority": objective.priority,
        "version": objective.version,
    }
    return data | changes


def new_objective_data(quarter, team, owner, **changes) -> dict[str, object]:
    data = {
        "title": "Cut approval time to 2 days",
        "description": "Automate bureau checks.",
        "cycle": quarter.pk,
        "team": team.pk,
        "owner": owner.pk,
        "parent": "",
        "visibility": Visibility.ORGANISATION,
        "priority": "high",
    }
    return data | changes


# Creating


def test_a_manager_creates_an_objective_in_their_team(client, people, teams, quarter):
    client.force_login(people["manager"])
    data = new_objective_data(quarter, teams["credit_risk"], people["member"])

    response = client.post(reverse("objective_create"), data)

    objective = Objective.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("objective_detail", args=[objective.pk])
    assert objective.title == "Cut approval time to 2 days"
    assert objective.owner == people["member"]
    assert objective.team == teams["credit_risk"]
    assert objective.cycle == quarter
    assert objective.priority == "high"


def test_the_new_objective_form_prefills_cycle_team_and_parent_from_the_query(
    client, people, teams, quarter, public_objective
):
    client.force_login(people["member"])
    url = reverse("objective_create")

    response = client.get(
        f"{url}?cycle={quarter.pk}&team={teams['credit_risk'].pk}"
        f"&parent={public_objective.pk}"
    )

    form = response.context["form"]
    assert form["cycle"].value() == quarter.pk
    assert form["team"].value() == teams["credit_risk"].pk
    assert form["parent"].value() == public_objective.pk
    assert form["owner"].value() == people["member"].pk


def test_a_member_creates_an_objective_they_own(client, people, teams, quarter):
    client.force_login(people["member"])
    data = new_objective_data(quarter, teams["credit_risk"], people["member"])

    response = client.post(reverse("objective_create"), data)

    assert response.status_code == 302
    assert Objective.objects.get().owner == people["member"]


def test_a_member_cannot_give_a_new_objective_to_someone_else(
    client, people, teams, quarter
):
    client.force_login(people["member"])
    data = new_objective_data(quarter, teams["credit_risk"], people["manager"])

    response = client.post(reverse("objective_create"), data)

    assert response.status_code == 400
    assert "unless you manage the team, that is yourself" in str(
        response.context["form"].errors["owner"]
    )
    assert not Objective.objects.exists()


def test_a_member_cannot_create_in_a_team_they_do_not_belong_to(
    client, people, teams, quarter
):
    client.force_login(people["member"])
    data = new_objective_data(quarter, teams["sales"], people["member"])

    response = client.post(reverse("objective_create"), data)

    assert response.status_code == 400
    assert response.context["form"].errors["team"] == [
        "Pick one of the teams you can add objectives to."
    ]
    assert not Objective.objects.exists()


def test_a_viewer_cannot_open_the_new_objective_form(client, people, quarter):
    client.force_login(people["viewer"])

    assert client.get(reverse("objective_create")).status_code == 403


def test_a_missing_title_is_reported_and_nothing_is_created(
    client, people, teams, quarter
):
    client.force_login(people["manager"])
    data = new_objective_data(
        quarter, teams["credit_risk"], people["manager"], title=""
    )

    response = client.post(reverse("objective_create"), data)

    assert response.status_code == 400
    assert response.context["form"].errors["title"] == ["This field is required."]
    assert not Objective.objects.exists()


# Parents


def test_the_parent_choices_leave_out_objectives_hidden_from_the_actor(
    client, people, teams, quarter, private_objective, public_objective
):
    client.force_login(people["outsider"])

    response = client.get(reverse("objective_create"))

    page = response.content.decode()
    assert public_objective.title in page
    assert private_objective.title not in page


def test_a_hidden_parent_in_the_query_is_ignored(
    client, people, quarter, private_objective
):
    client.force_login(people["outsider"])
    url = reverse("objective_create")

    response = client.get(f"{url}?parent={private_objective.pk}")

    assert response.context["form"]["parent"].value() is None
    assert private_objective.title not in response.content.decode()


def test_a_posted_hidden_parent_is_refused_with_a_field_error(
    client, people, teams, quarter, private_objective
):
    client.force_login(people["outsider"])
    data = new_objective_data(
        quarter, teams["sales"], people["outsider"], parent=private_objective.pk
    )

    response = client.post(reverse("objective_create"), data)

    assert response.status_code == 400
    assert response.context["form"].errors["parent"] == [
        "Pick a parent objective from the list; that one is not available to you."
    ]
    assert Objective.objects.count() == 1


def test_an_objective_cannot_be_aligned_under_its_own_child(
    client, people, teams, quarter, public_objective
):
    child = make_objective(
        quarter, teams["credit_risk"], people["member"], parent=public_objective
    )
    client.force_login(people["manager"])
    url = reverse("objective_edit", args=[public_objective.pk])

    form_page = client.get(url)
    response = client.post(url, objective_data(public_objective, parent=child.pk))

    offered = [
        value for value, _ in form_page.context["form"].fields["parent"].widget.choices
    ]
    assert child.pk not in offered
    assert public_objective.pk not in offered
    assert response.status_code == 400
    assert "cannot be aligned under itself or its children" in str(
        response.context["form"].errors["parent"]
    )
    public_objective.refresh_from_db()
    assert public_objective.parent is None


# Editing


def test_the_owner_edits_their_objective(client, people, public_objective):
    client.force_login(people["member"])
    url = reverse("objective_edit", args=[public_objective.pk])

    response = client.post(url, objective_data(public_objective, title="Cut 30+ DPD"))

    public_objective.refresh_from_db()
    assert response.status_code == 302
    assert public_objective.title == "Cut 30+ DPD"
    assert public_objective.version == 2


def test_a_manager_moves_an_objective_to_the_next_quarter_and_progress_follows(
    client, people, teams, quarter, calendar, organisation, public_key_result
):
    following = next_cycle(organisation, quarter, TODAY)
    client.force_login(people["manager"])
    objective = public_key_result.objective
    services.record_check_in(
        people["member"], public_key_result, as_of=TODAY, value=Decimal("7.4")
    )

    client.post(
        reverse("objective_edit", args=[objective.pk]),
        objective_data(objective, cycle=following.pk),
    )

    actor = access.actor_for(people["manager"])
    cards = objective_cards(
        actor, Objective.objects.filter(cycle=following), organisation, TODAY
    )
    assert [card.objective.pk for card in cards] == [objective.pk]
    assert cards[0].progress == Decimal(50)
    assert not Objective.objects.filter(cycle=quarter).exists()


def test_a_move_that_leaves_a_key_result_due_outside_the_cycle_is_refused(
    client, people, quarter, organisation, public_key_result
):
    following = next_cycle(organisation, quarter, TODAY)
    public_key_result.due_date = datetime(2026, 11, 30, tzinfo=UTC).date()
    public_key_result.save()
    objective = public_key_result.objective
    client.force_login(people["manager"])

    response = client.post(
        reverse("objective_edit", args=[objective.pk]),
        objective_data(objective, cycle=following.pk),
    )

    assert response.status_code == 400
    assert "These key results are due outside FY2027 Q4" in response.text
    assert "30+ delinquency rate" in response.text
    objective.refresh_from_db()
    assert objective.cycle == quarter


def test_a_viewer_cannot_edit_an_objective(client, people, public_objective):
    client.force_login(people["viewer"])
    url = reverse("objective_edit", args=[public_objective.pk])

    assert client.get(url).status_code == 403
    assert (
        client.post(url, objective_data(public_objective, title="X")).status_code == 403
    )
    public_objective.refresh_from_db()
    assert public_objective.title == "Reduce 30+ delinquency"


def test_an_outsider_gets_404_for_a_team_only_objective(
    client, people, private_objective
):
    client.force_login(people["outsider"])

    for name in ("objective_edit", "objective_status"):
        assert client.get(reverse(name, args=[private_objective.pk])).status_code == 404
    response = client.post(
        reverse("objective_archive", args=[private_objective.pk]), {"action": "archive"}
    )
    assert response.status_code == 404


def test_a_second_save_over_a_newer_version_is_a_conflict(
    client, people, public_objective
):
    client.force_login(people["member"])
    url = reverse("objective_edit", args=[public_objective.pk])
    loaded = client.get(url).context["form"]["version"].value()
    someone_else = Objective.objects.get(pk=public_objective.pk)
    someone_else.title = "Their title"
    services.update_objective(people["manager"], someone_else, 1)

    response = client.post(
        url, objective_data(public_objective, title="Mine", version=loaded)
    )

    assert loaded == 1
    assert response.status_code == 409
    assert "Someone else changed this objective" in response.content.decode()
    assert ("Title", "Their title") in response.context["conflict"].values
    assert "You entered: Mine" in response.content.decode()
    assert response.context["form"]["version"].value() == 2
    public_objective.refresh_from_db()
    assert public_objective.title == "Their title"


def test_a_conflict_over_htmx_is_swapped_in_with_status_200(
    client, people, public_objective
):
    client.force_login(people["member"])
    url = reverse("objective_edit", args=[public_objective.pk])
    services.update_objective(people["manager"], public_objective, 1)

    response = client.post(
        url, objective_data(public_objective, title="Mine", version=1), **HTMX
    )

    assert response.status_code == 200
    assert "Someone else changed this objective" in response.content.decode()
    assert "<html" not in response.content.decode()


def test_a_form_without_its_version_is_refused(client, people, public_objective):
    client.force_login(people["member"])
    url = reverse("objective_edit", args=[public_objective.pk])

    response = client.post(
        url, objective_data(public_objective, title="New", version="")
    )

    assert response.status_code == 400
    assert "This form is out of date; reload the page." in response.content.decode()
    public_objective.refresh_from_db()
    assert public_objective.title == "Reduce 30+ delinquency"


def test_htmx_gets_a_client_redirect_on_success(client, people, public_objective):
    client.force_login(people["member"])
    url = reverse("objective_edit", args=[public_objective.pk])

    response = client.post(url, objective_data(public_objective, title="New"), **HTMX)

    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse(
        "objective_detail", args=[public_objective.pk]
    )


def test_htmx_gets_the_form_back_with_errors_and_status_200(
    client, people, public_objective
):
    client.force_login(people["member"])
    url = reverse("objective_edit", args=[public_objective.pk])

    response = client.post(url, objective_data(public_objective, title=""), **HTMX)

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="okr-form"' in page
    assert "This field is required." in page
    assert "<html" not in page


# Status override


def test_the_owner_overrides_the_status_with_a_reason(client, people, public_objective):
    client.force_login(people["member"])
    url = reverse("objective_status", args=[public_objective.pk])

    response = client.post(
        url,
        {
            "status_override": "at_risk",
            "status_override_reason": "Bureau feed late",
            "version": 1,
        },
    )

    public_objective.refresh_from_db()
    assert response.status_code == 302
    assert public_objective.status_override == "at_risk"
    assert public_objective.status_override_reason == "Bureau feed late"


def test_an_override_needs_a_reason(client, people, public_objective):
    client.force_login(people["member"])
    url = reverse("objective_status", args=[public_objective.pk])

    response = client.post(
        url, {"status_override": "at_risk", "status_override_reason": " ", "version": 1}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["status_override_reason"] == [
        "Say why you override the status."
    ]
    public_objective.refresh_from_db()
    assert public_objective.status_override == ""


def test_an_override_needs_a_status(client, people, public_objective):
    client.force_login(people["member"])
    url = reverse("objective_status", args=[public_objective.pk])

    response = client.post(
        url, {"status_override": "", "status_override_reason": "Late", "version": 1}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["status_override"] == [
        "Pick the status to show."
    ]


def test_not_started_is_not_a_status_one_can_override_to(
    client, people, public_objective
):
    client.force_login(people["member"])
    url = reverse("objective_status", args=[public_objective.pk])

    response = client.post(
        url,
        {"status_override": "not_started", "status_override_reason": "x", "version": 1},
    )

    assert response.status_code == 400
    assert "status_override" in response.context["form"].errors
    public_objective.refresh_from_db()
    assert public_objective.status_override == ""


def test_clearing_the_override_shows_the_computed_status_again(
    client, people, public_objective
):
    services.set_status_override(
        people["manager"], public_objective, "at_risk", "Late data", 1
    )
    client.force_login(people["manager"])
    url = reverse("objective_status", args=[public_objective.pk])

    response = client.post(url, {"clear": "1", "version": 2})

    public_objective.refresh_from_db()
    assert response.status_code == 302
    assert public_objective.status_override == ""
    assert public_objective.status_override_reason == ""


def test_a_viewer_cannot_override_the_status(client, people, public_objective):
    client.force_login(people["viewer"])
    url = reverse("objective_status", args=[public_objective.pk])

    response = client.post(
        url, {"status_override": "at_risk", "status_override_reason": "x", "version": 1}
    )

    assert response.status_code == 403


# Archiving


def test_archiving_leaves_an_objective_out_of_roll_ups_until_restored(
    client, people, teams, quarter, organisation, public_objective
):
    child = make_objective(
        quarter, teams["credit_risk"], people["member"], parent=public_objective
    )
    kr = make_key_result(child, people["member"])
    services.record_check_in(people["member"], kr, as_of=TODAY, value=Decimal("7.4"))
    client.force_login(people["manager"])
    url = reverse("objective_archive", args=[child.pk])
    actor = access.actor_for(people["manager"])

    def parent_progress():
        parent = Objective.objects.filter(pk=public_objective.pk)
        return objective_cards(actor, parent, organisation, TODAY)[0].progress

    assert parent_progress() == Decimal(50)
    archived = client.post(url, {"action": "archive"})
    child.refresh_from_db()
    assert archived.status_code == 302
    assert child.archived
    assert parent_progress() is None

    client.post(url, {"action": "restore"})
    child.refresh_from_db()
    assert not child.archived
    assert parent_progress() == Decimal(50)


def test_archiving_by_get_is_not_allowed(client, people, public_objective):
    client.force_login(people["manager"])

    response = client.get(reverse("objective_archive", args=[public_objective.pk]))

    assert response.status_code == 405
    public_objective.refresh_from_db()
    assert not public_objective.archived


def test_a_viewer_cannot_archive(client, people, public_objective):
    client.force_login(people["viewer"])

    response = client.post(
        reverse("objective_archive", args=[public_objective.pk]), {"action": "archive"}
    )

    assert response.status_code == 403
    public_objective.refresh_from_db()
    assert not public_objective.archived


# What the editor cannot see or pick


@pytest.fixture
def collections_secret(quarter, teams):
    """A team-only objective of Collections, hidden from Credit Risk."""
    lead = make_user("lead", teams["collections"], Role.MANAGER)
    return make_objective(
        quarter,
        teams["collections"],
        lead,
        title="Quietly sell the 90+ book",
        visibility=Visibility.TEAM,
    )


def test_a_conflict_does_not_name_a_parent_the_editor_cannot_see(
    client, people, public_objective, collections_secret
):
    client.force_login(people["member"])
    url = reverse("objective_edit", args=[public_objective.pk])
    theirs = Objective.objects.get(pk=public_objective.pk)
    theirs.parent = collections_secret
    services.update_objective(people["admin"], theirs, 1)

    response = client.post(
        url, objective_data(public_objective, title="Mine", version=1)
    )

    assert response.status_code == 409
    assert collections_secret.title not in response.text
    assert ("Contributes to", "an objective you cannot see") in response.context[
        "conflict"
    ].values
    offered = [
        value for value, _ in response.context["form"]["parent"].field.widget.choices
    ]
    assert collections_secret.pk not in offered


def test_saving_keeps_a_parent_the_editor_cannot_see(
    client, people, public_objective, collections_secret
):
    public_objective.parent = collections_secret
    public_objective.save()
    client.force_login(people["member"])
    url = reverse("objective_edit", args=[public_objective.pk])

    page = client.get(url)
    kept = page.context["form"]["parent"].value()
    response = client.post(url, objective_data(public_objective, parent=kept))

    assert collections_secret.title not in page.text
    assert "(an objective you cannot see)" in page.text
    assert kept != collections_secret.pk
    assert response.status_code == 302
    public_objective.refresh_from_db()
    assert public_objective.parent == collections_secret


@pytest.mark.parametrize("new_parent", ["none", "visible"])
def test_the_editor_may_clear_or_replace_a_parent_they_cannot_see(
    client, people, teams, quarter, public_objective, collections_secret, new_parent
):
    visible = make_objective(quarter, teams["credit_risk"], people["manager"])
    public_objective.parent = collections_secret
    public_objective.save()
    client.force_login(people["member"])
    chosen = visible if new_parent == "visible" else None

    response = client.post(
        reverse("objective_edit", args=[public_objective.pk]),
        objective_data(public_objective, parent=chosen.pk if chosen else ""),
    )

    assert response.status_code == 302
    public_objective.refresh_from_db()
    assert public_objective.parent == chosen


def test_the_hidden_parents_id_is_still_refused(
    client, people, public_objective, collections_secret
):
    public_objective.parent = collections_secret
    public_objective.save()
    client.force_login(people["member"])

    response = client.post(
        reverse("objective_edit", args=[public_objective.pk]),
        objective_data(public_objective, parent=collections_secret.pk),
    )

    assert response.status_code == 400
    assert "parent" in response.context["form"].errors


def test_a_deactivated_owner_stays_the_owner_when_a_manager_edits_the_title(
    client, people, public_objective
):
    member = people["member"]
    member.is_active = False
    member.save()
    client.force_login(people["manager"])
    url = reverse("objective_edit", args=[public_objective.pk])

    page = client.get(url)
    response = client.post(url, objective_data(public_objective, title="Cut DPD"))

    assert (
        f'<option value="{member.pk}" selected>Member (member, deactivated)</option>'
        in page.text
    )
    assert response.status_code == 302
    public_objective.refresh_from_db()
    assert public_objective.owner == member
    assert public_objective.title == "Cut DPD"


# Template objectives and closed cycles


def test_a_move_into_a_cycle_holding_the_same_template_objective_is_explained(
    client, people, teams, quarter, organisation
):
    following = next_cycle(organisation, quarter, TODAY)
    key = "credit-management/reduce-delinquency"
    there = make_objective(
        following,
        teams["credit_risk"],
        people["manager"],
        title="Reduce delinquency (Q4)",
        template_key=key,
    )
    here = make_objective(
        quarter, teams["credit_risk"], people["manager"], template_key=key
    )
    client.force_login(people["manager"])

    response = client.post(
        reverse("objective_edit", args=[here.pk]),
        objective_data(here, cycle=following.pk),
    )

    assert response.status_code == 400
    assert response.context["form"].errors["cycle"] == [
        f"FY2027 Q4 already has this template objective: '{there.title}'. "
        "A cycle holds each template objective once; pick another cycle or "
        "move that one out first."
    ]
    assert "template_objective_once_per_cycle" not in response.text
    here.refresh_from_db()
    assert here.cycle == quarter


def test_the_template_clash_does_not_name_an_objective_the_editor_cannot_see(
    client, people, teams, quarter, organisation
):
    following = next_cycle(organisation, quarter, TODAY)
    key = "credit-management/debt-recovery"
    lead = make_user("lead", teams["collections"], Role.MANAGER)
    hidden = make_objective(
        following,
        teams["collections"],
        lead,
        title="Collections' own recovery push",
        template_key=key,
        visibility=Visibility.TEAM,
    )
    here = make_objective(
        quarter, teams["credit_risk"], people["manager"], template_key=key
    )
    client.force_login(people["manager"])

    response = client.post(
        reverse("objective_edit", args=[here.pk]),
        objective_data(here, cycle=following.pk),
    )

    assert response.status_code == 400
    assert hidden.title not in response.text
    assert response.context["form"].errors["cycle"] == [
        "FY2027 Q4 already has this template objective: an objective you cannot "
        "see. A cycle holds each template objective once; pick another cycle or "
        "move that one out first."
    ]


@pytest.fixture
def closed_quarter(organisation, calendar):
    cycle = ensure_cycle(organisation, calendar.quarter_period(2027, 2), TODAY)
    cycle.state = CycleState.CLOSED
    cycle.save()
    return cycle


def test_an_objective_cannot_be_created_in_a_closed_cycle(
    client, people, teams, closed_quarter
):
    client.force_login(people["manager"])
    data = new_objective_data(closed_quarter, teams["credit_risk"], people["member"])

    response = client.post(reverse("objective_create"), data)

    assert response.status_code == 400
    assert response.context["form"].errors["cycle"] == [
        "FY2027 Q2 is closed; pick another cycle. An administrator can reopen "
        "it on the cycle's page."
    ]
    assert not Objective.objects.exists()


def test_an_objective_cannot_be_moved_into_a_closed_cycle(
    client, people, quarter, closed_quarter, public_objective
):
    client.force_login(people["manager"])

    response = client.post(
        reverse("objective_edit", args=[public_objective.pk]),
        objective_data(public_objective, cycle=closed_quarter.pk),
    )

    assert response.status_code == 400
    assert response.context["form"].errors["cycle"] == [
        "FY2027 Q2 is closed; pick another cycle. An administrator can reopen "
        "it on the cycle's page."
    ]
    public_objective.refresh_from_db()
    assert public_objective.cycle == quarter


def test_closed_cycles_are_not_offered_except_the_objectives_own(
    client, people, teams, quarter, closed_quarter
):
    earlier = make_objective(closed_quarter, teams["credit_risk"], people["member"])
    client.force_login(people["manager"])

    new_form = client.get(reverse("objective_create")).context["form"]
    edit_page = client.get(reverse("objective_edit", args=[earlier.pk]))
    response = client.post(
        reverse("objective_edit", args=[earlier.pk]),
        objective_data(earlier, title="Renamed after the close"),
    )

    offered = [value for value, _ in new_form["cycle"].field.widget.choices]
    assert closed_quarter.pk not in offered
    assert quarter.pk in offered
    assert edit_page.context["form"]["cycle"].value() == closed_quarter.pk
    assert response.status_code == 302
    earlier.refresh_from_db()
    assert earlier.title == "Renamed after the close"


# What the conflict panel says the editor entered


def loaded_fields(objective: Objective) -> dict[str, object]:
    """The hidden copies of what the form showed when it was loaded."""
    shown = objective_data(objective)
    del shown["version"]
    return {f"initial-{name}": value for name, value in shown.items()}


def test_a_conflict_lists_only_what_the_editor_changed(
    client, people, public_objective
):
    client.force_login(people["member"])
    url = reverse("objective_edit", args=[public_objective.pk])
    page = client.get(url)
    loaded = loaded_fields(public_objective)
    theirs = Objective.objects.get(pk=public_objective.pk)
    theirs.priority = "high"
    services.update_objective(people["manager"], theirs, 1)

    response = client.post(
        url, objective_data(public_objective, title="Mine", version=1) | loaded
    )

    assert 'name="initial-priority"' in page.text
    assert response.status_code == 409
    rows = {row.label: row for row in response.context["conflict"].rows}
    assert rows["Title"].shows_yours
    assert not rows["Priority"].shows_yours
    assert "You entered: Mine" in response.text
    assert "You entered: Medium" not in response.text


# Who may own an objective and do its work


def offered(page, field: str) -> list[str]:
    choices = page.context["form"].fields[field].widget.choices
    return [str(label) for value, label in choices if value != ""]


@pytest.fixture
def collector(teams):
    """A member of Collections who only reads Credit Risk's objectives."""
    collector = make_user("collector", teams["collections"], Role.MEMBER)
    collector.memberships.create(team=teams["credit_risk"], role=Role.VIEWER)
    return collector


def test_read_only_people_are_not_offered_as_owners_of_a_new_objective(
    client, people, collector
):
    client.force_login(people["manager"])

    page = client.get(reverse("objective_create"))

    assert offered(page, "owner") == [
        "Admin (admin)",
        "Collector (collector)",
        "Manager (manager)",
        "Member (member)",
        "Outsider (outsider)",
    ]


def test_a_team_only_objective_is_offered_to_those_who_can_work_on_it(
    client, people, private_objective, collector
):
    client.force_login(people["manager"])

    page = client.get(reverse("objective_edit", args=[private_objective.pk]))

    assert offered(page, "owner") == [
        "Admin (admin)",
        "Manager (manager)",
        "Member (member)",
    ]


def test_a_new_team_only_objective_cannot_go_to_someone_outside_the_team(
    client, people, teams, quarter
):
    client.force_login(people["manager"])
    data = new_objective_data(
        quarter,
        teams["credit_risk"],
        people["outsider"],
        visibility=Visibility.TEAM,
    )

    response = client.post(reverse("objective_create"), data)

    assert response.status_code == 400
    assert response.context["form"].errors["owner"] == [
        "Outsider cannot see this team-only objective; pick someone in Credit Risk."
    ]
    assert not Objective.objects.exists()


def test_a_read_only_owner_is_refused(client, people, public_objective):
    client.force_login(people["manager"])
    url = reverse("objective_edit", args=[public_objective.pk])

    response = client.post(
        url, objective_data(public_objective, owner=people["viewer"].pk)
    )

    assert response.status_code == 400
    assert response.context["form"].errors["owner"] == [
        "Viewer has read-only access and could not check in or change anything; "
        "pick someone with a member or manager role."
    ]
    public_objective.refresh_from_db()
    assert public_objective.owner == people["member"]


def test_making_it_team_only_is_refused_while_its_people_would_lose_sight(
    client, people, public_objective, collector
):
    make_key_result(public_objective, people["outsider"], title="Cure rate.")
    Initiative.objects.create(
        objective=public_objective, title="Chase late payers", assignee=collector
    )
    client.force_login(people["manager"])
    url = reverse("objective_edit", args=[public_objective.pk])

    response = client.post(
        url, objective_data(public_objective, visibility=Visibility.TEAM)
    )

    assert response.status_code == 400
    assert response.context["form"].errors["visibility"] == [
        "Making this objective team-only would shut out people doing its work: "
        "Outsider (owner of “Cure rate”) would not see it; Collector (assigned "
        "“Chase late payers”) could only read it. Give their work to people "
        "in Credit Risk first, or keep the objective visible to the whole "
        "organisation."
    ]
    public_objective.refresh_from_db()
    assert public_objective.visibility == Visibility.ORGANISATION


def test_making_it_team_only_is_fine_when_everyone_is_in_the_team(
    client, people, public_key_result
):
    objective = public_key_result.objective
    client.force_login(people["manager"])
    url = reverse("objective_edit", args=[objective.pk])

    response = client.post(url, objective_data(objective, visibility=Visibility.TEAM))

    assert response.status_code == 302
    objective.refresh_from_db()
    assert objective.visibility == Visibility.TEAM


def test_moving_a_team_only_objective_to_another_team_names_who_would_lose_sight(
    client, people, teams, private_key_result
):
    objective = private_key_result.objective
    client.force_login(people["admin"])
    url = reverse("objective_edit", args=[objective.pk])

    response = client.post(url, objective_data(objective, team=teams["collections"].pk))

    assert response.status_code == 400
    assert response.context["form"].errors["team"] == [
        "Moving this objective to Collections would shut out people doing its "
        "work: Member (objective owner, owner of “Watch-list limit reviews”) "
        "would not see it. Give their work to people in Collections first."
    ]
    objective.refresh_from_db()
    assert objective.team == teams["credit_risk"]


def test_a_new_owner_in_the_new_team_may_come_with_the_move(
    client, people, teams, private_objective
):
    head = make_user("head", teams["collections"], Role.MANAGER)
    client.force_login(people["admin"])
    url = reverse("objective_edit", args=[private_objective.pk])
    data = objective_data(
        private_objective, team=teams["collections"].pk, owner=head.pk
    )

    response = client.post(url, data)

    assert response.status_code == 302
    private_objective.refresh_from_db()
    assert (private_objective.team, private_objective.owner) == (
        teams["collections"],
        head,
    )


def test_the_admin_and_every_other_path_refuse_an_owner_who_cannot_see_it(
    people, private_objective
):
    private_objective.owner = people["outsider"]

    with pytest.raises(ValidationError) as refused:
        services.check_objective(None, private_objective)

    assert refused.value.message_dict == {
        "owner": [
            "Outsider cannot see this team-only objective; pick someone in Credit Risk."
        ]
    }


def test_the_choices_and_the_rule_agree_on_who_can_take_part(
    people, teams, public_objective, private_objective, collector
):
    superuser = User.objects.create_user("root", is_superuser=True)
    nobody = make_user("nobody")
    everyone = [*people.values(), collector, superuser, nobody]

    for objective in (public_objective, private_objective):
        listed = set(people_who_can_take_part(objective))
        assert listed == {p for p in everyone if can_take_part(p, objective)}
    assert can_take_part(superuser, private_objective)
    assert not can_take_part(nobody, public_objective)
    assert can_take_part(collector, public_objective)
    assert not can_take_part(collector, private_objective)
