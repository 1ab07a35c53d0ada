"""Objectives, key results, check-ins and initiatives."""

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from creditokr.okrs.progress import Kind, Status, TargetMode

# SQLite keeps about 15 significant digits exactly, so a measured value may
# have no more: up to 99,999,999,999.9999 in any unit.
VALUE_MAX_DIGITS = 15
VALUE_DECIMAL_PLACES = 4


def value_field(
    **options: Any,
) -> "models.DecimalField[Decimal | None, Decimal | None]":
    """A measured value, stored exactly on every supported database."""
    return models.DecimalField(
        max_digits=VALUE_MAX_DIGITS,
        decimal_places=VALUE_DECIMAL_PLACES,
        null=True,
        blank=True,
        **options,
    )


class Visibility(models.TextChoices):
    ORGANISATION = "org", "Whole organisation"
    TEAM = "team", "Team only"


class Priority(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


STATUS_CHOICES = [(status.value, status.label) for status in Status]
OVERRIDABLE_STATUSES = [
    (status.value, status.label) for status in Status if status != Status.NOT_STARTED
]


class Objective(models.Model):
    cycle = models.ForeignKey(
        "cycles.Cycle", on_delete=models.PROTECT, related_name="objectives"
    )
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.PROTECT, related_name="objectives"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_objectives",
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
        help_text="The objective this one contributes to.",
    )
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    visibility = models.CharField(
        max_length=4, choices=Visibility.choices, default=Visibility.ORGANISATION
    )
    priority = models.CharField(
        max_length=6, choices=Priority.choices, default=Priority.MEDIUM
    )
    archived = models.BooleanField(default=False)
    status_override = models.CharField(
        max_length=12, choices=OVERRIDABLE_STATUSES, blank=True
    )
    status_override_reason = models.TextField(blank=True)
    starting_status = models.CharField(
        max_length=12,
        choices=STATUS_CHOICES,
        blank=True,
        help_text="Shown until the first check-in (e.g. from a template).",
    )
    template_key = models.CharField(max_length=200, blank=True, db_index=True)
    copied_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="copies",
        help_text="The objective this one was carried over from.",
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["team__name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "template_key"],
                condition=~models.Q(template_key=""),
                name="template_objective_once_per_cycle",
            ),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("pk")),
                name="objective_is_not_its_own_parent",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Unit(models.TextChoices):
    PERCENT = "percent", "Percent"
    DAYS = "days", "Days"
    CURRENCY = "currency", "Currency"
    COUNT = "count", "Count"
    TEXT = "text", "Other (free text)"


class KeyResult(models.Model):
    objective = models.ForeignKey(
        Objective, on_delete=models.CASCADE, related_name="key_results"
    )
    title = models.CharField(max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_key_results",
    )
    definition = models.TextField(
        "How it is measured",
        blank=True,
        help_text="What the number counts and its conventions, e.g. "
        "'accounts 30+ days past due / active accounts, month end'.",
    )
    kind = models.CharField(
        max_length=12,
        choices=[
            (Kind.INCREASE.value, "Increase to target"),
            (Kind.DECREASE.value, "Decrease to target"),
            (Kind.STAY_ABOVE.value, "Stay at or above"),
            (Kind.STAY_BELOW.value, "Stay at or below"),
            (Kind.MILESTONE.value, "Milestone"),
        ],
    )
    unit = models.CharField(max_length=10, choices=Unit.choices, default=Unit.COUNT)
    currency_code = models.CharField(max_length=3, blank=True)
    unit_label = models.CharField(
        max_length=40, blank=True, help_text="For free-text units, e.g. 'reports'."
    )
    start_value = value_field(help_text="The baseline.")
    target_value = value_field()
    target_mode = models.CharField(
        max_length=20,
        choices=[
            (TargetMode.ABSOLUTE.value, "A fixed value"),
            (TargetMode.RELATIVE_PERCENT.value, "Relative change (%) of baseline"),
            (TargetMode.PERCENTAGE_POINTS.value, "Change in percentage points"),
        ],
        default=TargetMode.ABSOLUTE.value,
    )
    target_change = value_field(
        help_text="For relative targets: -15 means 15% (or points) lower.",
    )
    due_date = models.DateField(
        null=True, blank=True, help_text="Empty means the end of the cycle."
    )
    weight = models.DecimalField(
        max_digits=8,
        decimal_places=3,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    archived = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    is_headline = models.BooleanField(
        default=False, help_text="Measures the number stated in the objective."
    )
    template_key = models.CharField(max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["objective_id", "-is_headline", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["objective", "template_key"],
                condition=~models.Q(template_key=""),
                name="template_key_result_once_per_objective",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def effective_due_date(self) -> date:
        return self.due_date or self.objective.cycle.end_date

    @property
    def unit_suffix(self) -> str:
        if self.unit == Unit.PERCENT:
            return "%"
        if self.unit == Unit.DAYS:
            return " days"
        if self.unit == Unit.CURRENCY:
            return f" {self.currency_code}".rstrip()
        if self.unit == Unit.TEXT and self.unit_label:
            return f" {self.unit_label}"
        return ""


class Confidence(models.TextChoices):
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    OFF_TRACK = "off_track", "Off track"


class CheckInSource(models.TextChoices):
    MANUAL = "manual", "Manual"
    DATA = "data", "From data"


class CheckIn(models.Model):
    """One reading of a key result. Never edited; the latest as-of wins."""

    key_result = models.ForeignKey(
        KeyResult, on_delete=models.CASCADE, related_name="check_ins"
    )
    value = value_field()
    done = models.BooleanField(null=True, blank=True)
    confidence = models.CharField(max_length=10, choices=Confidence.choices, blank=True)
    note = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="check_ins",
    )
    as_of = models.DateField(help_text="The date the value describes.")
    source = models.CharField(
        max_length=10, choices=CheckInSource.choices, default=CheckInSource.MANUAL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-as_of", "-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["key_result", "-as_of", "-created_at", "-id"],
                name="latest_check_in",
            )
        ]

    def __str__(self) -> str:
        return f"{self.key_result} as of {self.as_of}"


class InitiativeState(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    BLOCKED = "blocked", "Blocked"


class Initiative(models.Model):
    """Work that moves a key result (or its objective)."""

    objective = models.ForeignKey(
        Objective, on_delete=models.CASCADE, related_name="initiatives"
    )
    key_result = models.ForeignKey(
        KeyResult,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="initiatives",
    )
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_initiatives",
    )
    priority = models.CharField(
        max_length=6, choices=Priority.choices, default=Priority.MEDIUM
    )
    state = models.CharField(
        max_length=12,
        choices=InitiativeState.choices,
        default=InitiativeState.NOT_STARTED,
    )
    due_date = models.DateField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title
