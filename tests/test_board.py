"""Progress and status of objectives as one viewer sees them.

FY2027 Q3 runs 1 Oct - 31 Dec 2026: 91 days from its start to its last day.
On 15 Nov, 45 of them have passed, so a steady pace expects 45/91 = 49.45%.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from creditokr.accounts.models import Organisation, User
from creditokr.cycles.fiscal import local_today
from creditokr.cycles.models import Cycle
from creditokr.cycles.services import ensure_cycle
from creditokr.okrs.access import actor_for, visible_objectives
from creditokr.okrs.board import ObjectiveCard, objective_cards
from creditokr.okrs.models import CheckIn, KeyResult, Objective, Visibility
from creditokr.okrs.progress import Kind, Status
from tests.conftest import TODAY, make_key_result, make_objective

D = Decimal

pytestmark = pytest.mark.django_db


def count_key_result(objective: Objective, **fields) -> KeyResult:
    """An increase from 0 to 10 reviews unless told otherwise."""
    defaults = {
        "title": "Limit reviews done",
        "kind": Kind.INCREASE,
        "unit": "count",
        "start_value": D(0),
        "target_value": D(10),
    }
    return make_key_result(objective, objective.owner, **(defaults | fields))


def check_in(key_result: KeyResult, value: str, as_of: date = TODAY) -> CheckIn:
    return CheckIn.objects.create(
        key_result=key_result, value=D(value), author=key_result.owner, as_of=as_of
    )


def cards(
    user: User, *objectives: Objective, today: date = TODAY
) -> list[ObjectiveCard]:
    actor = actor_for(user)
    queryset = visible_objectives(actor).filter(pk__in=[o.pk for o in objectives])
    return objective_cards(actor, queryset, Organisation.get(), today)


def card_for(user: User, objective: Objective, today: date = TODAY) -> ObjectiveCard:
    (card,) = cards(user, objective, today=today)
    return card


def cycle_list(user: User, cycle: Cycle) -> list[Objective]:
    """The objectives a cycle's page lists: by reference, never by dates."""
    actor = actor_for(user)
    queryset = visible_objectives(actor).filter(cycle=cycle, archived=False)
    return [
        card.objective
        for card in objective_cards(actor, queryset, Organisation.get(), TODAY)
    ]


# --- weighted roll-up -----------------------------------------------------


def test_objective_progress_is_the_weighted_mean_of_its_key_results(
    public_objective, people
):
    # (100 x 1 + 0 x 3) / 4 = 25
    check_in(count_key_result(public_objective, weight=D(1)), "10")
    check_in(count_key_result(public_objective, weight=D(3)), "0")

    card = card_for(people["member"], public_objective)

    assert card.progress == D(25)


def test_key_results_weigh_the_same_by_default(public_objective, people):
    check_in(count_key_result(public_objective), "10")
    check_in(count_key_result(public_objective), "0")

    assert card_for(people["member"], public_objective).progress == D(50)


def test_an_archived_key_result_is_left_out(public_objective, people):
    check_in(count_key_result(public_objective), "10")
    check_in(count_key_result(public_objective, archived=True), "0")

    card = card_for(people["member"], public_objective)

    assert card.progress == D(100)
    assert len(card.key_results) == 1


def test_progress_keeps_its_decimals_through_the_roll_up(public_objective, people):
    # 1 of 3 is 33.333...%; with a finished key result, (33.333... + 100) / 2.
    third = count_key_result(public_objective, target_value=D(3))
    check_in(third, "1")
    check_in(count_key_result(public_objective), "10")

    card = card_for(people["member"], public_objective)

    assert card.key_results[0].progress == D(1) / D(3) * 100
    assert card.progress is not None
    assert D("66.66666") < card.progress < D("66.66667")


def test_an_objective_without_check_ins_has_zero_progress(public_objective, people):
    count_key_result(public_objective)

    card = card_for(people["member"], public_objective)

    assert card.progress == D(0)
    assert card.computed_status == Status.NOT_STARTED


def test_the_latest_as_of_wins_even_if_entered_first(public_objective, people):
    key_result = count_key_result(public_objective)
    check_in(key_result, "8", as_of=date(2026, 11, 14))
    check_in(key_result, "2", as_of=date(2026, 10, 20))

    card = card_for(people["member"], public_objective)

    assert card.key_results[0].progress == D(80)


def test_a_decrease_moving_the_wrong_way_is_zero_and_worsening(
    public_objective, public_key_result, people
):
    # Delinquency was 8.0% with a target of 6.8%; it rose to 8.4%.
    check_in(public_key_result, "8.4")

    (key_result_card,) = card_for(people["member"], public_objective).key_results

    assert key_result_card.progress == D(0)
    assert key_result_card.worsening
    assert key_result_card.status == Status.OFF_TRACK


def test_a_key_result_without_a_target_shows_the_problem(public_objective, people):
    key_result = count_key_result(public_objective, target_value=None)
    check_in(key_result, "3")

    (key_result_card,) = card_for(people["member"], public_objective).key_results

    assert key_result_card.problem == "This key result has no target yet."
    assert key_result_card.status == Status.NOT_STARTED


# --- status ---------------------------------------------------------------


def test_objective_status_is_the_worst_of_its_key_results(public_objective, people):
    # Expected 49.45%: 40% is 9.45 behind (on track), 30% is 19.45 (at risk).
    check_in(count_key_result(public_objective), "4")
    check_in(count_key_result(public_objective), "3")

    card = card_for(people["member"], public_objective)

    assert [kr.status for kr in card.key_results] == [Status.ON_TRACK, Status.AT_RISK]
    assert card.status == Status.AT_RISK


def test_the_starting_status_shows_until_the_first_check_in(public_objective, people):
    public_objective.starting_status = Status.ON_TRACK
    public_objective.save()
    key_result = count_key_result(public_objective)

    before = card_for(people["member"], public_objective)
    check_in(key_result, "1")
    after = card_for(people["member"], public_objective)

    assert (before.status, before.computed_status) == (
        Status.ON_TRACK,
        Status.NOT_STARTED,
    )
    # 10% against an expected 49.45% is 39.45 points behind.
    assert after.status == after.computed_status == Status.OFF_TRACK


def test_the_starting_label_gives_way_when_a_milestone_is_done_first(
    public_objective, people
):
    """Complete + Not started computes as Not started; it is not the label."""
    public_objective.starting_status = Status.AT_RISK
    public_objective.save()
    done = count_key_result(public_objective, kind=Kind.MILESTONE, start_value=None)
    count_key_result(public_objective, title="Untouched")
    CheckIn.objects.create(
        key_result=done, done=True, author=people["member"], as_of=TODAY
    )

    card = card_for(people["member"], public_objective)

    assert card.computed_status == Status.NOT_STARTED
    assert card.status == Status.NOT_STARTED
    assert not card.is_starting_status


def test_an_override_is_shown_and_the_computed_status_kept(public_objective, people):
    public_objective.status_override = Status.AT_RISK
    public_objective.status_override_reason = "Bureau feed delayed"
    public_objective.save()
    check_in(count_key_result(public_objective), "5")

    card = card_for(people["member"], public_objective)

    assert card.status == Status.AT_RISK
    assert card.is_overridden
    assert card.computed_status == Status.ON_TRACK


def test_a_key_result_past_due_in_an_ended_quarter_is_off_track(
    public_objective, people
):
    check_in(count_key_result(public_objective), "9", as_of=date(2026, 12, 31))
    count_key_result(public_objective, title="Never checked in")

    card = card_for(people["member"], public_objective, today=date(2027, 1, 10))

    assert [kr.status for kr in card.key_results] == [Status.OFF_TRACK] * 2
    assert card.status == Status.OFF_TRACK


def test_a_late_check_in_after_the_quarter_ended_still_counts(public_objective, people):
    key_result = count_key_result(public_objective)
    check_in(key_result, "9", as_of=date(2026, 12, 31))
    check_in(key_result, "10", as_of=date(2027, 1, 4))

    card = card_for(people["member"], public_objective, today=date(2027, 1, 10))

    assert card.progress == D(100)
    assert card.status == Status.COMPLETE


def test_pace_follows_the_organisations_date_not_utcs(public_objective, people):
    # At 23:30 UTC on 15 Nov, London is still on the 15th (45/91 of the
    # quarter gone) while Kiritimati (UTC+14) is on the 16th (46/91).
    check_in(count_key_result(public_objective), "5")
    organisation = Organisation.get()

    with time_machine.travel(datetime(2026, 11, 15, 23, 30, tzinfo=UTC), tick=False):
        london_today = local_today(organisation.zone)
        london = card_for(people["member"], public_objective, today=london_today)
        organisation.time_zone = "Pacific/Kiritimati"
        organisation.save()
        kiritimati_today = local_today(Organisation.get().zone)
        kiritimati = card_for(people["member"], public_objective, kiritimati_today)

    assert (london_today, kiritimati_today) == (date(2026, 11, 15), date(2026, 11, 16))
    assert london.key_results[0].expected == D(45) / D(91) * 100
    assert kiritimati.key_results[0].expected == D(46) / D(91) * 100


# --- alignment ------------------------------------------------------------


@pytest.fixture
def parent(quarter, teams, people) -> Objective:
    """An organisation-wide objective measured only by its children."""
    return make_objective(
        quarter, teams["credit_risk"], people["manager"], title="Cut losses"
    )


def child(parent: Objective, title: str, progress: str, **fields) -> Objective:
    objective = make_objective(
        parent.cycle, parent.team, parent.owner, title=title, parent=parent, **fields
    )
    check_in(count_key_result(objective), str(D(progress) / 10))
    return objective


def test_a_parent_rolls_up_only_the_children_its_viewer_may_see(parent, people):
    child(parent, "Shared", "100")
    child(parent, "Team only", "0", visibility=Visibility.TEAM)

    for_member = card_for(people["member"], parent)
    for_outsider = card_for(people["outsider"], parent)

    assert for_member.progress == D(50)
    assert [c.objective.title for c in for_member.children] == ["Shared", "Team only"]
    assert for_outsider.progress == D(100)
    assert [c.objective.title for c in for_outsider.children] == ["Shared"]


def test_a_hidden_childs_status_does_not_reach_the_outsider(parent, people):
    child(parent, "Shared", "50")
    child(parent, "Team only", "0", visibility=Visibility.TEAM)

    assert card_for(people["member"], parent).status == Status.OFF_TRACK
    assert card_for(people["outsider"], parent).status == Status.ON_TRACK


def test_grandchildren_roll_up_through_their_parent(parent, people):
    middle = make_objective(parent.cycle, parent.team, parent.owner, parent=parent)
    child(middle, "Leaf A", "100")
    child(middle, "Leaf B", "20")

    assert card_for(people["member"], parent).progress == D(60)


def test_an_archived_child_is_left_out(parent, people):
    child(parent, "Live", "80")
    child(parent, "Dropped", "0", archived=True)

    assert card_for(people["member"], parent).progress == D(80)


def test_moving_a_child_changes_both_parents(parent, people):
    other = make_objective(
        parent.cycle, parent.team, parent.owner, title="Faster approvals"
    )
    moving = child(parent, "Moving", "100")
    child(parent, "Staying", "0")
    child(other, "Already there", "0")
    before = {
        c.objective.pk: c.progress for c in cards(people["member"], parent, other)
    }

    moving.parent = other
    moving.save()
    after = {c.objective.pk: c.progress for c in cards(people["member"], parent, other)}

    assert before == {parent.pk: D(50), other.pk: D(0)}
    assert after == {parent.pk: D(0), other.pk: D(50)}


# --- cycles ---------------------------------------------------------------


def test_moving_an_objective_to_another_cycle_moves_its_card(
    public_objective, organisation, calendar, quarter, people
):
    next_quarter = ensure_cycle(organisation, calendar.quarter_period(2027, 4), TODAY)
    key_result = count_key_result(public_objective)
    check_in(key_result, "0", as_of=date(2026, 10, 1))
    in_q3 = card_for(people["member"], public_objective)

    public_objective.cycle = next_quarter
    public_objective.save()
    in_q4 = card_for(people["member"], public_objective)

    assert cycle_list(people["member"], quarter) == []
    assert cycle_list(people["member"], next_quarter) == [public_objective]
    # Nothing done by mid-November is far behind in Q3, but Q4 has not begun.
    assert in_q3.status == Status.OFF_TRACK
    assert in_q4.key_results[0].expected == D(0)
    assert in_q4.status == Status.IN_PROGRESS


def test_an_objective_belongs_only_to_its_own_cycle(
    public_objective, organisation, calendar, quarter, people
):
    next_quarter = ensure_cycle(organisation, calendar.quarter_period(2027, 4), TODAY)
    count_key_result(public_objective, due_date=date(2027, 2, 15))

    assert cycle_list(people["member"], quarter) == [public_objective]
    assert cycle_list(people["member"], next_quarter) == []


# --- cost -----------------------------------------------------------------


def queries_for_cards(user: User, cycle: Cycle) -> int:
    actor = actor_for(user)
    objectives = visible_objectives(actor).filter(cycle=cycle, parent=None)
    organisation = Organisation.get()
    with CaptureQueriesContext(connection) as captured:
        objective_cards(actor, objectives, organisation, TODAY)
    return len(captured)


def test_the_number_of_queries_does_not_grow_with_objectives(quarter, teams, people):
    def add_objective_with_a_child(title: str) -> None:
        top = make_objective(
            quarter, teams["credit_risk"], people["member"], title=title
        )
        check_in(count_key_result(top), "5")
        child(top, f"{title}, aligned", "40")

    add_objective_with_a_child("First")
    one = queries_for_cards(people["member"], quarter)
    for n in range(4):
        add_objective_with_a_child(f"Another {n}")
    five = queries_for_cards(people["member"], quarter)

    assert five == one


def test_a_key_result_weighing_nothing_does_not_set_the_status(
    organisation, quarter, teams, people
):
    """Weight 0 leaves a key result out of the roll-up, status included."""
    objective = make_objective(quarter, teams["credit_risk"], people["member"])
    counted = count_key_result(objective)
    ignored = count_key_result(objective, title="Trial metric", weight=D(0))
    check_in(counted, "10")  # met: Complete
    check_in(ignored, "0")  # 0 of 10 six weeks in: behind pace

    card = card_for(people["member"], objective)

    assert [kr.status for kr in card.key_results] == [
        Status.COMPLETE,
        Status.OFF_TRACK,
    ]
    assert card.progress == 100
    assert card.computed_status == Status.COMPLETE
