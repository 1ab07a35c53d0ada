"""Every change to OKRs, cycles and memberships is written to the history:
who, when, from what to what, and why. A changed target needs a reason."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from creditokr.accounts.models import Membership, Role, User
from creditokr.activity.models import ChangeRecord
from creditokr.activity.recording import acting, attribute
from creditokr.cycles.services import ensure_cycle
from creditokr.okrs import services
from creditokr.okrs.models import CheckIn, Initiative, KeyResult, Objective
from tests.activity.conftest import last_row, rows_for
from tests.conftest import TODAY, make_key_result, make_objective, make_user
from tests.test_admin import change_url, form_data
from tests.test_edit_initiatives import edit_data as initiative_edit_data
from tests.test_edit_key_results import edit_data as key_result_edit_data
from tests.test_edit_objectives import objective_data

Action = ChangeRecord.Action
TARGET_REFUSED = (
    "This changes the target; say why in “Reason for the change”. "
    "The reason is kept in the key result's history."
)


# Objectives


def test_an_objective_edit_records_who_what_and_why(
    client, people, teams, public_objective
):
    client.force_login(people["manager"])
    data = objective_data(
        public_objective,
        title="Cut 30+ delinquency to 6.8%",
        priority="high",
        reason="The board asked for the number in the title",
    )

    response = client.post(reverse("objective_edit", args=[public_objective.pk]), data)

    assert response.status_code == 302
    row = last_row(public_objective)
    assert row.action == Action.UPDATE
    assert row.actor == people["manager"]
    assert row.changes == {
        "title": ["Reduce 30+ delinquency", "Cut 30+ delinquency to 6.8%"],
        "priority": ["medium", "high"],
    }
    assert row.reason == "The board asked for the number in the title"
    assert (row.objective_id, row.team_id, row.team_only) == (
        public_objective.pk,
        teams["credit_risk"].pk,
        False,
    )


def test_an_objective_edit_needs_no_reason(client, people, public_objective):
    client.force_login(people["manager"])
    data = objective_data(public_objective, priority="low")

    response = client.post(reverse("objective_edit", args=[public_objective.pk]), data)

    assert response.status_code == 302
    row = last_row(public_objective)
    assert (row.changes, row.reason) == ({"priority": ["medium", "low"]}, "")


def test_a_status_override_keeps_its_reason_as_the_change_reason(
    people, public_objective
):
    services.set_status_override(
        people["member"], public_objective, "at_risk", " Bureau feed late ", 1
    )

    row = last_row(public_objective)
    assert row.actor == people["member"]
    assert row.changes == {
        "status_override": ["", "at_risk"],
        "status_override_reason": ["", "Bureau feed late"],
    }
    assert row.reason == "Bureau feed late"


def test_creating_an_objective_records_its_creator(people, quarter, teams):
    objective = Objective(
        cycle=quarter,
        team=teams["credit_risk"],
        owner=people["member"],
        title="Collect faster",
    )

    services.create_objective(people["member"], objective)

    [row] = rows_for(objective)
    assert (row.action, row.actor, row.objective_id) == (
        Action.CREATE,
        people["member"],
        objective.pk,
    )
    assert row.changes["title"] == ["None", "Collect faster"]
    assert "id" not in row.changes
    assert "key_results" not in row.changes  # no reverse relations


# Key results: the target needs a reason


def test_a_target_change_without_a_reason_is_refused_and_changes_nothing(
    client, people, public_key_result
):
    client.force_login(people["member"])
    url = reverse("key_result_edit", args=[public_key_result.pk])
    before = ChangeRecord.objects.count()

    response = client.post(
        url, key_result_edit_data(public_key_result, target_value="6.5")
    )

    assert response.status_code == 400
    assert response.context["form"].errors["reason"] == [TARGET_REFUSED]
    public_key_result.refresh_from_db()
    assert public_key_result.target_value == Decimal("6.8")
    assert public_key_result.version == 1
    assert ChangeRecord.objects.count() == before


def test_a_target_change_with_a_reason_is_stored_with_it(
    client, people, public_key_result
):
    client.force_login(people["member"])
    url = reverse("key_result_edit", args=[public_key_result.pk])

    response = client.post(
        url,
        key_result_edit_data(
            public_key_result, target_value="6.5", reason="  Risk appetite cut  "
        ),
    )

    assert response.status_code == 302
    row = last_row(public_key_result)
    assert row.actor == people["member"]
    assert row.changes == {"target_value": ["6.8000", "6.5"]}
    assert row.reason == "Risk appetite cut"
    assert row.key_result_id == public_key_result.pk
    assert row.objective_id == public_key_result.objective_id


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"kind": "stay_below", "start_value": None}, "kind, baseline"),
        ({"start_value": Decimal("8.5")}, "baseline"),
        ({"kind": "milestone"}, "kind, baseline, target"),
        (
            {"target_mode": "relative_percent", "target_change": Decimal(-20)},
            "how the target is set, target",
        ),
    ],
)
def test_the_refusal_names_every_part_of_the_target_that_changes(
    people, public_key_result, changes, named
):
    key_result = KeyResult.objects.get(pk=public_key_result.pk)
    for name, value in changes.items():
        setattr(key_result, name, value)

    with pytest.raises(ValidationError) as raised:
        services.update_key_result(people["member"], key_result, 1)

    [message] = raised.value.message_dict["reason"]
    assert message.startswith(f"This changes the target ({named}); say why")
    assert KeyResult.objects.get(pk=public_key_result.pk).version == 1


def test_filling_in_a_missing_baseline_needs_no_reason(
    client, people, public_objective
):
    waiting = make_key_result(
        public_objective,
        people["member"],
        start_value=None,
        target_value=None,
        target_mode="relative_percent",
        target_change=Decimal(-15),
    )
    client.force_login(people["member"])

    response = client.post(
        reverse("key_result_edit", args=[waiting.pk]),
        key_result_edit_data(waiting, start_value="8", target_value=""),
    )

    assert response.status_code == 302
    row = last_row(waiting)
    assert row.changes == {
        "start_value": ["None", "8"],
        "target_value": ["None", "6.8000"],
    }
    assert row.reason == ""


def test_an_edit_that_leaves_the_target_alone_needs_no_reason(
    client, people, public_key_result
):
    client.force_login(people["member"])

    response = client.post(
        reverse("key_result_edit", args=[public_key_result.pk]),
        key_result_edit_data(public_key_result, title="30+ DPD rate", weight="2"),
    )

    assert response.status_code == 302
    row = last_row(public_key_result)
    assert row.changes == {
        "title": ["30+ delinquency rate", "30+ DPD rate"],
        "weight": ["1.000", "2"],
    }


def test_a_number_typed_with_fewer_places_is_no_change(people, public_key_result):
    key_result = KeyResult.objects.get(pk=public_key_result.pk)
    key_result.start_value = Decimal("8")  # stored as 8.0000
    key_result.weight = Decimal("1.0")  # stored as 1.000
    key_result.title = "Accounts 30+ days past due"

    services.update_key_result(people["member"], key_result, 1)

    assert last_row(key_result).changes == {
        "title": ["30+ delinquency rate", "Accounts 30+ days past due"],
    }


def test_an_edit_over_a_newer_save_is_a_conflict_before_any_reason(
    people, public_key_result
):
    theirs = KeyResult.objects.get(pk=public_key_result.pk)
    theirs.target_value = Decimal("7")
    services.update_key_result(people["manager"], theirs, 1, reason="Budget cut")
    mine = KeyResult.objects.get(pk=public_key_result.pk)
    mine.target_value = Decimal("6")

    with pytest.raises(services.EditConflict):
        services.update_key_result(people["member"], mine, 1)


# Initiatives


def test_an_initiative_edit_records_its_reason(client, people, public_key_result):
    initiative = Initiative.objects.create(
        objective=public_key_result.objective,
        key_result=public_key_result,
        title="Weekly roll-rate report",
        assignee=people["member"],
    )
    client.force_login(people["member"])

    response = client.post(
        reverse("initiative_edit", args=[initiative.pk]),
        initiative_edit_data(initiative, state="in_progress", reason="Vendor signed"),
    )

    assert response.status_code == 302
    row = last_row(initiative)
    assert (row.actor, row.reason) == (people["member"], "Vendor signed")
    assert row.changes == {"state": ["not_started", "in_progress"]}
    assert row.objective_id == public_key_result.objective_id
    assert row.key_result_id is None  # its own history, not the key result's


# Check-ins: the statuses before and after


@pytest.fixture
def two_key_results(people, public_key_result):
    """The 30+ rate (decrease 8% to 6.8%) and a count (0 to 40 reviews).

    On 15 Nov the quarter (1 Oct to 31 Dec, 91 days) is 45 days in, so the
    expected progress is 45/91 = 49.45%.
    """
    reviews = make_key_result(
        public_key_result.objective,
        people["member"],
        title="Limit reviews",
        kind="increase",
        unit="count",
        start_value=Decimal(0),
        target_value=Decimal(40),
    )
    return public_key_result, reviews


def check_in(people, key_result, value):
    return services.record_check_in(
        people["member"], key_result, as_of=TODAY, value=Decimal(value), today=TODAY
    )


def test_a_check_in_row_keeps_the_statuses_before_and_after(people, two_key_results):
    rate, reviews = two_key_results

    # 7.4%: 0.6 of 1.2 points = 50% >= 49.45% expected: on track. The
    # objective was not started (no check-in at all); now the worst of on
    # track and not started is on track.
    first = last_row(check_in(people, rate, "7.4"))
    # 12 of 40 = 30%, 19.45 points behind (10 to 25 behind): at risk.
    second = last_row(check_in(people, reviews, "12"))
    # 7.9%: 0.1 of 1.2 = 8.33%, 41.1 points behind (over 25): off track.
    third = last_row(check_in(people, rate, "7.9"))

    assert first.actor == people["member"]
    assert first.action == Action.CREATE
    assert first.changes["value"] == ["None", "7.4"]
    assert first.additional_data == {
        "key_result": "30+ delinquency rate",
        "unit": "%",
        "status": {
            "objective": ["not_started", "on_track"],
            "key_result": ["not_started", "on_track"],
        },
    }
    assert second.additional_data["status"] == {
        "objective": ["on_track", "at_risk"],
        "key_result": ["not_started", "at_risk"],
    }
    assert third.additional_data["status"] == {
        "objective": ["at_risk", "off_track"],
        "key_result": ["on_track", "off_track"],
    }
    assert (third.objective_id, third.key_result_id) == (rate.objective_id, rate.pk)


def test_a_status_set_by_hand_is_the_objective_status_before_and_after(
    people, two_key_results
):
    rate, _ = two_key_results
    services.set_status_override(
        people["manager"], rate.objective, "at_risk", "Portfolio sale", 1
    )

    row = last_row(check_in(people, rate, "7.9"))

    assert row.additional_data["status"] == {
        "objective": ["at_risk", "at_risk"],
        "key_result": ["not_started", "off_track"],
    }


def test_a_check_in_costs_few_queries_for_its_statuses(
    people, two_key_results, django_assert_max_num_queries
):
    rate, _ = two_key_results
    rate = KeyResult.objects.select_related("objective__cycle").get(pk=rate.pk)

    # Validation and the check-in itself, the organisation, the statuses
    # twice (2 each), the row and its place.
    with django_assert_max_num_queries(16):
        check_in(people, rate, "7.4")


# Archiving


def test_archive_and_restore_write_one_row_each_and_a_repeat_none(
    people, public_key_result
):
    manager = people["manager"]

    assert services.archive_key_result(manager, public_key_result)
    assert not services.archive_key_result(manager, public_key_result)
    assert services.restore_key_result(manager, public_key_result)
    assert not services.restore_key_result(manager, public_key_result)

    rows = rows_for(public_key_result, action=Action.UPDATE)
    assert [(r.changes, r.actor) for r in rows] == [
        ({"archived": ["False", "True"]}, manager),
        ({"archived": ["True", "False"]}, manager),
    ]
    assert {r.key_result_id for r in rows} == {public_key_result.pk}


def test_archiving_an_objective_in_the_app_is_recorded(
    client, people, public_objective
):
    client.force_login(people["manager"])
    url = reverse("objective_archive", args=[public_objective.pk])

    client.post(url, {"action": "archive"})
    client.post(url, {"action": "archive"})

    [row] = rows_for(public_objective, action=Action.UPDATE)
    assert (row.actor, row.changes) == (
        people["manager"],
        {"archived": ["False", "True"]},
    )


# Cycles


def test_moving_a_cycle_on_records_who_moved_it(client, people, quarter):
    client.force_login(people["manager"])

    response = client.post(
        reverse("cycle_state", args=[quarter.pk]),
        {"state": "in_review", "confirm": "yes"},
    )

    assert response.status_code == 302
    row = last_row(quarter)
    assert (row.actor, row.changes) == (
        people["manager"],
        {"state": ["active", "in_review"]},
    )


def test_a_cycle_made_by_someone_is_theirs_in_the_history(
    organisation, calendar, people
):
    cycle = ensure_cycle(
        organisation, calendar.quarter_period(2027, 4), TODAY, user=people["admin"]
    )

    [row] = rows_for(cycle)
    assert (row.action, row.actor) == (Action.CREATE, people["admin"])


def test_a_cycle_made_by_a_command_has_no_actor(organisation, calendar, people):
    cycle = ensure_cycle(organisation, calendar.quarter_period(2027, 4), TODAY)

    assert last_row(cycle).actor is None


# Memberships and accounts


def test_a_membership_changed_in_the_admin_is_put_down_to_the_admin(
    client, people, teams
):
    root = User.objects.create_superuser("root", "root@example.test", "pw")
    client.force_login(root)
    team = teams["credit_risk"]
    membership = Membership.objects.get(user=people["member"], team=team)
    page = client.get(change_url(team))
    data = form_data(page)
    [prefix] = [
        key.removesuffix("-id")
        for key, value in data.items()
        if key.endswith("-id") and value == str(membership.pk)
    ]
    data[f"{prefix}-role"] = Role.MANAGER

    response = client.post(change_url(team), data)

    assert response.status_code == 302
    row = last_row(membership)
    assert (row.actor, row.subject, row.team) == (root, people["member"], team)
    assert row.changes == {"role": ["member", "manager"]}
    assert row.additional_data == {"person": "Member", "team": "Credit Risk"}


def test_a_deactivated_account_is_recorded(people):
    leaver = people["viewer"]
    leaver.is_active = False
    attribute(leaver, people["admin"], "Left the company")
    leaver.save()

    row = last_row(leaver)
    assert (row.actor, row.subject, row.reason) == (
        people["admin"],
        leaver,
        "Left the company",
    )
    assert row.changes == {"is_active": ["True", "False"]}


# Attribution


def test_acting_puts_every_change_in_a_block_down_to_someone(people, quarter):
    with acting(people["admin"]):
        quarter.name = "FY2027 Q3 (Oct-Dec)"
        quarter.save()

    assert last_row(quarter).actor == people["admin"]


def test_an_attribution_lasts_for_one_save(people, public_objective):
    attribute(public_objective, people["manager"], "Renamed")
    public_objective.title = "First"
    public_objective.save()
    public_objective.title = "Second"
    public_objective.save()

    first, second = rows_for(public_objective, action=Action.UPDATE)
    assert (first.actor, first.reason) == (people["manager"], "Renamed")
    assert (second.actor, second.reason) == (None, "")


def test_a_later_attribution_without_a_reason_keeps_the_earlier_one(
    people, public_key_result
):
    attribute(public_key_result, people["manager"], "Handing over")
    public_key_result.owner = people["manager"]
    services.update_key_result(people["manager"], public_key_result, 1)

    assert last_row(public_key_result).reason == "Handing over"


# Deleting: no row may point at what is being deleted. The database checks
# references when the transaction ends; the test asks it to check at once.


def test_deleting_an_objective_and_a_person_leaves_no_broken_reference(
    organisation, teams, people, quarter
):
    objective = make_objective(
        quarter, teams["credit_risk"], people["member"], visibility="team"
    )
    key_result = make_key_result(objective, people["member"])
    services.record_check_in(
        people["member"], key_result, as_of=TODAY, value=Decimal(7), today=TODAY
    )
    leaver = make_user("leaver", teams["collections"], Role.MEMBER)
    earlier = set(
        ChangeRecord.objects.filter(objective=objective).values_list("pk", flat=True)
    )

    objective.delete()
    leaver.delete()
    connection.check_constraints()

    sealed = ChangeRecord.objects.filter(pk__in=earlier)
    assert len(earlier) == 3  # the objective, key result and check-in
    assert {(r.objective_id, r.team_id, r.team_only) for r in sealed} == {
        (None, teams["credit_risk"].pk, True)
    }
    assert CheckIn.objects.count() == 0
    removed = ChangeRecord.objects.get(
        action=Action.DELETE, content_type__model="membership"
    )
    assert (removed.subject_id, removed.team_id) == (None, teams["collections"].pk)


def test_an_unchanged_save_writes_nothing(people, public_objective):
    before = ChangeRecord.objects.count()
    public_objective.save()
    assert ChangeRecord.objects.count() == before


def test_check_in_dates_are_kept_as_written(people, public_key_result):
    row = last_row(
        services.record_check_in(
            people["member"],
            public_key_result,
            as_of=date(2026, 11, 10),
            value=Decimal("7.25"),
            note="Month-end tape",
            today=TODAY,
        )
    )

    assert row.changes["as_of"] == ["None", "2026-11-10"]
    assert row.changes["note"] == ["None", "Month-end tape"]
