"""Adding and editing initiatives through the forms."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from creditokr.accounts.models import Role
from creditokr.okrs import services
from creditokr.okrs.models import Initiative
from tests.conftest import make_key_result, make_objective, make_user

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2026, 11, 15, 12, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def managers_objective(quarter, teams, people):
    return make_objective(
        quarter, teams["credit_risk"], people["manager"], title="Recover more debt"
    )


@pytest.fixture
def initiative(managers_objective, people):
    return Initiative.objects.create(
        objective=managers_objective,
        title="Launch the payment-plan portal",
        assignee=people["member"],
    )


def initiative_data(**changes) -> dict[str, object]:
    data = {
        "title": "Weekly recovery report to management",
        "description": "",
        "key_result": "",
        "assignee": "",
        "priority": "high",
        "state": "not_started",
        "due_date": "2026-12-15",
    }
    return data | changes


def edit_data(initiative: Initiative, **changes) -> dict[str, object]:
    data = initiative_data(
        title=initiative.title,
        key_result=initiative.key_result_id or "",
        assignee=initiative.assignee_id or "",
        priority=initiative.priority,
        state=initiative.state,
        due_date="",
        version=initiative.version,
    )
    return data | changes


def test_a_manager_adds_an_initiative_for_a_key_result_and_assigns_it(
    client, people, public_objective, public_key_result
):
    client.force_login(people["manager"])
    url = reverse("initiative_create", args=[public_objective.pk])
    data = initiative_data(
        key_result=public_key_result.pk, assignee=people["member"].pk
    )

    response = client.post(url, data)

    initiative = Initiative.objects.get()
    assert response.status_code == 302
    assert initiative.objective == public_objective
    assert initiative.key_result == public_key_result
    assert initiative.assignee == people["member"]
    assert initiative.priority == "high"
    assert initiative.due_date == date(2026, 12, 15)


def test_the_assignee_updates_the_state_of_their_initiative(client, people, initiative):
    client.force_login(people["member"])
    url = reverse("initiative_edit", args=[initiative.pk])

    response = client.post(url, edit_data(initiative, state="blocked"))

    initiative.refresh_from_db()
    assert response.status_code == 302
    assert initiative.state == "blocked"
    assert initiative.version == 2


def test_only_this_objectives_key_results_are_offered_and_accepted(
    client, people, teams, quarter, public_objective, public_key_result
):
    elsewhere = make_objective(quarter, teams["credit_risk"], people["member"])
    foreign = make_key_result(elsewhere, people["member"], title="Someone else's")
    client.force_login(people["manager"])
    url = reverse("initiative_create", args=[public_objective.pk])

    offered = client.get(url).context["form"].fields["key_result"].queryset
    response = client.post(url, initiative_data(key_result=foreign.pk))

    assert list(offered) == [public_key_result]
    assert response.status_code == 400
    assert response.context["form"].errors["key_result"] == [
        "Pick one of this objective's key results from the list."
    ]
    assert not Initiative.objects.exists()


def test_a_member_can_only_assign_initiatives_to_themselves(
    client, people, public_objective
):
    client.force_login(people["member"])
    url = reverse("initiative_create", args=[public_objective.pk])

    response = client.post(url, initiative_data(assignee=people["manager"].pk))

    assert response.status_code == 400
    assert "assignee" in response.context["form"].errors
    assert not Initiative.objects.exists()


def test_an_impossible_due_date_is_refused(client, people, public_objective):
    client.force_login(people["member"])
    url = reverse("initiative_create", args=[public_objective.pk])

    response = client.post(url, initiative_data(due_date="2026-02-31"))

    assert response.context["form"].errors["due_date"] == [
        "2026-02-31 is not a real date."
    ]
    assert not Initiative.objects.exists()


def test_a_viewer_cannot_add_or_edit_initiatives(
    client, people, managers_objective, initiative
):
    client.force_login(people["viewer"])

    added = client.post(
        reverse("initiative_create", args=[managers_objective.pk]), initiative_data()
    )
    edited = client.post(
        reverse("initiative_edit", args=[initiative.pk]),
        edit_data(initiative, title="X"),
    )

    assert added.status_code == 403
    assert edited.status_code == 403
    assert Initiative.objects.get().title == "Launch the payment-plan portal"


def test_a_member_who_is_not_involved_cannot_edit(client, people, teams, initiative):
    colleague = make_user("colleague", teams["credit_risk"], Role.MEMBER)
    client.force_login(colleague)

    response = client.get(reverse("initiative_edit", args=[initiative.pk]))

    assert response.status_code == 403


def test_an_outsider_gets_404_for_initiatives_of_a_team_only_objective(
    client, people, private_objective
):
    hidden = Initiative.objects.create(objective=private_objective, title="Hidden")
    client.force_login(people["outsider"])

    create_url = reverse("initiative_create", args=[private_objective.pk])
    assert client.get(create_url).status_code == 404
    assert client.get(reverse("initiative_edit", args=[hidden.pk])).status_code == 404


def test_a_second_save_over_a_newer_version_is_a_conflict(client, people, initiative):
    client.force_login(people["member"])
    url = reverse("initiative_edit", args=[initiative.pk])
    loaded = client.get(url).context["form"]["version"].value()
    theirs = Initiative.objects.get(pk=initiative.pk)
    theirs.state = "done"
    services.update_initiative(people["manager"], theirs, 1)

    response = client.post(url, edit_data(initiative, state="blocked", version=loaded))

    assert response.status_code == 409
    assert ("State", "Done") in response.context["conflict"].values
    initiative.refresh_from_db()
    assert initiative.state == "done"


def test_htmx_gets_errors_with_200_and_success_as_a_client_redirect(
    client, people, public_objective
):
    client.force_login(people["member"])
    url = reverse("initiative_create", args=[public_objective.pk])

    bad = client.post(url, initiative_data(title=""), **HTMX)
    good = client.post(url, initiative_data(), **HTMX)

    assert bad.status_code == 200
    assert "This field is required." in bad.content.decode()
    assert good["HX-Redirect"] == reverse(
        "objective_detail", args=[public_objective.pk]
    )
    assert Initiative.objects.count() == 1


def test_a_deactivated_assignee_stays_when_a_manager_changes_only_the_state(
    client, people, initiative
):
    member = people["member"]
    member.is_active = False
    member.save()
    client.force_login(people["manager"])
    url = reverse("initiative_edit", args=[initiative.pk])

    page = client.get(url)
    response = client.post(url, edit_data(initiative, state="in_progress"))

    assert (
        f'<option value="{member.pk}" selected>Member (member, deactivated)</option>'
        in page.text
    )
    assert response.status_code == 302
    initiative.refresh_from_db()
    assert initiative.state == "in_progress"
    assert initiative.assignee == member


def test_a_conflict_names_a_deactivated_assignee_as_such(client, people, initiative):
    client.force_login(people["manager"])
    url = reverse("initiative_edit", args=[initiative.pk])
    theirs = Initiative.objects.get(pk=initiative.pk)
    theirs.state = "done"
    services.update_initiative(people["member"], theirs, 1)
    people["member"].is_active = False
    people["member"].save()

    response = client.post(url, edit_data(initiative, state="blocked", version=1))

    assert response.status_code == 409
    assert ("Assignee", "Member (member, deactivated)") in response.context[
        "conflict"
    ].values


# Who may be assigned


@pytest.fixture
def private_initiative(private_objective, people):
    return Initiative.objects.create(
        objective=private_objective,
        title="Review the watch list weekly",
        assignee=people["member"],
    )


def test_a_team_only_initiative_is_offered_to_those_who_can_work_on_it(
    client, people, private_objective
):
    client.force_login(people["manager"])

    page = client.get(reverse("initiative_create", args=[private_objective.pk]))

    choices = page.context["form"].fields["assignee"].widget.choices
    assert [str(label) for _, label in choices] == [
        "— Nobody yet —",
        "Admin (admin)",
        "Manager (manager)",
        "Member (member)",
    ]


def test_assigning_a_team_only_initiative_to_an_outsider_is_refused_by_name(
    client, people, private_objective
):
    client.force_login(people["manager"])
    url = reverse("initiative_create", args=[private_objective.pk])

    response = client.post(url, initiative_data(assignee=people["outsider"].pk))

    assert response.status_code == 400
    assert response.context["form"].errors["assignee"] == [
        "Outsider cannot see this team-only objective; pick someone in Credit Risk."
    ]
    assert not Initiative.objects.exists()


def test_a_read_only_assignee_is_refused(client, people, private_initiative):
    client.force_login(people["manager"])
    url = reverse("initiative_edit", args=[private_initiative.pk])

    response = client.post(
        url, edit_data(private_initiative, assignee=people["viewer"].pk)
    )

    assert response.status_code == 400
    assert response.context["form"].errors["assignee"] == [
        "Viewer has read-only access and could not check in or change anything; "
        "pick someone with a member or manager role."
    ]
    private_initiative.refresh_from_db()
    assert private_initiative.assignee == people["member"]


def test_an_assignee_who_cannot_see_it_is_kept_when_the_state_changes(
    client, people, private_initiative
):
    outsider = people["outsider"]
    Initiative.objects.filter(pk=private_initiative.pk).update(assignee=outsider)
    private_initiative.refresh_from_db()
    client.force_login(people["manager"])
    url = reverse("initiative_edit", args=[private_initiative.pk])

    page = client.get(url)
    response = client.post(url, edit_data(private_initiative, state="blocked"))

    assert (
        f'<option value="{outsider.pk}" selected>Outsider (outsider) '
        "(cannot see this objective)</option>" in page.text
    )
    assert response.status_code == 302
    private_initiative.refresh_from_db()
    assert private_initiative.state == "blocked"
    assert private_initiative.assignee == outsider


def test_nobody_assigned_is_still_fine(client, people, private_objective):
    client.force_login(people["manager"])
    url = reverse("initiative_create", args=[private_objective.pk])

    response = client.post(url, initiative_data(assignee=""))

    assert response.status_code == 302
    assert Initiative.objects.get().assignee is None


def test_the_admin_and_every_other_path_refuse_a_read_only_assignee(
    people, public_objective
):
    initiative = Initiative(
        objective=public_objective, title="Chase", assignee=people["viewer"]
    )

    with pytest.raises(ValidationError) as refused:
        services.check_initiative(initiative)

    assert list(refused.value.message_dict) == ["assignee"]
