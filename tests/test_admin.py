"""The Django admin follows the same rules as the app.

Saving an objective, key result or initiative in the admin checks and bumps
its version like the app's forms do, so neither side silently overwrites
the other; key results are checked by the same service as in the app;
check-in history is read-only; only superusers delete OKRs.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django import forms
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from creditokr.accounts.models import Role, User
from creditokr.cycles.services import ensure_cycle, next_cycle
from creditokr.okrs import services
from creditokr.okrs.models import CheckIn, Initiative, KeyResult, Objective
from tests.conftest import TODAY, make_user


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2026, 11, 15, 12, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def root(people) -> User:
    return User.objects.create_superuser("root", "root@example.test", "pw")


@pytest.fixture
def admin_site(client, root):
    client.force_login(root)
    return client


@pytest.fixture
def staff(people) -> User:
    """Staff with every OKR permission in the admin, but not a superuser."""
    user = make_user("staff")
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="okrs"))
    return user


def change_url(item: Any) -> str:
    meta = item._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[item.pk])


def delete_url(item: Any) -> str:
    meta = item._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_delete", args=[item.pk])


def add_url(model: Any) -> str:
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_add")


def as_posted(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [as_posted(item) for item in value]
    return "" if value is None else str(value)


def form_data(response) -> dict[str, Any]:
    """What a browser would post back from an admin page, unchanged."""
    on_page = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        on_page.extend([inline.formset.management_form, *inline.formset.forms])
    data: dict[str, Any] = {}
    for form in on_page:
        for name, field in form.fields.items():
            value = form[name].value()
            if isinstance(field, forms.BooleanField):
                if value:
                    data[form.add_prefix(name)] = "on"
                continue
            data[form.add_prefix(name)] = as_posted(value)
    return data


def opened(client, item: Any) -> dict[str, Any]:
    response = client.get(change_url(item))
    assert response.status_code == 200
    return form_data(response)


def errors_of(response) -> list[str]:
    form = response.context["adminform"].form
    return [str(error) for errors in form.errors.values() for error in errors]


# Objectives: versions


def test_saving_an_objective_in_the_admin_bumps_its_version(
    admin_site, public_objective
):
    data = opened(admin_site, public_objective) | {"title": "Cut 30+ arrears"}

    response = admin_site.post(change_url(public_objective), data)

    assert response.status_code == 302
    public_objective.refresh_from_db()
    assert (public_objective.title, public_objective.version) == ("Cut 30+ arrears", 2)


def test_a_stale_app_form_cannot_overwrite_an_admin_edit(
    admin_site, public_objective, people
):
    # The app's form was opened at version 1, then the admin saved.
    data = opened(admin_site, public_objective) | {"title": "Cut 30+ arrears"}
    admin_site.post(change_url(public_objective), data)
    stale = Objective.objects.get(pk=public_objective.pk)
    stale.title = "Someone's stale title"

    with pytest.raises(services.EditConflict):
        services.update_objective(people["member"], stale, expected_version=1)

    public_objective.refresh_from_db()
    assert public_objective.title == "Cut 30+ arrears"


def test_a_stale_admin_save_is_refused_and_changes_nothing(
    admin_site, public_objective, people
):
    data = opened(admin_site, public_objective) | {"title": "Admin's title"}
    meanwhile = Objective.objects.get(pk=public_objective.pk)
    meanwhile.title = "Manager's title"
    services.update_objective(people["manager"], meanwhile, expected_version=1)

    response = admin_site.post(change_url(public_objective), data)

    assert response.status_code == 200
    assert any("Someone else saved this objective" in e for e in errors_of(response))
    public_objective.refresh_from_db()
    assert (public_objective.title, public_objective.version) == ("Manager's title", 2)


def test_the_version_cannot_be_set_in_the_admin(admin_site, public_objective):
    data = opened(admin_site, public_objective) | {"version": "99"}

    admin_site.post(change_url(public_objective), data)

    public_objective.refresh_from_db()
    assert public_objective.version == 2
    response = admin_site.get(change_url(public_objective))
    assert "version" not in response.context["adminform"].form.fields


def test_a_new_objective_added_in_the_admin_starts_at_version_one(
    admin_site, quarter, teams, people
):
    data = form_data(admin_site.get(add_url(Objective))) | {
        "cycle": quarter.pk,
        "team": teams["credit_risk"].pk,
        "owner": people["member"].pk,
        "title": "Shorten approval times",
    }

    response = admin_site.post(add_url(Objective), data)

    assert response.status_code == 302
    assert Objective.objects.get(title="Shorten approval times").version == 1


def test_an_objective_cannot_be_aligned_under_its_own_child_in_the_admin(
    admin_site, public_objective, quarter, teams, people
):
    child = Objective.objects.create(
        cycle=quarter,
        team=teams["credit_risk"],
        owner=people["member"],
        title="Call every account 30+ days late",
        parent=public_objective,
    )
    data = opened(admin_site, public_objective) | {"parent": child.pk}

    response = admin_site.post(change_url(public_objective), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["parent"] == [
        "An objective cannot be aligned under itself or its children."
    ]
    public_objective.refresh_from_db()
    assert (public_objective.parent, public_objective.version) == (None, 1)


def test_a_move_leaving_key_results_due_outside_is_refused_in_the_admin(
    admin_site, public_key_result, organisation, quarter
):
    following = next_cycle(organisation, quarter, TODAY)
    public_key_result.due_date = date(2026, 11, 30)
    public_key_result.save()
    objective = public_key_result.objective
    data = opened(admin_site, objective) | {"cycle": following.pk}

    response = admin_site.post(change_url(objective), data)

    assert response.status_code == 200
    [message] = response.context["adminform"].form.errors["cycle"]
    assert message.startswith("These key results are due outside FY2027 Q4")
    objective.refresh_from_db()
    assert objective.cycle == quarter


def test_key_results_are_listed_in_the_objective_admin_but_edited_on_their_own(
    admin_site, public_objective, public_key_result
):
    response = admin_site.get(change_url(public_objective))

    [inline] = response.context["inline_admin_formsets"]
    assert not inline.has_add_permission
    assert not inline.has_change_permission
    assert not inline.has_delete_permission
    assert change_url(public_key_result) in response.content.decode()


# Key results: the app's rules


def test_saving_a_key_result_in_the_admin_bumps_its_version(
    admin_site, public_key_result
):
    data = opened(admin_site, public_key_result) | {"title": "30+ days past due"}

    response = admin_site.post(change_url(public_key_result), data)

    assert response.status_code == 302
    public_key_result.refresh_from_db()
    assert (public_key_result.title, public_key_result.version) == (
        "30+ days past due",
        2,
    )


def test_an_increase_below_its_start_is_refused_inline(admin_site, private_key_result):
    data = opened(admin_site, private_key_result) | {
        "start_value": "30",
        "target_value": "10",
    }

    response = admin_site.post(change_url(private_key_result), data)

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["target_value"] == [
        "An increase needs a target above the start value."
    ]
    private_key_result.refresh_from_db()
    assert (private_key_result.start_value, private_key_result.version) == (0, 1)


def test_a_relative_target_follows_a_new_baseline_saved_in_the_admin(
    admin_site, public_objective, people
):
    key_result = KeyResult(
        objective=public_objective,
        owner=people["member"],
        title="30+ delinquency rate",
        kind="decrease",
        unit="percent",
        start_value=Decimal("8"),
        target_mode="relative_percent",
        target_change=Decimal("-15"),
    )
    services.create_key_result(people["member"], key_result)
    data = opened(admin_site, key_result) | {"start_value": "10"}

    response = admin_site.post(change_url(key_result), data)

    assert response.status_code == 302
    key_result.refresh_from_db()
    assert (key_result.start_value, key_result.target_value) == (
        Decimal("10"),
        Decimal("8.5"),
    )


def test_a_due_date_outside_the_cycle_is_refused_inline(admin_site, public_key_result):
    data = opened(admin_site, public_key_result) | {"due_date": "2027-02-01"}

    response = admin_site.post(change_url(public_key_result), data)

    assert response.status_code == 200
    [error] = response.context["adminform"].form.errors["due_date"]
    assert error.startswith("FY2027 Q3 ends on 31 Dec 2026")
    public_key_result.refresh_from_db()
    assert public_key_result.due_date is None


def test_a_stale_key_result_save_is_refused(admin_site, public_key_result, people):
    data = opened(admin_site, public_key_result) | {"title": "Admin's title"}
    meanwhile = KeyResult.objects.get(pk=public_key_result.pk)
    meanwhile.target_value = Decimal("6.5")
    services.update_key_result(
        people["member"], meanwhile, expected_version=1, reason="Budget cut"
    )

    response = admin_site.post(change_url(public_key_result), data)

    assert response.status_code == 200
    assert any("Someone else saved this key result" in e for e in errors_of(response))
    public_key_result.refresh_from_db()
    assert (public_key_result.title, public_key_result.target_value) == (
        "30+ delinquency rate",
        Decimal("6.5"),
    )


def test_saving_an_initiative_in_the_admin_bumps_its_version(
    admin_site, public_objective, people
):
    initiative = Initiative.objects.create(
        objective=public_objective, title="Call the top ten debtors"
    )
    data = opened(admin_site, initiative) | {"title": "Call the top twenty debtors"}

    response = admin_site.post(change_url(initiative), data)

    assert response.status_code == 302
    initiative.refresh_from_db()
    assert initiative.version == 2


# Check-ins: append-only history


@pytest.fixture
def check_in(public_key_result, people) -> CheckIn:
    return services.record_check_in(
        people["member"],
        public_key_result,
        as_of=date(2026, 11, 1),
        value=Decimal("7.5"),
        today=TODAY,
    )


def test_check_ins_cannot_be_deleted_in_the_admin(admin_site, check_in):
    response = admin_site.post(delete_url(check_in), {"post": "yes"})

    assert response.status_code == 403
    assert CheckIn.objects.filter(pk=check_in.pk).exists()


def test_check_ins_cannot_be_added_in_the_admin(admin_site, check_in):
    assert admin_site.get(add_url(CheckIn)).status_code == 403


def test_check_ins_are_shown_read_only_in_the_admin(admin_site, check_in):
    response = admin_site.get(change_url(check_in))

    assert response.status_code == 200
    assert response.context["adminform"].form.fields == {}
    changelist = admin_site.get(reverse("admin:okrs_checkin_changelist"))
    actions = changelist.context["action_form"]
    assert actions is None or "delete_selected" not in dict(
        actions.fields["action"].choices
    )


# Deleting OKRs


def test_a_superuser_may_delete_an_objective_in_the_admin(admin_site, public_objective):
    response = admin_site.post(delete_url(public_objective), {"post": "yes"})

    assert response.status_code == 302
    assert not Objective.objects.filter(pk=public_objective.pk).exists()


def test_a_superuser_may_delete_a_key_result_with_its_check_ins(
    admin_site, public_key_result, check_in
):
    response = admin_site.post(delete_url(public_key_result), {"post": "yes"})

    assert response.status_code == 302
    assert not KeyResult.objects.filter(pk=public_key_result.pk).exists()
    assert not CheckIn.objects.filter(pk=check_in.pk).exists()


@pytest.mark.parametrize("item", ["public_objective", "public_key_result"])
def test_staff_who_are_not_superusers_cannot_delete_okrs(client, staff, item, request):
    target = request.getfixturevalue(item)
    client.force_login(staff)

    response = client.post(delete_url(target), {"post": "yes"})

    assert response.status_code == 403
    assert type(target).objects.filter(pk=target.pk).exists()


# Organisation and memberships


def test_changing_the_fiscal_year_start_warns_that_cycles_keep_their_dates(
    admin_site, organisation, quarter
):
    data = opened(admin_site, organisation) | {"fiscal_year_start_month": "5"}

    response = admin_site.post(change_url(organisation), data, follow=True)

    said = [str(message) for message in get_messages(response.wsgi_request)]
    assert (
        "Existing cycles keep their dates; new cycles follow the new calendar." in said
    )
    quarter.refresh_from_db()
    assert (quarter.start_date, quarter.end_date) == (
        date(2026, 10, 1),
        date(2026, 12, 31),
    )


def test_saving_the_organisation_without_moving_the_year_gives_no_warning(
    admin_site, organisation, quarter
):
    data = opened(admin_site, organisation) | {"name": "Acme Credit Ltd"}

    response = admin_site.post(change_url(organisation), data, follow=True)

    said = [str(message) for message in get_messages(response.wsgi_request)]
    assert not any("keep their dates" in message for message in said)


def test_without_cycles_a_new_fiscal_year_start_gives_no_warning(
    admin_site, organisation
):
    data = opened(admin_site, organisation) | {"fiscal_year_start_month": "5"}

    response = admin_site.post(change_url(organisation), data, follow=True)

    said = [str(message) for message in get_messages(response.wsgi_request)]
    assert not any("keep their dates" in message for message in said)


def test_the_fiscal_year_start_says_existing_cycles_keep_their_dates(
    admin_site, organisation
):
    page = admin_site.get(change_url(organisation)).content.decode()

    assert "Existing cycles keep their dates" in page


def test_the_membership_inline_says_an_administrator_is_organisation_wide(
    admin_site, teams, people
):
    response = admin_site.get(change_url(teams["credit_risk"]))

    page = response.content.decode()
    assert "Administrator (whole organisation)" in page
    assert "every team" in page
    assert Role.ADMIN.label == "Administrator (whole organisation)"


def test_cycles_made_under_an_older_calendar_still_open_in_the_admin(
    admin_site, organisation, calendar
):
    cycle = ensure_cycle(organisation, calendar.quarter_period(2027, 3), TODAY)
    organisation.fiscal_year_start_month = 1
    organisation.save()

    assert admin_site.get(change_url(cycle)).status_code == 200


# Cycles: a meeting moved in the admin is newer for calendars


def cycle_form(client, cycle) -> dict[str, Any]:
    """The cycle page as posted back, with each meeting's start in the two
    boxes (date, time) the admin shows it in: the organisation's zone."""
    response = client.get(change_url(cycle))
    data = form_data(response)
    zone = ZoneInfo("Europe/London")
    for inline in response.context["inline_admin_formsets"]:
        for form in inline.formset.forms:
            start = form["starts_at"].value().astimezone(zone)
            day, at = start.date(), start.time()
            data[form.add_prefix("starts_at_0")] = str(day)
            data[form.add_prefix("starts_at_1")] = str(at)
    return data


def test_moving_a_meeting_in_the_admin_raises_its_sequence(admin_site, quarter):
    event = quarter.cadence_events.order_by("starts_at").first()
    assert event is not None
    data = cycle_form(admin_site, quarter)
    prefix = next(
        key.removesuffix("-id")
        for key, value in data.items()
        if key.endswith("-id") and value == str(event.pk)
    )

    notes_only = data | {f"{prefix}-notes": "Bring the watch list."}
    assert admin_site.post(change_url(quarter), notes_only).status_code == 302
    event.refresh_from_db()
    assert (event.notes, event.sequence) == ("Bring the watch list.", 0)

    moved = cycle_form(admin_site, quarter) | {f"{prefix}-location": "Room 4"}
    assert admin_site.post(change_url(quarter), moved).status_code == 302
    event.refresh_from_db()
    assert (event.location, event.sequence) == ("Room 4", 1)
