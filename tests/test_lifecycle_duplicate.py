"""Duplicating an objective into a later cycle.

FY2027 Q3 runs 1 Oct - 31 Dec 2026 and Q4 1 Jan - 31 Mar 2027: Q4 starts
92 days after Q3 (31 days of October, 30 of November, 31 of December), so
due dates move 92 days: 30 Nov 2026 to 2 Mar 2027, 15 Dec 2026 to 17 Mar
2027, and 31 Dec 2026 to 2 Apr 2027, after Q4 ends (cleared).
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from creditokr.accounts.models import Organisation, Role
from creditokr.activity.models import ChangeRecord
from creditokr.creditdata.models import DataSource, KeyResultFeed
from creditokr.cycles.models import Cycle, CycleState
from creditokr.cycles.services import next_cycle
from creditokr.okrs.access import actor_for, teams_for_new_objectives
from creditokr.okrs.lifecycle import (
    AlreadyCopied,
    Target,
    can_duplicate,
    copy_targets,
    duplicate_objective,
)
from creditokr.okrs.models import (
    CheckIn,
    Initiative,
    InitiativeState,
    Objective,
    Priority,
    Visibility,
)
from tests.conftest import TODAY, make_key_result, make_objective, make_user

D = Decimal

KEY_RESULT_FIELDS = [
    "title",
    "owner_id",
    "definition",
    "kind",
    "unit",
    "currency_code",
    "unit_label",
    "start_value",
    "target_value",
    "target_mode",
    "target_change",
    "due_date",
    "weight",
    "position",
    "is_headline",
    "archived",
]
INITIATIVE_FIELDS = [
    "title",
    "description",
    "assignee_id",
    "priority",
    "state",
    "due_date",
    "position",
]


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(datetime(2026, 11, 15, 12, 0, tzinfo=UTC), tick=False):
        yield


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def source(teams, people) -> DataSource:
    return DataSource.objects.create(
        name="Receivables ledger",
        team=teams["credit_risk"],
        dataset="receivables",
        created_by=people["manager"],
    )


@pytest.fixture
def original(quarter, teams, people, source) -> Objective:
    member = people["member"]
    objective = make_objective(
        quarter,
        teams["credit_risk"],
        member,
        title="Collect faster",
        description="Cash in sooner from the SME book.",
        priority=Priority.HIGH,
        visibility=Visibility.ORGANISATION,
        starting_status="on_track",
    )
    dso = make_key_result(
        objective,
        member,
        title="Cut DSO to 40",
        definition="Receivables / credit sales x days, month end.",
        kind="decrease",
        unit="days",
        start_value=D(60),
        target_value=D(40),
        due_date=date(2026, 11, 30),
        weight=D(2),
        position=4,
        is_headline=True,
        template_key="dso",
    )
    cures = make_key_result(
        objective,
        people["manager"],
        title="Cure rate",
        unit="percent",
        kind="increase",
        start_value=D(20),
        target_value=D(22),
        target_mode="relative_percent",
        target_change=D(10),
        due_date=date(2026, 12, 31),
        position=1,
    )
    make_key_result(objective, member, title="Old measure", archived=True)
    CheckIn.objects.create(
        key_result=dso, value=D(55), author=member, as_of=date(2026, 11, 10)
    )
    KeyResultFeed.objects.create(
        key_result=dso,
        source=source,
        kpi="dso",
        settings={"days": 90},
        segments=["sme"],
        products=["card"],
        grain="quarter",
        baseline_from_data=False,
        created_by=people["manager"],
        last_error="File missing",
    )
    Initiative.objects.create(
        objective=objective,
        key_result=dso,
        title="Call the top 50 debtors",
        description="Start with the oldest.",
        assignee=member,
        priority=Priority.HIGH,
        state=InitiativeState.IN_PROGRESS,
        due_date=date(2026, 12, 15),
        position=3,
    )
    Initiative.objects.create(
        objective=objective,
        title="Write the dunning policy",
        state=InitiativeState.DONE,
        position=1,
    )
    Initiative.objects.create(
        objective=objective,
        key_result=cures,
        title="Fix the reminder letters",
        state=InitiativeState.BLOCKED,
        priority=Priority.LOW,
        position=5,
    )
    return objective


def duplicate(user, objective, cycle=None, **options):
    target = Target.of(cycle) if cycle is not None else next_target(user, objective)
    return duplicate_objective(
        actor_for(user),
        objective,
        target,
        organisation=Organisation.get(),
        today=TODAY,
        **options,
    )


def next_target(user, objective):
    targets = copy_targets(actor_for(user), objective, Organisation.get())
    assert targets[0].is_next
    return targets[0]


# What is copied


def test_the_objective_definition_is_copied_and_links_back(people, original):
    copied = duplicate(people["manager"], original)

    copy = copied.objective
    assert copy.cycle.name == "FY2027 Q4"
    assert (copy.cycle.start_date, copy.cycle.end_date) == (
        date(2027, 1, 1),
        date(2027, 3, 31),
    )
    assert copy.pk != original.pk
    assert copy.copied_from == original
    fields = ["title", "description", "team_id", "owner_id", "visibility", "priority"]
    assert [getattr(copy, f) for f in fields] == [getattr(original, f) for f in fields]
    # Not part of the definition: a starting label, overrides, template keys.
    assert (copy.starting_status, copy.status_override, copy.template_key) == (
        "",
        "",
        "",
    )
    assert (copy.archived, copy.parent_id) == (False, None)


def test_live_key_results_are_copied_with_due_dates_moved(people, original):
    copy = duplicate(people["manager"], original).objective

    carried = [
        {name: getattr(kr, name) for name in KEY_RESULT_FIELDS}
        for kr in copy.key_results.order_by("position")
    ]
    assert carried == [
        {
            "title": "Cure rate",
            "owner_id": people["manager"].pk,
            "definition": "",
            "kind": "increase",
            "unit": "percent",
            "currency_code": "",
            "unit_label": "",
            "start_value": D(20),
            "target_value": D(22),
            "target_mode": "relative_percent",
            "target_change": D(10),
            "due_date": None,  # 31 Dec + 92 days is 2 Apr, after Q4
            "weight": D(1),
            "position": 1,
            "is_headline": False,
            "archived": False,
        },
        {
            "title": "Cut DSO to 40",
            "owner_id": people["member"].pk,
            "definition": "Receivables / credit sales x days, month end.",
            "kind": "decrease",
            "unit": "days",
            "currency_code": "",
            "unit_label": "",
            "start_value": D(60),
            "target_value": D(40),
            "target_mode": "absolute",
            "target_change": None,
            "due_date": date(2027, 3, 2),  # 30 Nov + 92 days
            "weight": D(2),
            "position": 4,
            "is_headline": True,
            "archived": False,
        },
    ]
    assert not copy.key_results.filter(title="Old measure").exists()
    assert set(copy.key_results.values_list("template_key", flat=True)) == {""}


def test_no_check_ins_are_copied(people, original):
    copy = duplicate(people["manager"], original).objective

    assert not CheckIn.objects.filter(key_result__objective=copy).exists()
    assert CheckIn.objects.filter(key_result__objective=original).count() == 1


def test_the_data_feed_is_copied(people, original, source):
    copy = duplicate(people["manager"], original).objective

    feed = KeyResultFeed.objects.get(key_result__objective=copy)
    assert feed.key_result.title == "Cut DSO to 40"
    assert (feed.source, feed.payments_source, feed.kpi) == (source, None, "dso")
    assert (feed.settings, feed.segments, feed.products) == (
        {"days": 90},
        ["sme"],
        ["card"],
    )
    assert (feed.grain, feed.baseline_from_data) == ("quarter", False)
    assert feed.created_by == people["manager"]
    assert (feed.last_refreshed_at, feed.last_error) == (None, "")


def test_open_initiatives_are_copied_and_done_ones_stay(people, original):
    copy = duplicate(people["manager"], original).objective

    carried = [
        {name: getattr(i, name) for name in INITIATIVE_FIELDS}
        for i in copy.initiatives.order_by("position")
    ]
    assert carried == [
        {
            "title": "Call the top 50 debtors",
            "description": "Start with the oldest.",
            "assignee_id": people["member"].pk,
            "priority": "high",
            "state": "in_progress",
            "due_date": date(2027, 3, 17),  # 15 Dec + 92 days
            "position": 3,
        },
        {
            "title": "Fix the reminder letters",
            "description": "",
            "assignee_id": None,
            "priority": "low",
            "state": "blocked",
            "due_date": None,
            "position": 5,
        },
    ]
    by_title = {i.title: i.key_result for i in copy.initiatives.all()}
    assert by_title["Call the top 50 debtors"].objective == copy
    assert by_title["Call the top 50 debtors"].title == "Cut DSO to 40"
    assert by_title["Fix the reminder letters"].title == "Cure rate"


def test_the_message_says_what_was_copied_and_what_changed(people, original):
    copied = duplicate(people["manager"], original)

    assert copied.opened
    assert copied.message == (
        "Copied “Collect faster” into FY2027 Q4 with 2 key results and "
        "2 initiatives; no check-ins. FY2027 Q4 was opened for it. “Cure rate” "
        "was due 31 Dec 2026; 92 days later is outside FY2027 Q4, so the copy is "
        "due at the cycle end."
    )


def test_the_history_rows_carry_the_actor(people, original):
    copy = duplicate(people["manager"], original).objective

    rows = ChangeRecord.objects.filter(objective=copy, action=0)
    assert rows.count() == 1 + 2 + 2  # objective, key results, initiatives
    assert {(r.actor_id, r.reason) for r in rows} == {
        (people["manager"].pk, "Copied from “Collect faster” (FY2027 Q3)")
    }


# Where to


def test_the_same_cycle_is_refused(people, original, quarter):
    with pytest.raises(ValidationError) as refused:
        duplicate(people["manager"], original, quarter)

    assert refused.value.message_dict == {
        "cycle": [
            "“Collect faster” is in FY2027 Q3 already; pick a later cycle to "
            "carry it over to."
        ]
    }
    assert Objective.objects.count() == 1


def test_an_earlier_cycle_is_refused(people, original, fiscal_year):
    with pytest.raises(ValidationError) as refused:
        duplicate(people["manager"], original, fiscal_year)

    assert "FY2027 does not start after FY2027 Q3" in str(refused.value)


def test_a_closed_cycle_is_refused(people, original, organisation, quarter):
    later = next_cycle(organisation, quarter, TODAY)
    later.state = CycleState.CLOSED
    later.save()

    with pytest.raises(ValidationError) as refused:
        duplicate(people["manager"], original, later)

    assert "FY2027 Q4 is closed" in str(refused.value)
    assert not Objective.objects.filter(cycle=later).exists()


def test_a_second_copy_into_one_cycle_needs_saying_so(people, original):
    first = duplicate(people["manager"], original).objective

    with pytest.raises(AlreadyCopied) as repeat:
        duplicate(people["manager"], original, first.cycle)
    second = duplicate(people["manager"], original, first.cycle, again=True)

    assert repeat.value.copies == [first]
    assert second.objective.copied_from == original
    assert Objective.objects.filter(copied_from=original).count() == 2


def test_a_copy_the_person_cannot_see_does_not_count(people, original, teams):
    first = duplicate(people["manager"], original).objective
    first.team = teams["collections"]
    first.visibility = Visibility.TEAM
    first.save()

    second = duplicate(people["member"], original, first.cycle)

    assert second.objective.copied_from == original
    assert "Collections" not in second.message


def test_only_planners_open_the_next_cycle(people, original):
    member = people["member"]
    unopened = Target("FY2027 Q4", date(2027, 1, 1), date(2027, 3, 31), None, True)

    targets = copy_targets(actor_for(member), original, Organisation.get())
    with pytest.raises(ValidationError) as refused:
        duplicate_objective(
            actor_for(member),
            original,
            unopened,
            organisation=Organisation.get(),
            today=TODAY,
        )

    assert targets == []
    assert refused.value.message_dict == {
        "cycle": [
            "FY2027 Q4 is not open yet; a manager or administrator can open it "
            "from the cycles page."
        ]
    }
    assert not Cycle.objects.filter(name="FY2027 Q4").exists()


def test_the_next_cycle_comes_first_then_later_open_ones(
    people, original, organisation, quarter, calendar
):
    from creditokr.cycles.services import ensure_cycle

    q4 = next_cycle(organisation, quarter, TODAY)
    q1 = next_cycle(organisation, q4, TODAY)
    year = ensure_cycle(organisation, calendar.year_period(2028), TODAY)
    closed = next_cycle(organisation, q1, TODAY)
    closed.state = CycleState.CLOSED
    closed.save()

    targets = copy_targets(actor_for(people["member"]), original, organisation)

    assert [(t.label, t.cycle, t.is_next) for t in targets] == [
        ("FY2027 Q4", q4, True),
        ("FY2028 Q1", q1, False),  # quarters before years starting the same day
        ("FY2028", year, False),
    ]


def test_a_failure_part_way_leaves_nothing_behind(people, original):
    # Saved past the checks, as an old import might have: a currency
    # without its code is refused when the key result is copied.
    make_key_result(original, people["member"], title="Cash in", unit="currency")

    with pytest.raises(ValidationError) as refused:
        duplicate(people["manager"], original)

    assert "“Cash in” could not be copied: Give the currency's code" in str(
        refused.value
    )
    assert Objective.objects.filter(copied_from=original).count() == 0
    assert not Cycle.objects.filter(name="FY2027 Q4").exists()


# Alignment


def test_a_parent_whose_cycle_covers_the_new_one_is_kept(
    people, original, fiscal_year, teams
):
    parent = make_objective(
        fiscal_year, teams["credit_risk"], people["manager"], title="Healthy book"
    )
    original.parent = parent
    original.save()

    copied = duplicate(people["manager"], original)

    assert copied.objective.parent == parent
    assert copied.notes == (
        "“Cure rate” was due 31 Dec 2026; 92 days later is outside FY2027 Q4, "
        "so the copy is due at the cycle end.",
    )


def test_a_parent_left_in_the_old_cycle_is_dropped_and_said(
    people, original, quarter, teams
):
    parent = make_objective(
        quarter, teams["credit_risk"], people["manager"], title="Q3 push"
    )
    original.parent = parent
    original.save()

    copied = duplicate(people["manager"], original)

    assert copied.objective.parent is None
    assert (
        "It is no longer aligned to “Q3 push”: that objective is in FY2027 Q3. "
        "Align the copy from its edit page if it contributes to another."
    ) in copied.notes


def test_a_parent_carried_over_already_takes_the_copy(people, original, quarter, teams):
    parent = make_objective(
        quarter, teams["credit_risk"], people["manager"], title="Q3 push"
    )
    original.parent = parent
    original.save()
    parent_copy = duplicate(people["manager"], parent).objective

    copied = duplicate(people["manager"], original, parent_copy.cycle)

    assert copied.objective.parent == parent_copy
    assert (
        "It is aligned to “Q3 push” in FY2027 Q4, the copy of “Q3 push”."
        in copied.notes
    )


def test_a_parent_the_person_cannot_see_goes_without_a_word(
    people, original, fiscal_year, teams
):
    hidden = make_objective(
        fiscal_year,
        teams["collections"],
        people["admin"],
        title="Secret plan",
        visibility=Visibility.TEAM,
    )
    original.parent = hidden
    original.save()

    copied = duplicate(people["manager"], original)

    assert copied.objective.parent is None
    assert "Secret plan" not in copied.message


# People


def test_a_member_copying_someone_elses_objective_owns_the_copy(
    people, original, teams
):
    colleague = make_user("colleague", teams["credit_risk"], Role.MEMBER)
    q4 = next_cycle(Organisation.get(), original.cycle, TODAY)

    copied = duplicate(colleague, original, q4)

    assert copied.objective.owner == colleague
    assert copied.notes[0] == (
        "You own the copy: in Credit Risk you can only make yourself the owner."
    )


def test_people_who_left_are_replaced(people, original):
    member = people["member"]
    member.is_active = False
    member.save()

    copied = duplicate(people["manager"], original)

    copy = copied.objective
    assert copy.owner == people["manager"]
    assert copy.key_results.get(title="Cut DSO to 40").owner == people["manager"]
    assert copy.initiatives.get(title="Call the top 50 debtors").assignee is None
    assert "You own the copy: Member can no longer take part in it." in copied.notes
    assert (
        "“Call the top 50 debtors” is unassigned in the copy: Member can no "
        "longer take part in it."
    ) in copied.notes


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("admin", True),
        ("manager", True),
        ("member", True),
        ("viewer", False),
        ("outsider", False),
    ],
)
def test_who_may_copy_is_who_may_create_objectives_in_the_team(
    people, original, persona, allowed
):
    actor = actor_for(people[persona])
    creates = teams_for_new_objectives(actor).filter(pk=original.team_id).exists()

    assert can_duplicate(actor, original) is allowed
    assert (actor.is_contributor and creates) is allowed


@pytest.mark.parametrize("persona", ["viewer", "outsider"])
def test_people_who_cannot_create_in_the_team_cannot_copy(people, original, persona):
    q4 = next_cycle(Organisation.get(), original.cycle, TODAY)

    with pytest.raises(PermissionDenied):
        duplicate(people[persona], original, q4)

    assert not Objective.objects.filter(copied_from=original).exists()


# The pages


def test_the_page_offers_the_next_cycle_and_describes_the_copy(
    client, people, original
):
    client.force_login(people["manager"])

    page = client.get(reverse("objective_duplicate", args=[original.pk]))

    assert page.status_code == 200
    assert (
        '<option value="next" selected>FY2027 Q4 (opened by this copy) — the '
        "next cycle</option>"
    ) in page.text
    assert "2 key results, with baselines, targets" in page.text
    assert "1 archived one stays behind." in page.text
    assert "2 initiatives not done yet. 1 done one stays behind." in page.text
    assert "Due dates move 92 days" in page.text
    assert not Cycle.objects.filter(name="FY2027 Q4").exists()


def test_copying_lands_on_the_copy(client, people, original):
    client.force_login(people["manager"])

    response = client.post(
        reverse("objective_duplicate", args=[original.pk]), {"cycle": "next"}
    )

    copy = Objective.objects.get(copied_from=original)
    assert response.status_code == 302
    assert response["Location"] == reverse("objective_detail", args=[copy.pk])
    assert said(response)[0].startswith(
        "Copied “Collect faster” into FY2027 Q4 with 2 key results"
    )


def test_the_page_refuses_the_same_cycle(client, people, original, quarter):
    client.force_login(people["manager"])

    response = client.post(
        reverse("objective_duplicate", args=[original.pk]), {"cycle": quarter.pk}
    )

    assert response.status_code == 400
    assert "“Collect faster” is in FY2027 Q3 already" in response.text
    assert Objective.objects.count() == 1


@pytest.mark.parametrize("data", [{}, {"cycle": ""}])
def test_a_post_without_a_cycle_copies_nothing(client, people, original, data):
    client.force_login(people["manager"])

    response = client.post(reverse("objective_duplicate", args=[original.pk]), data)

    assert response.status_code == 400
    assert "Pick a cycle from the list to copy it to." in response.text
    assert Objective.objects.count() == 1
    assert Cycle.objects.filter(quarter=4).count() == 0


def test_the_page_shows_the_copy_already_made(client, people, original):
    client.force_login(people["manager"])
    url = reverse("objective_duplicate", args=[original.pk])
    client.post(url, {"cycle": "next"})
    first = Objective.objects.get(copied_from=original)
    q4 = str(first.cycle_id)

    page = client.get(url)
    repeat = client.post(url, {"cycle": q4})
    again = client.post(url, {"cycle": q4, "again": "yes"})

    link = reverse("objective_detail", args=[first.pk])
    assert f'href="{link}"' in page.text
    assert "Make another copy anyway" in page.text
    assert repeat.status_code == 409
    assert "It was copied into FY2027 Q4 already." in repeat.text
    assert f'href="{link}"' in repeat.text
    assert again.status_code == 302
    assert Objective.objects.filter(copied_from=original).count() == 2


def test_the_pages_link_both_ways(client, people, original):
    copy = duplicate(people["manager"], original).objective
    client.force_login(people["viewer"])

    original_page = client.get(reverse("objective_detail", args=[original.pk]))
    copy_page = client.get(reverse("objective_detail", args=[copy.pk]))

    copy_link = reverse("objective_detail", args=[copy.pk])
    original_link = reverse("objective_detail", args=[original.pk])
    assert "<dt>Continued in</dt>" in original_page.text
    assert f'<a href="{copy_link}">Collect faster</a>' in original_page.text
    assert "<dt>Copied from</dt>" in copy_page.text
    assert f'<a href="{original_link}">Collect faster</a>' in copy_page.text


def test_a_copy_the_viewer_cannot_see_is_not_linked(client, people, original):
    copy = duplicate(people["manager"], original).objective
    copy.visibility = Visibility.TEAM
    copy.save()
    client.force_login(people["outsider"])

    page = client.get(reverse("objective_detail", args=[original.pk]))

    assert page.status_code == 200
    assert "Continued in" not in page.text
    assert reverse("objective_detail", args=[copy.pk]) not in page.text


@pytest.mark.parametrize(
    ("persona", "shown"),
    [("admin", True), ("manager", True), ("member", True), ("viewer", False)],
)
def test_the_duplicate_button_shows_to_those_who_may(
    client, people, original, persona, shown
):
    client.force_login(people[persona])

    page = client.get(reverse("objective_detail", args=[original.pk]))

    url = reverse("objective_duplicate", args=[original.pk])
    assert (f'href="{url}"' in page.text) is shown
