"""The named operations on OKRs: check-ins, target definitions, edits.

The clock is frozen at noon UTC on 15 Nov 2026 unless a test says otherwise;
the organisation works in Europe/London, so its "today" is that same date.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from creditokr.accounts.models import Organisation
from creditokr.cycles.services import next_cycle
from creditokr.okrs.models import CheckIn, KeyResult, Objective, Unit
from creditokr.okrs.progress import Kind, Status, TargetMode
from creditokr.okrs.services import (
    EditConflict,
    apply_target_definition,
    check_parent,
    record_check_in,
    restore_key_result,
    save_versioned,
    set_status_override,
    unit_problem,
)
from tests.conftest import make_key_result, make_objective

D = Decimal
NOON_15_NOV = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOON_15_NOV, tick=False):
        yield


def errors_of(raised: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return raised.value.message_dict


# --- record_check_in ------------------------------------------------------


def test_check_in_saves_value_date_and_author(public_key_result, people):
    check_in = record_check_in(
        people["member"], public_key_result, as_of=date(2026, 11, 10), value=D("7.4")
    )

    stored = CheckIn.objects.get(pk=check_in.pk)
    assert stored.value == D("7.4")
    assert stored.as_of == date(2026, 11, 10)
    assert stored.author == people["member"]
    assert stored.done is None


def test_check_in_strips_the_note(public_key_result, people):
    check_in = record_check_in(
        people["member"],
        public_key_result,
        as_of=date(2026, 11, 10),
        value=D("7.4"),
        note="  bureau data in  \n",
    )

    assert check_in.note == "bureau data in"


def test_a_second_check_in_adds_a_row_and_keeps_the_first(public_key_result, people):
    first = record_check_in(
        people["member"], public_key_result, as_of=date(2026, 11, 1), value=D("7.9")
    )
    record_check_in(
        people["member"], public_key_result, as_of=date(2026, 11, 8), value=D("7.5")
    )

    history = list(public_key_result.check_ins.values_list("as_of", "value"))
    assert history == [(date(2026, 11, 8), D("7.5")), (date(2026, 11, 1), D("7.9"))]
    first.refresh_from_db()
    assert first.value == D("7.9")


def test_a_back_dated_check_in_entered_later_does_not_become_current(
    public_key_result, people
):
    record_check_in(
        people["member"], public_key_result, as_of=date(2026, 11, 14), value=D("7.2")
    )
    record_check_in(
        people["member"], public_key_result, as_of=date(2026, 10, 20), value=D("7.9")
    )

    current = public_key_result.check_ins.first()
    assert current is not None
    assert current.as_of == date(2026, 11, 14)
    assert current.value == D("7.2")


def test_a_late_check_in_dated_after_the_cycle_end_is_accepted(
    public_key_result, people
):
    # The quarter ended on 31 Dec 2026; the figure for 5 Jan arrives later.
    with time_machine.travel(datetime(2027, 1, 12, 12, 0, tzinfo=UTC), tick=False):
        check_in = record_check_in(
            people["member"], public_key_result, as_of=date(2027, 1, 5), value=D("6.7")
        )

    assert check_in.pk is not None
    assert public_key_result.check_ins.first() == check_in


def test_a_future_as_of_date_is_refused_naming_today(public_key_result, people):
    with pytest.raises(ValidationError) as raised:
        record_check_in(
            people["member"], public_key_result, as_of=date(2026, 11, 16), value=D(7)
        )

    assert errors_of(raised) == {
        "as_of": ["The as-of date cannot be in the future (today is 15 Nov 2026)."]
    }
    assert CheckIn.objects.count() == 0


def test_today_is_the_organisations_date_not_utcs(public_key_result, people):
    # 23:30 UTC on 15 Nov is already 16 Nov in Kiritimati (UTC+14).
    organisation = Organisation.get()
    organisation.time_zone = "Pacific/Kiritimati"
    organisation.save()

    with time_machine.travel(datetime(2026, 11, 15, 23, 30, tzinfo=UTC), tick=False):
        check_in = record_check_in(
            people["member"], public_key_result, as_of=date(2026, 11, 16), value=D(7)
        )

    assert check_in.as_of == date(2026, 11, 16)


def test_an_as_of_date_before_the_cycle_start_is_refused(public_key_result, people):
    with pytest.raises(ValidationError) as raised:
        record_check_in(
            people["member"], public_key_result, as_of=date(2026, 9, 30), value=D(7)
        )

    assert errors_of(raised) == {
        "as_of": ["FY2027 Q3 starts on 1 Oct 2026; pick a date from then."]
    }
    assert CheckIn.objects.count() == 0


def test_a_milestone_check_in_needs_done(public_objective, people):
    milestone = make_key_result(
        public_objective,
        people["member"],
        title="Scoring model live",
        kind=Kind.MILESTONE,
        start_value=None,
        target_value=None,
    )

    with pytest.raises(ValidationError) as raised:
        record_check_in(people["member"], milestone, as_of=date(2026, 11, 10))

    assert errors_of(raised) == {"done": ["Say whether the milestone is done."]}
    assert CheckIn.objects.count() == 0


def test_a_milestone_check_in_keeps_done_and_drops_any_value(public_objective, people):
    milestone = make_key_result(
        public_objective,
        people["member"],
        kind=Kind.MILESTONE,
        start_value=None,
        target_value=None,
    )

    check_in = record_check_in(
        people["member"], milestone, as_of=date(2026, 11, 10), done=True, value=D(3)
    )

    check_in.refresh_from_db()
    assert check_in.done is True
    assert check_in.value is None


def test_a_numeric_check_in_needs_a_value(public_key_result, people):
    with pytest.raises(ValidationError) as raised:
        record_check_in(people["member"], public_key_result, as_of=date(2026, 11, 10))

    assert errors_of(raised) == {"value": ["Enter the current value."]}
    assert CheckIn.objects.count() == 0


@pytest.mark.parametrize(
    ("unit", "value", "message"),
    [
        (Unit.PERCENT, "120", "A percentage must be between 0 and 100, not 120."),
        (Unit.PERCENT, "-0.5", "A percentage must be between 0 and 100, not -0.5."),
        (Unit.DAYS, "-1", "A number of days cannot be negative (-1)."),
        (Unit.COUNT, "2.5", "A count must be a whole number of 0 or more, not 2.5."),
        (Unit.COUNT, "-3", "A count must be a whole number of 0 or more, not -3."),
        (Unit.CURRENCY, "NaN", "Enter a finite number."),
        (Unit.PERCENT, "Infinity", "Enter a finite number."),
        (Unit.DAYS, "-Infinity", "Enter a finite number."),
    ],
)
def test_impossible_values_are_refused_and_nothing_is_saved(
    public_objective, people, unit, value, message
):
    key_result = make_key_result(
        public_objective,
        people["member"],
        kind=Kind.STAY_ABOVE,
        unit=unit,
        start_value=None,
        target_value=D(10),
    )

    with pytest.raises(ValidationError) as raised:
        record_check_in(
            people["member"], key_result, as_of=date(2026, 11, 10), value=D(value)
        )

    assert errors_of(raised) == {"value": [message]}
    assert CheckIn.objects.count() == 0


def test_too_many_decimal_places_are_refused(public_key_result, people):
    with pytest.raises(ValidationError) as raised:
        record_check_in(
            people["member"],
            public_key_result,
            as_of=date(2026, 11, 10),
            value=D("7.1234567"),
        )

    assert set(errors_of(raised)) == {"value"}
    assert CheckIn.objects.count() == 0


@pytest.mark.parametrize(
    ("unit", "value"),
    [
        (Unit.PERCENT, "0"),
        (Unit.PERCENT, "100"),
        (Unit.PERCENT, "6.875"),
        (Unit.DAYS, "0"),
        (Unit.COUNT, "40"),
        (Unit.CURRENCY, "-1250.50"),
    ],
)
def test_possible_values_have_no_unit_problem(unit, value):
    assert unit_problem(unit, D(value)) is None


# --- apply_target_definition ----------------------------------------------


def unsaved_key_result(**fields) -> KeyResult:
    defaults = {
        "title": "30+ delinquency rate",
        "kind": Kind.DECREASE,
        "unit": Unit.PERCENT,
        "start_value": D("8"),
        "target_value": None,
    }
    return KeyResult(**(defaults | fields))


def test_a_relative_percent_target_is_derived_from_the_baseline():
    # 8 x (1 - 15%) = 6.8
    key_result = unsaved_key_result(
        target_mode=TargetMode.RELATIVE_PERCENT, target_change=D(-15)
    )

    apply_target_definition(key_result)

    assert key_result.target_value == D("6.8")


def test_a_percentage_point_target_is_added_to_the_baseline():
    # 8 - 1.5 = 6.5
    key_result = unsaved_key_result(
        target_mode=TargetMode.PERCENTAGE_POINTS, target_change=D("-1.5")
    )

    apply_target_definition(key_result)

    assert key_result.target_value == D("6.5")


def test_percentage_points_on_a_non_percent_unit_are_refused():
    key_result = unsaved_key_result(
        unit=Unit.DAYS,
        start_value=D(5),
        target_mode=TargetMode.PERCENTAGE_POINTS,
        target_change=D(-3),
    )

    with pytest.raises(ValidationError) as raised:
        apply_target_definition(key_result)

    assert errors_of(raised) == {
        "target_mode": ["Percentage points only apply to a percent unit."]
    }


def test_a_relative_target_without_a_baseline_is_refused():
    key_result = unsaved_key_result(
        start_value=None,
        target_mode=TargetMode.RELATIVE_PERCENT,
        target_change=D(-15),
    )

    with pytest.raises(ValidationError) as raised:
        apply_target_definition(key_result)

    assert errors_of(raised) == {
        "start_value": ["A relative target needs a baseline (start value)."]
    }


def test_a_relative_target_without_a_change_is_refused():
    key_result = unsaved_key_result(target_mode=TargetMode.RELATIVE_PERCENT)

    with pytest.raises(ValidationError) as raised:
        apply_target_definition(key_result)

    assert set(errors_of(raised)) == {"target_change"}


def test_an_increase_with_its_target_below_the_start_is_refused():
    key_result = unsaved_key_result(
        kind=Kind.INCREASE, unit=Unit.COUNT, start_value=D(40), target_value=D(30)
    )

    with pytest.raises(ValidationError) as raised:
        apply_target_definition(key_result)

    assert errors_of(raised) == {
        "target_value": ["An increase needs a target above the start value."]
    }


def test_a_decrease_whose_relative_change_goes_up_is_refused():
    # 8 x (1 + 15%) = 9.2 is above the start of a decrease.
    key_result = unsaved_key_result(
        target_mode=TargetMode.RELATIVE_PERCENT, target_change=D(15)
    )

    with pytest.raises(ValidationError) as raised:
        apply_target_definition(key_result)

    assert set(errors_of(raised)) == {"target_value"}


def test_a_derived_target_outside_its_unit_is_refused():
    # 90% + 20 points = 110%, which no percentage can be.
    key_result = unsaved_key_result(
        kind=Kind.INCREASE,
        start_value=D(90),
        target_mode=TargetMode.PERCENTAGE_POINTS,
        target_change=D(20),
    )

    with pytest.raises(ValidationError) as raised:
        apply_target_definition(key_result)

    assert errors_of(raised) == {
        "target_value": ["A percentage must be between 0 and 100, not 110."]
    }


def test_an_absolute_target_needs_a_value():
    key_result = unsaved_key_result()

    with pytest.raises(ValidationError) as raised:
        apply_target_definition(key_result)

    assert errors_of(raised) == {"target_value": ["Give a target value."]}


def test_an_increase_or_decrease_needs_its_baseline():
    key_result = unsaved_key_result(start_value=None, target_value=D("6.8"))

    with pytest.raises(ValidationError) as raised:
        apply_target_definition(key_result)

    assert errors_of(raised) == {"start_value": ["Give the starting value (baseline)."]}


def test_a_limit_needs_no_baseline():
    # "Keep DSO at or below 45 days" has a limit but no start.
    key_result = unsaved_key_result(
        kind=Kind.STAY_BELOW, unit=Unit.DAYS, start_value=None, target_value=D(45)
    )

    apply_target_definition(key_result)

    assert key_result.target_value == D(45)


def test_a_milestone_is_cleared_of_numbers():
    key_result = unsaved_key_result(
        kind=Kind.MILESTONE,
        start_value=D(1),
        target_value=D(2),
        target_mode=TargetMode.RELATIVE_PERCENT,
        target_change=D(10),
    )

    apply_target_definition(key_result)

    assert key_result.start_value is None
    assert key_result.target_value is None
    assert key_result.target_change is None
    assert key_result.target_mode == TargetMode.ABSOLUTE


# --- save_versioned -------------------------------------------------------


def test_the_second_of_two_editors_gets_a_conflict(public_objective):
    first = Objective.objects.get(pk=public_objective.pk)
    second = Objective.objects.get(pk=public_objective.pk)
    assert first.version == second.version == 1

    first.title = "Reduce 30+ delinquency to 6.8%"
    save_versioned(first, expected_version=1)
    second.title = "Reduce 60+ delinquency"
    with pytest.raises(EditConflict) as raised:
        save_versioned(second, expected_version=1)

    stored = Objective.objects.get(pk=public_objective.pk)
    assert stored.title == "Reduce 30+ delinquency to 6.8%"
    assert stored.version == 2
    current = raised.value.current
    assert isinstance(current, Objective)
    assert current.title == "Reduce 30+ delinquency to 6.8%"
    assert "Someone else changed this objective" in str(raised.value)


def test_an_editor_who_reloads_after_a_conflict_can_save(public_objective):
    save_versioned(Objective.objects.get(pk=public_objective.pk), expected_version=1)

    reloaded = Objective.objects.get(pk=public_objective.pk)
    reloaded.title = "Second try"
    save_versioned(reloaded, expected_version=reloaded.version)

    stored = Objective.objects.get(pk=public_objective.pk)
    assert (stored.title, stored.version) == ("Second try", 3)


# --- check_parent ---------------------------------------------------------


@pytest.fixture
def chain(quarter, teams, people) -> tuple[Objective, Objective, Objective]:
    """A under B under C."""
    team, owner = teams["credit_risk"], people["manager"]
    c = make_objective(quarter, team, owner, title="C")
    b = make_objective(quarter, team, owner, title="B", parent=c)
    a = make_objective(quarter, team, owner, title="A", parent=b)
    return a, b, c


def test_an_objective_cannot_be_aligned_under_its_own_descendant(chain):
    a, _, c = chain
    fresh_a = Objective.objects.get(pk=a.pk)

    with pytest.raises(ValidationError) as raised:
        check_parent(c, fresh_a)

    assert set(errors_of(raised)) == {"parent"}


def test_an_objective_cannot_be_its_own_parent(chain):
    a, _, _ = chain

    with pytest.raises(ValidationError):
        check_parent(a, Objective.objects.get(pk=a.pk))


def test_a_parent_outside_the_chain_is_accepted(chain, quarter, teams, people):
    a, _, c = chain
    other = make_objective(quarter, teams["credit_risk"], people["manager"], title="D")

    check_parent(c, other)
    check_parent(a, c)
    check_parent(a, None)


# --- set_status_override --------------------------------------------------


def test_an_override_is_stored_with_its_reason(public_objective):
    set_status_override(
        public_objective.owner,
        public_objective,
        Status.AT_RISK,
        " bureau feed late ",
        1,
    )

    stored = Objective.objects.get(pk=public_objective.pk)
    assert stored.status_override == Status.AT_RISK
    assert stored.status_override_reason == "bureau feed late"
    assert stored.version == 2


def test_an_override_without_a_reason_is_refused(public_objective):
    with pytest.raises(ValidationError) as raised:
        set_status_override(
            public_objective.owner, public_objective, Status.AT_RISK, "  ", 1
        )

    assert set(errors_of(raised)) == {"status_override_reason"}
    assert Objective.objects.get(pk=public_objective.pk).status_override == ""


@pytest.mark.parametrize("status", ["not_started", "purple", "On track"])
def test_a_status_that_cannot_be_an_override_is_refused(public_objective, status):
    with pytest.raises(ValidationError) as raised:
        set_status_override(
            public_objective.owner, public_objective, status, "because", 1
        )

    assert set(errors_of(raised)) == {"status_override"}
    assert Objective.objects.get(pk=public_objective.pk).version == 1


def test_clearing_an_override_clears_its_reason(public_objective):
    set_status_override(
        public_objective.owner, public_objective, Status.OFF_TRACK, "portfolio sold", 1
    )

    set_status_override(public_objective.owner, public_objective, "", "ignored", 2)

    stored = Objective.objects.get(pk=public_objective.pk)
    assert (stored.status_override, stored.status_override_reason) == ("", "")


def test_an_override_on_a_stale_copy_is_a_conflict(public_objective):
    stale = Objective.objects.get(pk=public_objective.pk)
    set_status_override(
        public_objective.owner, public_objective, Status.AT_RISK, "first", 1
    )

    with pytest.raises(EditConflict):
        set_status_override(stale.owner, stale, Status.COMPLETE, "second", 1)

    assert Objective.objects.get(pk=public_objective.pk).status_override_reason == (
        "first"
    )


def test_an_archived_key_result_takes_no_check_ins(public_key_result, people):
    public_key_result.archived = True
    public_key_result.save()

    with pytest.raises(ValidationError, match="archived; restore it to check in"):
        record_check_in(
            people["member"], public_key_result, as_of=date(2026, 11, 14), value=D(7)
        )

    assert CheckIn.objects.count() == 0


def test_going_back_to_a_fixed_target_forgets_the_relative_change():
    key_result = unsaved_key_result(
        target_mode=TargetMode.RELATIVE_PERCENT, target_change=D(-15)
    )
    apply_target_definition(key_result)
    key_result.target_mode = TargetMode.ABSOLUTE
    key_result.target_value = D("7")

    apply_target_definition(key_result)

    assert key_result.target_change is None
    assert key_result.target_value == D("7")


def test_a_key_result_waiting_for_its_baseline_takes_no_check_ins(
    public_objective, people
):
    """The template's headline key results arrive without a baseline."""
    headline = make_key_result(
        public_objective,
        people["member"],
        start_value=None,
        target_value=None,
        target_mode=TargetMode.RELATIVE_PERCENT,
        target_change=D(-15),
    )

    with pytest.raises(ValidationError, match="baseline"):
        record_check_in(
            people["member"], headline, as_of=date(2026, 11, 14), value=D("6.5")
        )

    assert CheckIn.objects.count() == 0


def test_someone_ahead_of_the_organisation_may_check_in_for_their_own_today(
    public_key_result, people
):
    """17:28 UTC on 4 Dec is 01:28 on 5 Dec in Singapore, 17:28 in London."""
    member = people["member"]
    member.time_zone = "Asia/Singapore"
    member.save()

    with time_machine.travel(datetime(2026, 12, 4, 17, 28, tzinfo=UTC), tick=False):
        record_check_in(member, public_key_result, as_of=date(2026, 12, 5), value=D(7))
        member.time_zone = ""
        with pytest.raises(ValidationError, match="today is 4 Dec 2026"):
            record_check_in(
                member, public_key_result, as_of=date(2026, 12, 5), value=D(7)
            )

    assert CheckIn.objects.count() == 1


def test_a_check_in_on_an_archived_objective_says_the_objective_is_archived(
    public_key_result, people
):
    objective = public_key_result.objective
    objective.archived = True
    objective.save()

    with pytest.raises(ValidationError, match="This objective is archived"):
        record_check_in(
            people["member"], public_key_result, as_of=date(2026, 11, 14), value=D(7)
        )


def test_a_key_result_due_outside_its_moved_objectives_cycle_is_not_restored(
    public_key_result, people, organisation, quarter
):
    public_key_result.due_date = date(2026, 11, 30)
    public_key_result.archived = True
    public_key_result.save()
    objective = public_key_result.objective
    objective.cycle = next_cycle(organisation, quarter, date(2026, 11, 15))
    objective.save()

    with pytest.raises(ValidationError, match="is due 30 Nov 2026, outside FY2027 Q4"):
        restore_key_result(people["member"], public_key_result)

    public_key_result.refresh_from_db()
    assert public_key_result.archived
