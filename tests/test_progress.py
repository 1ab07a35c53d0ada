"""Tests for the pure progress and status rules.

Worked values are computed by hand in the comments next to them.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditokr.okrs.progress import (
    SEVERITY,
    Kind,
    Measurement,
    Status,
    TargetMode,
    Tolerances,
    derive_target,
    expected_progress,
    format_decimal,
    format_progress,
    key_result_status,
    measure,
    weighted_progress,
    worst_status,
)

D = Decimal

# A 90-day quarter: 89 days from the start date to the due date.
Q_START = date(2026, 1, 1)
Q_DUE = date(2026, 3, 31)
MID_FEB = date(2026, 2, 15)  # 45 days in, so expected progress is 45/89.
DEFAULT = Tolerances()

# No example database: the suite leaves nothing behind in the tree.
quick = settings(max_examples=60, deadline=None, database=None)


def progress_of(kind: Kind, start: str, target: str, current: str) -> Decimal:
    return measure(kind, D(start), D(target), D(current)).progress


def measured(progress: str) -> Measurement:
    return Measurement(D(progress), worsening=False, met=False, distance=D(1))


# --- measure: increase ----------------------------------------------------


def test_increase_part_way_shows_share_of_the_distance_covered():
    # 50 of 200 is a quarter of the way.
    result = measure(Kind.INCREASE, D(0), D(200), D(50))
    assert result == Measurement(D(25), worsening=False, met=False, distance=D(150))


def test_increase_overshooting_the_target_is_capped_at_100_and_met():
    result = measure(Kind.INCREASE, D(0), D(200), D(250))
    assert result == Measurement(D(100), worsening=False, met=True, distance=D(0))


def test_increase_landing_exactly_on_the_target_is_met():
    result = measure(Kind.INCREASE, D(0), D(200), D(200))
    assert result.met
    assert result.progress == 100


def test_increase_moving_the_wrong_way_shows_zero_and_worsening():
    result = measure(Kind.INCREASE, D(0), D(200), D(-10))
    assert result == Measurement(D(0), worsening=True, met=False, distance=D(210))


def test_increase_sitting_on_its_start_is_zero_but_not_worsening():
    result = measure(Kind.INCREASE, D(0), D(200), D(0))
    assert result == Measurement(D(0), worsening=False, met=False, distance=D(200))


def test_increase_keeps_every_decimal_of_progress():
    # 1 of 3 is 33.33..., not 33.
    progress = progress_of(Kind.INCREASE, "0", "3", "1")
    assert progress == D(1) / D(3) * 100
    assert progress != 33
    assert progress > D("33.3333")


# --- measure: decrease ----------------------------------------------------


def test_decrease_dso_part_way_is_a_third_of_the_way():
    # DSO 45 -> 30 days, now 40: 5 of 15 days cut.
    result = measure(Kind.DECREASE, D(45), D(30), D(40))
    assert result.progress == D(5) / D(15) * 100
    assert format_progress(result.progress) == "33.3"
    assert result.distance == 10
    assert not result.worsening
    assert not result.met


def test_decrease_moving_the_wrong_way_shows_zero_and_worsening():
    result = measure(Kind.DECREASE, D(45), D(30), D(50))
    assert result == Measurement(D(0), worsening=True, met=False, distance=D(20))


def test_decrease_passing_the_target_is_capped_at_100_and_met():
    result = measure(Kind.DECREASE, D(45), D(30), D("29.5"))
    assert result == Measurement(D(100), worsening=False, met=True, distance=D(0))


def test_decrease_approval_time_halfway_is_fifty():
    # 5 -> 2 days, now 3.5: 1.5 of 3 days cut.
    assert progress_of(Kind.DECREASE, "5", "2", "3.5") == 50


def test_decrease_approval_time_reaching_target_is_complete():
    result = measure(Kind.DECREASE, D(5), D(2), D(2))
    assert result.met
    assert result.progress == 100
    status = key_result_status(Kind.DECREASE, result, Q_START, Q_DUE, MID_FEB, DEFAULT)
    assert status is Status.COMPLETE


def test_decrease_sitting_on_its_start_is_a_plain_zero():
    progress = progress_of(Kind.DECREASE, "45", "30", "45")
    assert progress == 0
    assert not progress.is_signed()  # no negative zero to leak into display


# --- measure: start equals target -------------------------------------------


@pytest.mark.parametrize(
    ("kind", "current", "progress", "met", "worsening"),
    [
        (Kind.INCREASE, "10", 100, True, False),
        (Kind.INCREASE, "11", 100, True, False),
        (Kind.INCREASE, "9", 0, False, True),
        (Kind.DECREASE, "10", 100, True, False),
        (Kind.DECREASE, "9", 100, True, False),
        (Kind.DECREASE, "11", 0, False, True),
    ],
)
def test_start_equal_to_target_judges_by_side_without_dividing(
    kind, current, progress, met, worsening
):
    result = measure(kind, D(10), D(10), D(current))
    assert result.progress == progress
    assert result.met is met
    assert result.worsening is worsening


# --- measure: missing values and misconfiguration --------------------------


@pytest.mark.parametrize("kind", [Kind.INCREASE, Kind.DECREASE])
def test_no_check_in_yet_shows_zero_and_the_whole_gap(kind):
    start, target = (D(0), D(200)) if kind is Kind.INCREASE else (D(45), D(30))
    result = measure(kind, start, target, None)
    gap = abs(target - start)
    assert result == Measurement(D(0), worsening=False, met=False, distance=gap)


def test_no_check_in_and_no_baseline_has_no_distance():
    result = measure(Kind.INCREASE, None, D(200), None)
    assert result == Measurement(D(0), worsening=False, met=False, distance=None)


@pytest.mark.parametrize("kind", [Kind.INCREASE, Kind.DECREASE])
def test_a_value_without_a_baseline_is_refused(kind):
    with pytest.raises(ValueError, match=r"a baseline \(start value\) is needed"):
        measure(kind, None, D(30), D(40))


def test_an_increase_whose_target_is_below_its_start_is_refused():
    with pytest.raises(ValueError, match="increase"):
        measure(Kind.INCREASE, D(45), D(30), D(40))


def test_a_decrease_whose_target_is_above_its_start_is_refused():
    with pytest.raises(ValueError, match="decrease"):
        measure(Kind.DECREASE, D(0), D(200), D(50))


def test_a_backwards_target_is_refused_even_before_any_check_in():
    with pytest.raises(ValueError, match="decrease"):
        measure(Kind.DECREASE, D(0), D(200), None)


@pytest.mark.parametrize("bad", [D("NaN"), D("Infinity"), D("-Infinity")])
def test_non_finite_numbers_are_refused(bad):
    with pytest.raises(ValueError, match="finite"):
        measure(Kind.INCREASE, D(0), D(200), bad)


# --- measure: stay kinds ---------------------------------------------------


def test_stay_above_within_the_limit_is_met_with_its_margin():
    result = measure(Kind.STAY_ABOVE, None, D(95), D("96.5"))
    assert result == Measurement(D(100), worsening=False, met=True, distance=D("1.5"))


def test_stay_above_under_the_limit_is_breached_by_the_shortfall():
    result = measure(Kind.STAY_ABOVE, None, D(95), D(94))
    assert result == Measurement(D(0), worsening=False, met=False, distance=D(-1))


def test_stay_above_exactly_on_the_limit_is_met():
    assert measure(Kind.STAY_ABOVE, None, D(95), D(95)).met


def test_stay_below_within_the_limit_is_met_with_its_margin():
    # Delinquency must stay at or below 3%; at 2.25% there is 0.75 left.
    result = measure(Kind.STAY_BELOW, None, D(3), D("2.25"))
    assert result == Measurement(D(100), worsening=False, met=True, distance=D("0.75"))


def test_stay_below_over_the_limit_is_breached_by_the_excess():
    result = measure(Kind.STAY_BELOW, None, D(3), D("3.4"))
    assert result == Measurement(D(0), worsening=False, met=False, distance=D("-0.4"))


def test_stay_kinds_ignore_the_start_value():
    with_start = measure(Kind.STAY_BELOW, D(10), D(3), D(2))
    assert with_start == measure(Kind.STAY_BELOW, None, D(3), D(2))


@pytest.mark.parametrize("kind", [Kind.STAY_ABOVE, Kind.STAY_BELOW])
def test_stay_kinds_without_a_check_in_are_unmet_with_no_distance(kind):
    result = measure(kind, None, D(95), None)
    assert result == Measurement(D(0), worsening=False, met=False, distance=None)


# --- measure: milestones ---------------------------------------------------


def test_milestone_done_is_complete_progress():
    result = measure(Kind.MILESTONE, None, D(1), None, done=True)
    assert result == Measurement(D(100), worsening=False, met=True, distance=None)


@pytest.mark.parametrize("done", [False, None])
def test_milestone_not_done_is_zero(done):
    result = measure(Kind.MILESTONE, None, D(1), None, done=done)
    assert result == Measurement(D(0), worsening=False, met=False, distance=None)


def test_milestone_ignores_start_and_current():
    result = measure(Kind.MILESTONE, D(50), D(1), D(0), done=True)
    assert result.met
    assert result.progress == 100


# --- expected_progress -------------------------------------------------------


def test_expected_progress_mid_quarter_is_the_share_of_days_gone():
    expected = expected_progress(Q_START, Q_DUE, MID_FEB)
    assert expected == D(45) / D(89) * 100
    assert round(expected, 2) == D("50.56")


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2025, 12, 1), 0),
        (Q_START, 0),
        (Q_DUE, 100),
        (date(2026, 4, 15), 100),
    ],
)
def test_expected_progress_is_zero_before_and_100_after_the_cycle(today, expected):
    assert expected_progress(Q_START, Q_DUE, today) == expected


@pytest.mark.parametrize(
    ("due", "today", "expected"),
    [
        (Q_START, Q_START - timedelta(days=1), 0),
        (Q_START, Q_START, 100),
        (Q_START - timedelta(days=5), Q_START - timedelta(days=6), 0),
        (Q_START - timedelta(days=5), Q_START - timedelta(days=5), 100),
        (Q_START - timedelta(days=5), Q_START, 100),
    ],
)
def test_expected_progress_with_due_not_after_start_jumps_at_due(due, today, expected):
    assert expected_progress(Q_START, due, today) == expected


# --- key_result_status -----------------------------------------------------


def pace_status(progress: str, tolerances: Tolerances = DEFAULT) -> Status:
    return key_result_status(
        Kind.INCREASE, measured(progress), Q_START, Q_DUE, MID_FEB, tolerances
    )


def test_status_a_little_behind_pace_is_on_track():
    # Expected 50.56 at mid-February; 45 is 5.56 behind.
    assert pace_status("45") is Status.ON_TRACK


def test_status_well_behind_pace_is_at_risk():
    # 50.56 - 30 = 20.56 behind.
    assert pace_status("30") is Status.AT_RISK


def test_status_far_behind_pace_is_off_track():
    # 50.56 - 10 = 40.56 behind.
    assert pace_status("10") is Status.OFF_TRACK


def test_status_ahead_of_pace_is_on_track():
    assert pace_status("80") is Status.ON_TRACK


def test_status_at_the_worked_paces_from_an_expected_45():
    # A 100-day cycle 45 days in expects exactly 45.
    start, due, today = date(2026, 1, 1), date(2026, 4, 11), date(2026, 2, 15)
    assert expected_progress(start, due, today) == 45

    def status(progress: str) -> Status:
        return key_result_status(
            Kind.INCREASE, measured(progress), start, due, today, DEFAULT
        )

    assert status("40") is Status.ON_TRACK  # 5 behind
    assert status("35") is Status.ON_TRACK  # exactly 10 behind
    assert status("34.99") is Status.AT_RISK  # just over 10 behind
    assert status("30") is Status.AT_RISK  # 15 behind
    assert status("20") is Status.AT_RISK  # exactly 25 behind
    assert status("19.99") is Status.OFF_TRACK  # just over 25 behind
    assert status("10") is Status.OFF_TRACK  # 35 behind


def test_status_follows_custom_tolerances():
    strict = Tolerances(at_risk_after=D(0), off_track_after=D(5))
    assert pace_status("50.6", strict) is Status.ON_TRACK  # ahead
    assert pace_status("50", strict) is Status.AT_RISK  # 0.56 behind
    assert pace_status("45", strict) is Status.OFF_TRACK  # 5.56 behind


def test_status_of_a_met_increase_or_decrease_is_complete():
    for kind, start, target in [
        (Kind.INCREASE, D(0), D(200)),
        (Kind.DECREASE, D(45), D(30)),
    ]:
        result = measure(kind, start, target, target)
        status = key_result_status(kind, result, Q_START, Q_DUE, MID_FEB, DEFAULT)
        assert status is Status.COMPLETE


def test_status_past_due_and_not_met_is_off_track():
    late = Q_DUE + timedelta(days=1)
    result = measure(Kind.INCREASE, D(0), D(200), D(199))
    status = key_result_status(Kind.INCREASE, result, Q_START, Q_DUE, late, DEFAULT)
    assert status is Status.OFF_TRACK


def test_status_on_the_due_date_itself_is_not_yet_late():
    # Due today, expected 100, at 95: 5 behind is still on track.
    result = measured("95")
    status = key_result_status(Kind.INCREASE, result, Q_START, Q_DUE, Q_DUE, DEFAULT)
    assert status is Status.ON_TRACK


def test_status_past_due_but_met_is_still_complete():
    late = Q_DUE + timedelta(days=30)
    result = measure(Kind.DECREASE, D(45), D(30), D(30))
    status = key_result_status(Kind.DECREASE, result, Q_START, Q_DUE, late, DEFAULT)
    assert status is Status.COMPLETE


@pytest.mark.parametrize("kind", list(Kind))
def test_status_without_a_check_in_is_not_started(kind):
    status = key_result_status(kind, None, Q_START, Q_DUE, MID_FEB, DEFAULT)
    assert status is Status.NOT_STARTED


@pytest.mark.parametrize("kind", list(Kind))
def test_status_without_a_check_in_past_due_is_off_track(kind):
    late = Q_DUE + timedelta(days=1)
    status = key_result_status(kind, None, Q_START, Q_DUE, late, DEFAULT)
    assert status is Status.OFF_TRACK


def test_status_of_a_check_in_before_the_cycle_begins_is_in_progress():
    early = Q_START - timedelta(days=3)
    status = key_result_status(
        Kind.INCREASE, measured("0"), Q_START, Q_DUE, early, DEFAULT
    )
    assert status is Status.IN_PROGRESS


def test_status_on_the_start_date_judges_pace_from_zero():
    status = key_result_status(
        Kind.INCREASE, measured("0"), Q_START, Q_DUE, Q_START, DEFAULT
    )
    assert status is Status.ON_TRACK


def test_status_of_an_undone_milestone_before_due_is_in_progress():
    result = measure(Kind.MILESTONE, None, D(1), None, done=False)
    status = key_result_status(
        Kind.MILESTONE, result, Q_START, Q_DUE, date(2026, 3, 30), DEFAULT
    )
    assert status is Status.IN_PROGRESS


def test_status_of_an_undone_milestone_past_due_is_off_track():
    result = measure(Kind.MILESTONE, None, D(1), None, done=False)
    late = Q_DUE + timedelta(days=1)
    status = key_result_status(Kind.MILESTONE, result, Q_START, Q_DUE, late, DEFAULT)
    assert status is Status.OFF_TRACK


def test_status_of_a_done_milestone_is_complete():
    result = measure(Kind.MILESTONE, None, D(1), None, done=True)
    status = key_result_status(Kind.MILESTONE, result, Q_START, Q_DUE, MID_FEB, DEFAULT)
    assert status is Status.COMPLETE


@pytest.mark.parametrize(
    ("kind", "current", "today", "expected"),
    [
        (Kind.STAY_ABOVE, "96.5", MID_FEB, Status.ON_TRACK),
        (Kind.STAY_ABOVE, "96.5", Q_DUE, Status.ON_TRACK),
        (Kind.STAY_ABOVE, "96.5", Q_DUE + timedelta(days=1), Status.COMPLETE),
        (Kind.STAY_ABOVE, "94", MID_FEB, Status.AT_RISK),
        (Kind.STAY_ABOVE, "94", Q_DUE, Status.AT_RISK),
        (Kind.STAY_ABOVE, "94", Q_DUE + timedelta(days=1), Status.OFF_TRACK),
        (Kind.STAY_BELOW, "94", MID_FEB, Status.ON_TRACK),
        (Kind.STAY_BELOW, "96.5", MID_FEB, Status.AT_RISK),
        (Kind.STAY_BELOW, "94", Q_DUE + timedelta(days=1), Status.COMPLETE),
        (Kind.STAY_BELOW, "96.5", Q_DUE + timedelta(days=1), Status.OFF_TRACK),
    ],
)
def test_stay_status_holds_until_the_cycle_ends(kind, current, today, expected):
    result = measure(kind, None, D(95), D(current))
    status = key_result_status(kind, result, Q_START, Q_DUE, today, DEFAULT)
    assert status is expected


# --- Tolerances ------------------------------------------------------------


def test_tolerances_default_to_ten_and_twenty_five_points():
    assert Tolerances() == Tolerances(D(10), D(25))


@pytest.mark.parametrize(
    ("at_risk", "off_track"),
    [("-1", "25"), ("10", "-1"), ("30", "25")],
)
def test_tolerances_that_make_no_sense_are_refused(at_risk, off_track):
    with pytest.raises(ValueError, match=r"at_risk_after|negative"):
        Tolerances(at_risk_after=D(at_risk), off_track_after=D(off_track))


def test_tolerances_may_be_equal_or_zero():
    assert Tolerances(D(0), D(0)).off_track_after == 0
    assert Tolerances(D(15), D(15)).at_risk_after == 15


# --- weighted_progress -----------------------------------------------------


def test_weighted_progress_leans_towards_heavier_items():
    # (100 * 1 + 0 * 3) / 4
    assert weighted_progress([(D(100), D(1)), (D(0), D(3))]) == 25


def test_weighted_progress_with_equal_weights_is_the_plain_mean():
    items = [(D(10), D(1)), (D(20), D(1)), (D(60), D(1))]
    assert weighted_progress(items) == 30


def test_weighted_progress_keeps_full_precision():
    # (100 + 0 + 0) / 3
    items = [(D(100), D(1)), (D(0), D(1)), (D(0), D(1))]
    assert weighted_progress(items) == D(100) / D(3)


def test_weighted_progress_ignores_zero_weights():
    items = [(D(80), D(2)), (D(0), D(0)), (D(40), D(2))]
    assert weighted_progress(items) == 60


@pytest.mark.parametrize("items", [[], [(D(50), D(0))], [(D(50), D(0)), (D(10), D(0))]])
def test_weighted_progress_of_nothing_weighed_is_none(items):
    assert weighted_progress(items) is None


def test_weighted_progress_refuses_negative_weights():
    with pytest.raises(ValueError, match="negative"):
        weighted_progress([(D(50), D(1)), (D(50), D(-1))])


def test_weighted_progress_accepts_a_generator():
    items = ((D(n * 10), D(1)) for n in range(3))
    assert weighted_progress(items) == 10


# --- worst_status ----------------------------------------------------------


def test_severity_runs_from_complete_to_off_track():
    assert SEVERITY == (
        Status.COMPLETE,
        Status.NOT_STARTED,
        Status.ON_TRACK,
        Status.IN_PROGRESS,
        Status.AT_RISK,
        Status.OFF_TRACK,
    )
    assert set(SEVERITY) == set(Status)


@pytest.mark.parametrize(
    ("statuses", "worst"),
    [
        ([], Status.NOT_STARTED),
        ([Status.COMPLETE, Status.COMPLETE], Status.COMPLETE),
        ([Status.COMPLETE, Status.NOT_STARTED], Status.NOT_STARTED),
        ([Status.NOT_STARTED, Status.ON_TRACK], Status.ON_TRACK),
        ([Status.ON_TRACK, Status.IN_PROGRESS], Status.IN_PROGRESS),
        ([Status.AT_RISK, Status.ON_TRACK, Status.COMPLETE], Status.AT_RISK),
        ([Status.AT_RISK, Status.OFF_TRACK, Status.COMPLETE], Status.OFF_TRACK),
    ],
)
def test_worst_status_picks_the_most_worrying(statuses, worst):
    assert worst_status(statuses) is worst


def test_worst_status_accepts_a_generator():
    assert worst_status(s for s in [Status.ON_TRACK]) is Status.ON_TRACK


# --- Status labels ---------------------------------------------------------


def test_every_status_has_a_human_label():
    assert {status: status.label for status in Status} == {
        Status.NOT_STARTED: "Not started",
        Status.ON_TRACK: "On track",
        Status.IN_PROGRESS: "In progress",
        Status.AT_RISK: "At risk",
        Status.OFF_TRACK: "Off track",
        Status.COMPLETE: "Complete",
    }


def test_enums_compare_equal_to_their_stored_strings():
    assert isinstance(Status.AT_RISK, str)
    assert str(Status.AT_RISK) == "at_risk"
    assert str(Kind.STAY_BELOW) == "stay_below"
    assert TargetMode("relative_percent") is TargetMode.RELATIVE_PERCENT


# --- derive_target ---------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "mode", "change", "target"),
    [
        ("8.0", TargetMode.ABSOLUTE, "6", "6"),
        ("8.0", TargetMode.RELATIVE_PERCENT, "-15", "6.8"),
        ("5", TargetMode.RELATIVE_PERCENT, "-60", "2"),
        ("45", TargetMode.RELATIVE_PERCENT, "10", "49.5"),
        ("8.0", TargetMode.PERCENTAGE_POINTS, "-1.5", "6.5"),
        ("97.25", TargetMode.PERCENTAGE_POINTS, "1.5", "98.75"),
    ],
)
def test_derive_target_turns_a_relative_target_into_a_value(
    baseline, mode, change, target
):
    assert derive_target(D(baseline), mode, D(change)) == D(target)


def test_derive_target_keeps_full_precision():
    # 3 reduced by 12.345% is 3 * 0.87655 = 2.62965.
    derived = derive_target(D(3), TargetMode.RELATIVE_PERCENT, D("-12.345"))
    assert derived == D("2.62965")


# --- format_decimal --------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2.50", "2.5"),
        ("2.500", "2.5"),
        ("14", "14"),
        ("14.000", "14"),
        ("1E+2", "100"),
        ("0.000123", "0.000123"),
        ("-3.10", "-3.1"),
        ("47881064.5", "47,881,064.5"),
        ("-1234567.8900", "-1,234,567.89"),
        ("0", "0"),
        ("0.00", "0"),
        ("-0.00", "0"),
        ("1E-7", "0.0000001"),
        (
            "1234.000000000000000000000000000000001",
            "1,234.000000000000000000000000000000001",
        ),
    ],
)
def test_format_decimal_shows_every_significant_digit_and_nothing_else(value, shown):
    assert format_decimal(D(value)) == shown


# --- format_progress -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (D(1) / D(3) * 100, "33.3"),
        (D(2) / D(3) * 100, "66.7"),
        (D("12.25"), "12.3"),  # half rounds up, not to even
        (D("12.35"), "12.4"),
        (D("12.349"), "12.3"),
        (D(0), "0.0"),
        (D("0.05"), "0.1"),
        (D(50), "50.0"),
        (D(100), "100.0"),
        (D("100.000"), "100.0"),
        (D("99.94"), "99.9"),
    ],
)
def test_format_progress_rounds_half_up_to_one_decimal(value, shown):
    assert format_progress(value) == shown


@pytest.mark.parametrize("value", ["99.95", "99.99", "99.99999999999"])
def test_format_progress_never_shows_100_short_of_100(value):
    assert format_progress(D(value)) == "99.9"


@pytest.mark.parametrize("value", ["0.0000001", "0.01", "0.0499"])
def test_format_progress_never_shows_zero_above_zero(value):
    assert format_progress(D(value)) == "<0.1"


@pytest.mark.parametrize("value", ["-0.1", "100.01"])
def test_format_progress_refuses_values_outside_0_to_100(value):
    with pytest.raises(ValueError, match="between 0 and 100"):
        format_progress(D(value))


# --- properties ------------------------------------------------------------

numbers = st.decimals(
    min_value=-1_000_000,
    max_value=1_000_000,
    places=3,
    allow_nan=False,
    allow_infinity=False,
)
non_negative = st.decimals(
    min_value=0, max_value=1000, places=3, allow_nan=False, allow_infinity=False
)
percentages = st.decimals(
    min_value=0, max_value=100, places=4, allow_nan=False, allow_infinity=False
)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def directed(draw: st.DrawFn, kind: Kind) -> tuple[Decimal, Decimal]:
    """A start and target that fit the direction of ``kind``."""
    low, high = sorted([draw(numbers), draw(numbers)])
    return (low, high) if kind is Kind.INCREASE else (high, low)


towards_target = st.sampled_from([Kind.INCREASE, Kind.DECREASE]).flatmap(
    lambda kind: st.tuples(st.just(kind), directed(kind), numbers)
)
"""An increase or decrease kind with a fitting span and a current value."""


@st.composite
def any_measurement(draw: st.DrawFn) -> tuple[Kind, Measurement]:
    kind = draw(st.sampled_from(list(Kind)))
    start, target = draw(directed(kind))
    current = draw(st.none() | numbers)
    return kind, measure(kind, start, target, current, done=draw(st.booleans()))


@quick
@given(any_measurement())
def test_progress_always_lies_between_0_and_100(case):
    _, result = case
    assert 0 <= result.progress <= 100


@quick
@given(any_measurement())
def test_worsening_always_shows_zero_progress(case):
    _, result = case
    assert not result.worsening or result.progress == 0


@quick
@given(any_measurement())
def test_distance_is_never_negative_for_increase_and_decrease(case):
    kind, result = case
    if kind in (Kind.INCREASE, Kind.DECREASE) and result.distance is not None:
        assert result.distance >= 0


@quick
@given(towards_target)
def test_progress_reaches_100_and_the_gap_closes_exactly_when_met(case):
    kind, (start, target), current = case
    result = measure(kind, start, target, current)
    assert (result.progress == 100) is result.met
    assert (result.distance == 0) is result.met


@quick
@given(directed(Kind.INCREASE), numbers, numbers)
def test_increase_progress_never_falls_as_the_value_rises(span, a, b):
    start, target = span
    low, high = sorted([a, b])
    lower = measure(Kind.INCREASE, start, target, low).progress
    assert lower <= measure(Kind.INCREASE, start, target, high).progress


@quick
@given(directed(Kind.DECREASE), numbers, numbers)
def test_decrease_progress_never_rises_as_the_value_rises(span, a, b):
    start, target = span
    low, high = sorted([a, b])
    lower = measure(Kind.DECREASE, start, target, low).progress
    assert lower >= measure(Kind.DECREASE, start, target, high).progress


@quick
@given(directed(Kind.DECREASE), st.none() | numbers)
def test_decrease_mirrors_increase_of_the_negated_numbers(span, current):
    start, target = span
    mirrored = None if current is None else -current
    assert measure(Kind.DECREASE, start, target, current) == measure(
        Kind.INCREASE, -start, -target, mirrored
    )


@quick
@given(st.sampled_from([Kind.STAY_ABOVE, Kind.STAY_BELOW]), numbers, numbers)
def test_stay_kinds_are_met_exactly_when_the_margin_is_not_negative(
    kind, limit, current
):
    result = measure(kind, None, limit, current)
    assert result.distance is not None
    assert result.met is (result.distance >= 0)


@quick
@given(st.lists(st.tuples(percentages, non_negative), max_size=8))
def test_weighted_progress_lies_between_the_smallest_and_largest_input(items):
    result = weighted_progress(items)
    counted = [progress for progress, weight in items if weight > 0]
    if not counted:
        assert result is None
    else:
        assert result is not None
        assert min(counted) <= result <= max(counted)


@quick
@given(st.lists(st.sampled_from(list(Status)), min_size=1, max_size=8), st.randoms())
def test_worst_status_ignores_order_and_is_one_of_its_inputs(statuses, rnd):
    shuffled = list(statuses)
    rnd.shuffle(shuffled)
    assert worst_status(shuffled) is worst_status(statuses)
    assert worst_status(statuses) in statuses
    assert worst_status(reversed(statuses)) is worst_status(statuses)


@quick
@given(days, days, days, days)
def test_expected_progress_never_falls_as_time_passes(start, due, a, b):
    earlier, later = sorted([a, b])
    before = expected_progress(start, due, earlier)
    after = expected_progress(start, due, later)
    assert 0 <= before <= after <= 100


@quick
@given(
    towards_target,
    days,
    days,
    days,
)
def test_unmet_increase_or_decrease_is_never_complete(case, start, due, today):
    kind, (low, high), current = case
    result = measure(kind, low, high, current)
    status = key_result_status(kind, result, start, due, today, DEFAULT)
    assert (status is Status.COMPLETE) is result.met


@quick
@given(numbers)
def test_format_decimal_reads_back_as_the_same_number(value):
    assert D(format_decimal(value).replace(",", "")) == value
