"""Progress and status rules for key results.

Everything here is pure: no Django, no database, no clock. Callers pass in
numbers as ``Decimal`` and dates as calendar dates already converted to the
organisation's time zone, so the same inputs always give the same answers.

All arithmetic stays in ``Decimal``. Nothing is rounded except by the two
display helpers, ``format_decimal`` and ``format_progress``.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

__all__ = [
    "SEVERITY",
    "Kind",
    "Measurement",
    "Status",
    "TargetMode",
    "Tolerances",
    "derive_target",
    "expected_progress",
    "format_decimal",
    "format_progress",
    "key_result_status",
    "measure",
    "weighted_progress",
    "worst_status",
]

ZERO = Decimal(0)
HUNDRED = Decimal(100)
ONE_DECIMAL = Decimal("0.1")


class Kind(StrEnum):
    """How a key result's value is judged against its target."""

    INCREASE = "increase"
    DECREASE = "decrease"
    STAY_ABOVE = "stay_above"
    STAY_BELOW = "stay_below"
    MILESTONE = "milestone"


class Status(StrEnum):
    """Where a key result stands, from a person's point of view."""

    NOT_STARTED = "not_started"
    ON_TRACK = "on_track"
    IN_PROGRESS = "in_progress"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    COMPLETE = "complete"

    @property
    def label(self) -> str:
        """The status in plain words, for people to read."""
        return _STATUS_LABELS[self]


_STATUS_LABELS: dict[Status, str] = {
    Status.NOT_STARTED: "Not started",
    Status.ON_TRACK: "On track",
    Status.IN_PROGRESS: "In progress",
    Status.AT_RISK: "At risk",
    Status.OFF_TRACK: "Off track",
    Status.COMPLETE: "Complete",
}

SEVERITY: tuple[Status, ...] = (
    Status.COMPLETE,
    Status.NOT_STARTED,
    Status.ON_TRACK,
    Status.IN_PROGRESS,
    Status.AT_RISK,
    Status.OFF_TRACK,
)
"""Statuses from least to most worrying; ``worst_status`` picks the last."""


class TargetMode(StrEnum):
    """How a target is written relative to the baseline."""

    ABSOLUTE = "absolute"
    RELATIVE_PERCENT = "relative_percent"
    PERCENTAGE_POINTS = "percentage_points"


@dataclass(frozen=True)
class Measurement:
    """One key result's value read against its start and target.

    ``progress`` runs from 0 to 100 at full precision. ``distance`` is, for
    the stay kinds, the margin left inside the limit (negative once the
    limit is breached); for increase and decrease, the gap still to close
    (0 once met); for milestones, ``None``.
    """

    progress: Decimal
    worsening: bool
    met: bool
    distance: Decimal | None


@dataclass(frozen=True)
class Tolerances:
    """How many percentage points behind pace are tolerated.

    A key result more than ``at_risk_after`` points behind its expected
    progress is at risk; more than ``off_track_after`` points, off track.
    """

    at_risk_after: Decimal = Decimal(10)
    off_track_after: Decimal = Decimal(25)

    def __post_init__(self) -> None:
        _require_finite(self.at_risk_after, "at_risk_after")
        _require_finite(self.off_track_after, "off_track_after")
        if self.at_risk_after < 0 or self.off_track_after < 0:
            raise ValueError("tolerances cannot be negative")
        if self.at_risk_after > self.off_track_after:
            raise ValueError("at_risk_after cannot be larger than off_track_after")


def measure(
    kind: Kind,
    start: Decimal | None,
    target: Decimal,
    current: Decimal | None,
    done: bool | None = None,
) -> Measurement:
    """Read the current value of a key result against its target.

    ``current`` is ``None`` when nobody has checked in yet. ``done`` only
    matters for milestones, where ``start``, ``target`` and ``current`` are
    ignored.

    Raises ``ValueError`` when an increase or decrease key result has a
    value but no start, or when its target lies on the wrong side of its
    start.
    """
    if kind is Kind.MILESTONE:
        return _measure_milestone(done)
    _require_finite(target, "target")
    if current is not None:
        _require_finite(current, "current value")
    if kind in (Kind.STAY_ABOVE, Kind.STAY_BELOW):
        return _measure_limit(kind, target, current)
    if start is not None:
        _require_finite(start, "start value")
        _require_direction(kind, start, target)
    return _measure_towards_target(kind, start, target, current)


def _measure_milestone(done: bool | None) -> Measurement:
    met = bool(done)
    return Measurement(HUNDRED if met else ZERO, False, met, None)


def _measure_limit(kind: Kind, limit: Decimal, current: Decimal | None) -> Measurement:
    if current is None:
        return Measurement(ZERO, False, False, None)
    margin = current - limit if kind is Kind.STAY_ABOVE else limit - current
    met = margin >= 0
    return Measurement(HUNDRED if met else ZERO, False, met, margin)


def _require_direction(kind: Kind, start: Decimal, target: Decimal) -> None:
    if kind is Kind.INCREASE and target < start:
        raise ValueError(
            f"an {kind.value} key result needs a target at or above its "
            f"start value (start {format_decimal(start)}, "
            f"target {format_decimal(target)})"
        )
    if kind is Kind.DECREASE and target > start:
        raise ValueError(
            f"a {kind.value} key result needs a target at or below its "
            f"start value (start {format_decimal(start)}, "
            f"target {format_decimal(target)})"
        )


def _measure_towards_target(
    kind: Kind, start: Decimal | None, target: Decimal, current: Decimal | None
) -> Measurement:
    if current is None:
        gap = None if start is None else abs(target - start)
        return Measurement(ZERO, False, False, gap)
    if start is None:
        raise ValueError("a baseline (start value) is needed")
    rising = kind is Kind.INCREASE
    met = current >= target if rising else current <= target
    worsening = current < start if rising else current > start
    if met:
        return Measurement(HUNDRED, False, True, ZERO)
    if worsening:
        return Measurement(ZERO, True, False, abs(target - current))
    # Here the value lies strictly between start and target, so the span is
    # never zero and the ratio is below one. Dividing absolute values keeps
    # a value sitting on its start from coming out as negative zero.
    share = abs(current - start) / abs(target - start)
    return Measurement(share * HUNDRED, False, False, abs(target - current))


def expected_progress(start: date, due: date, today: date) -> Decimal:
    """Progress a key result would show at a steady pace, from 0 to 100.

    Pace runs linearly from the start date (0) to the due date (100).
    """
    if today >= due:
        return HUNDRED
    if today <= start:
        return ZERO
    elapsed = Decimal((today - start).days)
    return elapsed / Decimal((due - start).days) * HUNDRED


def key_result_status(
    kind: Kind,
    measurement: Measurement | None,
    start: date,
    due: date,
    today: date,
    tolerances: Tolerances,
) -> Status:
    """Judge a key result, given its latest measurement and the calendar.

    ``measurement`` is ``None`` before the first check-in. The due date
    itself still counts as in time; only the day after is late.
    """
    overdue = today > due
    if measurement is None:
        return Status.OFF_TRACK if overdue else Status.NOT_STARTED
    if kind in (Kind.STAY_ABOVE, Kind.STAY_BELOW):
        return _limit_status(measurement.met, overdue)
    if measurement.met:
        return Status.COMPLETE
    if overdue:
        return Status.OFF_TRACK
    # A milestone is all or nothing, so there is no pace to compare with,
    # and before the cycle begins there is no expected progress yet.
    if kind is Kind.MILESTONE or today < start:
        return Status.IN_PROGRESS
    behind = expected_progress(start, due, today) - measurement.progress
    return _pace_status(behind, tolerances)


def _limit_status(met: bool, overdue: bool) -> Status:
    if met:
        return Status.COMPLETE if overdue else Status.ON_TRACK
    return Status.OFF_TRACK if overdue else Status.AT_RISK


def _pace_status(behind: Decimal, tolerances: Tolerances) -> Status:
    if behind <= tolerances.at_risk_after:
        return Status.ON_TRACK
    if behind <= tolerances.off_track_after:
        return Status.AT_RISK
    return Status.OFF_TRACK


def weighted_progress(items: Iterable[tuple[Decimal, Decimal]]) -> Decimal | None:
    """Weighted mean of ``(progress, weight)`` pairs, at full precision.

    Items weighing 0 are left out. Returns ``None`` when nothing is left to
    average. Raises ``ValueError`` on a negative weight.
    """
    counted = [(progress, weight) for progress, weight in items if _weight(weight)]
    if not counted:
        return None
    total = sum((progress * weight for progress, weight in counted), ZERO)
    mean = total / sum((weight for _, weight in counted), ZERO)
    # Decimal division rounds at the context's precision, which could nudge
    # the mean a hair outside the inputs; the true mean never leaves them.
    values = [progress for progress, _ in counted]
    return min(max(mean, min(values)), max(values))


def _weight(weight: Decimal) -> bool:
    """Whether an item counts at all; raises on a negative weight."""
    _require_finite(weight, "weight")
    if weight < 0:
        raise ValueError(f"weights cannot be negative, got {weight}")
    return weight > 0


def worst_status(statuses: Iterable[Status]) -> Status:
    """The most worrying status given; ``NOT_STARTED`` when given none."""
    return max(statuses, key=SEVERITY.index, default=Status.NOT_STARTED)


def derive_target(baseline: Decimal, mode: TargetMode, change: Decimal) -> Decimal:
    """Turn a target written relative to the baseline into a plain value.

    ``ABSOLUTE``: ``change`` is the target. ``RELATIVE_PERCENT``: the
    baseline changed by ``change`` percent, so -15 on 8.0 gives 6.8.
    ``PERCENTAGE_POINTS``: the baseline plus ``change``, so -1.5 on 8.0
    gives 6.5.
    """
    if mode is TargetMode.ABSOLUTE:
        return change
    if mode is TargetMode.RELATIVE_PERCENT:
        return baseline * (1 + change / HUNDRED)
    return baseline + change


def format_decimal(value: Decimal) -> str:
    """Show a number with every significant decimal and no exponent.

    Trailing zeros go and thousands are grouped with commas:
    ``Decimal("47881064.50")`` shows as ``"47,881,064.5"``.
    """
    _require_finite(value, "value")
    text = f"{value:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_progress(value: Decimal) -> str:
    """Show a progress percentage with one decimal, rounded half up.

    Two edge rules keep the display honest: progress short of 100 never
    shows as ``"100.0"`` (99.95 up to just below 100 shows ``"99.9"``), and
    progress above 0 never shows as ``"0.0"`` (below 0.05 it shows
    ``"<0.1"``).

    Raises ``ValueError`` when the value is outside 0 to 100.
    """
    _require_finite(value, "progress")
    if value < 0 or value > HUNDRED:
        raise ValueError(f"progress must lie between 0 and 100, got {value}")
    if value == 0:
        return "0.0"
    shown = value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)
    if shown == HUNDRED and value < HUNDRED:
        return "99.9"
    if shown == 0:
        return "<0.1"
    return f"{shown:f}"


def _require_finite(value: Decimal, name: str) -> None:
    if not value.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value}")
