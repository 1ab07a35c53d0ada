"""How OKR figures look on a page: status chips, values, progress bars.

Templates never compute a number; they hand what the views worked out to
these tags, which only format it.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from creditokr.okrs.models import Confidence, KeyResult
from creditokr.okrs.progress import Status, TargetMode, format_decimal, format_progress

register = template.Library()

EMPTY = "—"
MINUS = "\u2212"

STATUS_ICONS: dict[Status, str] = {
    Status.COMPLETE: "✓",
    Status.ON_TRACK: "●",
    Status.IN_PROGRESS: "◐",
    Status.AT_RISK: "▲",
    Status.OFF_TRACK: "✕",
    Status.NOT_STARTED: "○",
}


def _status(value: Status | str | None) -> Status:
    try:
        return Status(value or Status.NOT_STARTED)
    except ValueError:
        return Status.NOT_STARTED


@register.simple_tag
def status_chip(status: Status | str | None) -> str:
    """A status as icon, word and colour; the word is always there."""
    shown = _status(status)
    return format_html(
        '<span class="status status--{}" title="{}">'
        '<span class="status__icon" aria-hidden="true">{}</span> {}</span>',
        shown.value,
        shown.label,
        STATUS_ICONS[shown],
        shown.label,
    )


@register.filter
def kr_value(value: Decimal | int | str | None, key_result: KeyResult) -> str:
    """A key result's value with its unit: "6.8%", "45 days", "1,200 EUR"."""
    if value is None or value == "":
        return EMPTY
    try:
        number = Decimal(value)
        text = format_decimal(number)
    except (InvalidOperation, ValueError):
        return EMPTY
    return f"{text}{key_result.unit_suffix}"


@register.filter
def number(value: Decimal | int | None) -> str:
    """A plain number without trailing zeros: 1.500 shows as "1.5"."""
    if value is None:
        return EMPTY
    return format_decimal(Decimal(value))


@register.filter
def target_definition(key_result: KeyResult) -> str:
    """How a relative target was set, e.g. "-15% of baseline 8% → 6.8%".

    The sign is a typographic minus, as printed reports show it.
    """
    start, change = key_result.start_value, key_result.target_change
    if key_result.target_mode == TargetMode.ABSOLUTE or start is None or change is None:
        return ""

    sign = MINUS if change < 0 else "+"
    amount = format_decimal(abs(change))
    baseline = kr_value(start, key_result)
    target = kr_value(key_result.target_value, key_result)
    if key_result.target_mode == TargetMode.PERCENTAGE_POINTS:
        return f"{sign}{amount} points from baseline {baseline} → {target}"
    return f"{sign}{amount}% of baseline {baseline} → {target}"


@register.simple_tag
def confidence_chip(confidence: str) -> str:
    """How sure the person checking in felt, in words; nothing if unsaid."""
    if confidence not in Confidence.values:
        return ""
    label = Confidence(confidence).label
    return format_html(
        '<span class="confidence confidence--{}">'
        '<span aria-hidden="true">{}</span> {}</span>',
        confidence,
        STATUS_ICONS[Status(confidence)],
        label,
    )


@register.filter
def pct(progress: Decimal | None) -> str:
    """A progress figure as "50.0%"; no figure at all as a dash."""
    if progress is None:
        return EMPTY
    try:
        return f"{format_progress(Decimal(progress))}%"
    except (InvalidOperation, ValueError):
        return EMPTY


@register.simple_tag
def progress_bar(progress: Decimal | None, status: Status | str | None = None) -> str:
    """An accessible bar coloured by status, with the figure beside it."""
    shown = _status(status)
    text = pct(progress)
    if progress is None:
        return format_html(
            '<span class="bar bar--empty"><span class="bar__text">{}</span></span>',
            text,
        )

    width = min(max(Decimal(progress), Decimal(0)), Decimal(100))
    return format_html(
        '<span class="bar bar--{}">'
        '<span class="bar__track" role="progressbar" aria-valuemin="0" '
        'aria-valuemax="100" aria-valuenow="{}" aria-valuetext="{}" '
        'aria-label="Progress">'
        '<span class="bar__fill" style="width: {}%"></span></span>'
        '<span class="bar__text">{}</span></span>',
        shown.value,
        f"{width:.1f}",
        text,
        f"{width:.1f}",
        text,
    )


@register.simple_tag
def optional_url(name: str, *args: Any) -> str:
    """The URL called `name`, or "" while that page does not exist yet."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@register.simple_tag
def worsening_marker(card: Any) -> str:
    """Flag a value moving away from its target, arrow the way it moved.

    For a decrease key result (DSO, delinquency) worsening means the value
    went up, so the arrow points up; for an increase it points down.
    """
    if not getattr(card, "worsening", False):
        return ""
    rising = card.key_result.kind == "decrease"
    arrow, moved = ("↑", "rose") if rising else ("↓", "fell")
    return format_html(
        '<span class="marker marker--worse" title="The value {} away from the '
        'target since the start">{} worsening</span>',
        moved,
        arrow,
    )


LIMIT_WORDS = {"stay_above": "at or above", "stay_below": "at or below"}


@register.filter
def toward(key_result: KeyResult) -> str:
    """What the current value is read against: "→ 6.8%", "≥ 95%", "→ Done"."""
    if key_result.kind == "milestone":
        return "→ Done"
    limit = kr_value(key_result.target_value, key_result)
    if key_result.kind == "stay_above":
        return f"≥ {limit}"
    if key_result.kind == "stay_below":
        return f"≤ {limit}"
    return f"→ {limit}"


@register.filter
def target_phrase(key_result: KeyResult) -> str:
    """The goal in words for a key result that holds a limit."""
    words = LIMIT_WORDS.get(key_result.kind)
    if words is None:
        return ""
    return f"stay {words} {kr_value(key_result.target_value, key_result)}"
