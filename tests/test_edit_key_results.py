"""Adding, editing and archiving key results through the forms."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from creditokr.okrs import access, services
from creditokr.okrs.board import objective_cards
from creditokr.okrs.models import KeyResult, Objective
from tests.conftest import TODAY, make_key_result

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2026, 11, 15, 12, 0, tzinfo=UTC), tick=False):
        yield


def key_result_data(owner, **changes) -> dict[str, object]:
    data = {
        "title": "30+ delinquency rate",
        "owner": owner.pk,
        "kind": "decrease",
        "unit": "percent",
        "currency_code": "",
        "unit_label": "",
        "start_value": "8.0",
        "target_mode": "absolute",
        "target_value": "6.8",
        "target_change": "",
        "due_date": "",
        "weight": "1",
    }
    return data | changes


def edit_data(key_result: KeyResult, **changes) -> dict[str, object]:
    data = key_result_data(
        key_result.owner,
        title=key_result.title,
        kind=key_result.kind,
        unit=key_result.unit,
        start_value=str(key_result.start_value),
        target_mode=key_result.target_mode,
        target_value=str(key_result.target_value),
        target_change=""
        if key_result.target_change is None
        else key_result.target_change,
        version=key_result.version,
    )
    return data | changes


def create(client, objective, data, **extra):
    url = reverse("key_result_create", args=[objective.pk])
    return client.post(url, data, **extra)


def errors(response, field: str) -> list[str]:
    return list(response.context["form"].errors[field])


# Creating


def test_a_manager_adds_a_key_result_with_a_fixed_target(
    client, people, public_objective
):
    client.force_login(people["manager"])

    response = create(client, public_objective, key_result_data(people["member"]))

    key_result = KeyResult.objects.get()
    assert response.status_code == 302
    assert key_result.objective == public_objective
    assert key_result.owner == people["member"]
    assert key_result.start_value == Decimal("8.0")
    assert key_result.target_value == Decimal("6.8")
    assert key_result.weight == Decimal(1)
    assert key_result.due_date is None


def test_a_relative_percent_target_is_worked_out_from_the_baseline(
    client, people, public_objective
):
    client.force_login(people["member"])
    data = key_result_data(
        people["member"],
        target_mode="relative_percent",
        target_change="-15",
        target_value="",
    )

    create(client, public_objective, data)

    key_result = KeyResult.objects.get()
    assert key_result.target_value == Decimal("6.8")
    assert key_result.target_change == Decimal(-15)
    assert key_result.target_mode == "relative_percent"


def test_a_percentage_points_target_is_the_baseline_plus_the_change(
    client, people, public_objective
):
    client.force_login(people["member"])
    data = key_result_data(
        people["member"], target_mode="percentage_points", target_change="-1.5"
    )

    create(client, public_objective, data)

    assert KeyResult.objects.get().target_value == Decimal("6.5")


def test_editing_the_baseline_of_a_relative_target_moves_the_target(
    client, people, public_objective
):
    key_result = make_key_result(
        public_objective,
        people["member"],
        target_mode="relative_percent",
        target_change=Decimal(-15),
    )
    client.force_login(people["member"])
    url = reverse("key_result_edit", args=[key_result.pk])

    response = client.post(url, edit_data(key_result, start_value="10"))

    key_result.refresh_from_db()
    assert response.status_code == 302
    assert key_result.start_value == Decimal(10)
    assert key_result.target_value == Decimal("8.5")


def test_a_milestone_needs_no_numbers(client, people, public_objective):
    client.force_login(people["member"])
    data = key_result_data(
        people["member"],
        title="Bureau data integrated",
        kind="milestone",
        start_value="",
        target_value="",
    )

    response = create(client, public_objective, data)

    key_result = KeyResult.objects.get()
    assert response.status_code == 302
    assert key_result.kind == "milestone"
    assert key_result.target_value is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"target_value": "9"},
            "target_value",
            "A decrease needs a target below the start value.",
        ),
        (
            {"kind": "increase", "target_value": "6"},
            "target_value",
            "An increase needs a target above the start value.",
        ),
        (
            {
                "target_mode": "relative_percent",
                "start_value": "",
                "target_change": "-15",
            },
            "start_value",
            "A relative target needs a baseline (start value).",
        ),
        (
            {"unit": "currency"},
            "currency_code",
            "Give the currency's code, like GBP or EUR.",
        ),
        (
            {"unit": "currency", "currency_code": "gbp"},
            "currency_code",
            "A currency code is three capital letters, like GBP or EUR, not 'gbp'.",
        ),
        (
            {"start_value": "120", "kind": "stay_below", "target_value": "5"},
            "start_value",
            "A percentage must be between 0 and 100, not 120.",
        ),
        (
            {"due_date": "2026-09-30"},
            "due_date",
            "FY2027 Q3 starts on 1 Oct 2026; the due date cannot be before that.",
        ),
        (
            {"due_date": "2027-01-01"},
            "due_date",
            "FY2027 Q3 ends on 31 Dec 2026; pick a date up to then, or leave it "
            "empty for the cycle end.",
        ),
        ({"due_date": "2026-02-31"}, "due_date", "2026-02-31 is not a real date."),
        (
            {"weight": "-1"},
            "weight",
            "A weight cannot be negative; use 0 to leave it out of the roll-up.",
        ),
        ({"start_value": "abc"}, "start_value", "Enter a finite number, like 4.25."),
        ({"target_value": "NaN"}, "target_value", "Enter a finite number, like 4.25."),
        (
            {
                "unit": "count",
                "kind": "increase",
                "start_value": "1.5",
                "target_value": "40",
            },
            "start_value",
            "A count must be a whole number of 0 or more, not 1.5.",
        ),
    ],
)
def test_each_bad_definition_gets_its_own_message_and_nothing_is_saved(
    client, people, public_objective, changes, field, message
):
    client.force_login(people["member"])

    response = create(
        client, public_objective, key_result_data(people["member"], **changes)
    )

    assert response.status_code == 400
    assert errors(response, field) == [message]
    assert not KeyResult.objects.exists()


def test_a_bad_edit_changes_nothing(client, people, public_key_result):
    client.force_login(people["member"])
    url = reverse("key_result_edit", args=[public_key_result.pk])

    response = client.post(
        url, edit_data(public_key_result, title="New", target_value="9")
    )

    assert response.status_code == 400
    public_key_result.refresh_from_db()
    assert public_key_result.title == "30+ delinquency rate"
    assert public_key_result.target_value == Decimal("6.8")
    assert public_key_result.version == 1


def test_a_member_may_only_make_themselves_the_owner(client, people, teams, quarter):
    objective = Objective.objects.create(
        cycle=quarter, team=teams["credit_risk"], owner=people["member"], title="Mine"
    )
    client.force_login(people["member"])

    form = client.get(reverse("key_result_create", args=[objective.pk])).context["form"]
    response = create(client, objective, key_result_data(people["manager"]))

    assert list(form.fields["owner"].queryset) == [people["member"]]
    assert response.status_code == 400
    assert "owner" in response.context["form"].errors
    assert not KeyResult.objects.exists()


def test_a_manager_may_pick_any_active_owner(client, people, public_objective):
    client.force_login(people["manager"])

    form = client.get(reverse("key_result_create", args=[public_objective.pk])).context[
        "form"
    ]

    assert people["outsider"] in form.fields["owner"].queryset


def test_a_viewer_cannot_add_or_edit_key_results(
    client, people, public_objective, public_key_result
):
    client.force_login(people["viewer"])

    added = create(client, public_objective, key_result_data(people["viewer"]))
    edit_url = reverse("key_result_edit", args=[public_key_result.pk])
    edited = client.post(edit_url, edit_data(public_key_result, title="X"))

    assert added.status_code == 403
    assert edited.status_code == 403
    assert KeyResult.objects.count() == 1


def test_an_outsider_gets_404_for_key_results_of_a_team_only_objective(
    client, people, private_objective, private_key_result
):
    client.force_login(people["outsider"])

    assert (
        client.get(
            reverse("key_result_create", args=[private_objective.pk])
        ).status_code
        == 404
    )
    assert (
        client.get(reverse("key_result_edit", args=[private_key_result.pk])).status_code
        == 404
    )
    assert (
        client.post(
            reverse("key_result_archive", args=[private_key_result.pk]),
            {"action": "archive"},
        ).status_code
        == 404
    )


def test_a_second_save_over_a_newer_version_is_a_conflict(
    client, people, public_key_result
):
    client.force_login(people["member"])
    url = reverse("key_result_edit", args=[public_key_result.pk])
    loaded = client.get(url).context["form"]["version"].value()
    theirs = KeyResult.objects.get(pk=public_key_result.pk)
    theirs.target_value = Decimal("7")
    services.update_key_result(people["manager"], theirs, 1)

    response = client.post(
        url, edit_data(public_key_result, target_value="6", version=loaded)
    )

    assert response.status_code == 409
    assert "Someone else changed this key result" in response.content.decode()
    assert ("Target value", "7") in response.context["conflict"].values
    public_key_result.refresh_from_db()
    assert public_key_result.target_value == Decimal(7)

    over_htmx = client.post(
        url, edit_data(public_key_result, target_value="6", version=loaded), **HTMX
    )
    assert over_htmx.status_code == 200
    assert "Someone else changed this key result" in over_htmx.content.decode()


def test_htmx_gets_errors_with_200_and_success_as_a_client_redirect(
    client, people, public_objective
):
    client.force_login(people["member"])

    bad = create(
        client, public_objective, key_result_data(people["member"], title=""), **HTMX
    )
    good = create(client, public_objective, key_result_data(people["member"]), **HTMX)

    assert bad.status_code == 200
    assert "This field is required." in bad.content.decode()
    assert good.status_code == 200
    page = reverse("objective_detail", args=[public_objective.pk])
    assert good["HX-Redirect"] == f"{page}#kr-{KeyResult.objects.get().pk}"


# Archiving


def test_an_archived_key_result_leaves_the_objective_progress_until_restored(
    client, people, organisation, public_objective, public_key_result
):
    other = make_key_result(public_objective, people["member"], title="Cure rate")
    services.record_check_in(
        people["member"], public_key_result, as_of=TODAY, value=Decimal("7.4")
    )
    client.force_login(people["member"])
    url = reverse("key_result_archive", args=[other.pk])
    actor = access.actor_for(people["member"])

    def progress():
        objectives = Objective.objects.filter(pk=public_objective.pk)
        return objective_cards(actor, objectives, organisation, TODAY)[0].progress

    assert progress() == Decimal(25)
    assert client.post(url, {"action": "archive"}).status_code == 302
    other.refresh_from_db()
    assert other.archived
    assert progress() == Decimal(50)

    client.post(url, {"action": "restore"})
    other.refresh_from_db()
    assert not other.archived
    assert progress() == Decimal(25)


def test_archiving_a_key_result_needs_a_post(client, people, public_key_result):
    client.force_login(people["member"])

    response = client.get(reverse("key_result_archive", args=[public_key_result.pk]))

    assert response.status_code == 405


# Keeping what the editor did not change


def test_a_deactivated_owner_stays_when_a_manager_edits_the_title(
    client, people, public_key_result
):
    member = people["member"]
    member.is_active = False
    member.save()
    client.force_login(people["manager"])
    url = reverse("key_result_edit", args=[public_key_result.pk])

    page = client.get(url)
    response = client.post(url, edit_data(public_key_result, title="30+ DPD rate"))

    assert (
        f'<option value="{member.pk}" selected>Member (member, deactivated)</option>'
        in page.text
    )
    assert response.status_code == 302
    public_key_result.refresh_from_db()
    assert public_key_result.owner == member
    assert public_key_result.title == "30+ DPD rate"


def test_a_deactivated_person_is_not_offered_for_new_key_results(
    client, people, public_objective
):
    people["outsider"].is_active = False
    people["outsider"].save()
    client.force_login(people["manager"])

    form = client.get(reverse("key_result_create", args=[public_objective.pk])).context[
        "form"
    ]

    assert people["outsider"] not in form.fields["owner"].queryset


# Where relative-target errors show


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"target_mode": "relative_percent", "target_change": "15"},
            "This change puts the target at 9.2. A decrease needs a target below the "
            "start value.",
        ),
        (
            {
                "kind": "increase",
                "target_mode": "percentage_points",
                "target_change": "-2",
            },
            "This change puts the target at 6. An increase needs a target above the "
            "start value.",
        ),
        (
            {
                "kind": "increase",
                "start_value": "80",
                "target_mode": "relative_percent",
                "target_change": "50",
            },
            "This change puts the target at 120. A percentage must be between 0 "
            "and 100, not 120.",
        ),
    ],
)
def test_relative_target_errors_show_under_the_target_change(
    client, people, public_objective, changes, message
):
    client.force_login(people["member"])
    data = key_result_data(people["member"], target_value="", **changes)

    response = create(client, public_objective, data)

    assert response.status_code == 400
    assert errors(response, "target_change") == [message]
    assert "target_value" not in response.context["form"].errors
    assert not KeyResult.objects.exists()
