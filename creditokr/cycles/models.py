"""Planning cycles on the fiscal calendar and their cadence events."""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from creditokr.cycles.fiscal import FiscalPeriod


class CycleKind(models.TextChoices):
    QUARTER = "quarter", "Quarter"
    YEAR = "year", "Fiscal year"


class CycleState(models.TextChoices):
    PLANNING = "planning", "Planning"
    ACTIVE = "active", "Active"
    IN_REVIEW = "in_review", "In review"
    CLOSED = "closed", "Closed"


class Cycle(models.Model):
    """A quarter or fiscal year. Objectives belong to one by reference."""

    name = models.CharField(max_length=50)
    kind = models.CharField(max_length=10, choices=CycleKind.choices)
    fiscal_year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField(null=True, blank=True)
    start_date = models.DateField()
    end_date = models.DateField(help_text="The last day of the cycle (inclusive).")
    state = models.CharField(
        max_length=10, choices=CycleState.choices, default=CycleState.PLANNING
    )

    class Meta:
        ordering = ["start_date", "-end_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["fiscal_year", "quarter"],
                condition=models.Q(kind="quarter"),
                name="one_cycle_per_fiscal_quarter",
            ),
            models.UniqueConstraint(
                fields=["fiscal_year"],
                condition=models.Q(kind="year"),
                name="one_cycle_per_fiscal_year",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="quarter", quarter__gte=1, quarter__lte=4)
                    | models.Q(kind="year", quarter__isnull=True)
                ),
                name="quarter_number_matches_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="cycle_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "A cycle cannot end before it starts."})

    @property
    def period(self) -> FiscalPeriod:
        return FiscalPeriod(
            self.fiscal_year, self.quarter, self.start_date, self.end_date
        )

    def contains(self, day: date) -> bool:
        return self.start_date <= day <= self.end_date

    @property
    def is_closed(self) -> bool:
        return self.state == CycleState.CLOSED


class CadenceKind(models.TextChoices):
    PLANNING = "planning", "Planning session"
    MID_REVIEW = "mid_review", "Mid-quarter review"
    END_EVALUATION = "end_evaluation", "End-of-quarter evaluation"


class CadenceEvent(models.Model):
    """A meeting in a quarter's rhythm: planning, mid-review, evaluation."""

    cycle = models.ForeignKey(
        Cycle, on_delete=models.CASCADE, related_name="cadence_events"
    )
    kind = models.CharField(max_length=20, choices=CadenceKind.choices)
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField(help_text="Stored in UTC.")
    duration_minutes = models.PositiveIntegerField(default=60)
    attendees = models.ForeignKey(
        "accounts.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cadence_events",
    )
    location = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    sequence = models.PositiveIntegerField(
        default=0,
        help_text="Goes up whenever the time, length, place or title changes, "
        "so calendars replace their copy.",
    )
    cancelled_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the meeting is called off."
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "kind"], name="one_cadence_event_of_a_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.cycle})"

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None
