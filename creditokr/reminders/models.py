"""Reminder rules, people's preferences, and every message sent or due."""

from datetime import time

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from creditokr.reminders.cadence import Cadence, Frequency

WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


class Kind(models.TextChoices):
    """What a message is about; people choose per kind how to receive it."""

    CHECK_IN = "check_in", "Check-in reminders"
    DEADLINE = "deadline", "Deadlines coming up"
    OVERDUE = "overdue", "Overdue notices"
    REVIEW = "review", "Review meetings tomorrow"
    DIGEST = "digest", "Weekly digest"
    MENTION = "mention", "Mentions"
    INVITATION = "invitation", "Calendar invitations"


# Invitations are calendar messages, not reminders: nobody unsubscribes.
PREFERENCE_KINDS = [kind for kind in Kind if kind != Kind.INVITATION]


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    CHAT = "chat", "Chat"


FREQUENCIES = [
    (Frequency.WEEKLY.value, "Every week"),
    (Frequency.FORTNIGHTLY.value, "Every two weeks"),
    (Frequency.MONTHLY.value, "Every month"),
]


class Scope(models.TextChoices):
    ORGANISATION = "organisation", "Whole organisation (default)"
    TEAM = "team", "One team"
    KEY_RESULT = "key_result", "One key result"


class ReminderRule(models.Model):
    """When owners are reminded to check in on their key results.

    A key result follows its own rule if it has one, else its objective's
    team's, else the organisation's. Times are read in each recipient's
    own time zone.
    """

    scope = models.CharField(max_length=12, choices=Scope.choices)
    team = models.ForeignKey(
        "accounts.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminder_rules",
    )
    key_result = models.ForeignKey(
        "okrs.KeyResult",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminder_rules",
    )
    enabled = models.BooleanField(
        default=True, help_text="Off: no check-in reminders under this rule."
    )
    frequency = models.CharField(
        max_length=12, choices=FREQUENCIES, default=Frequency.WEEKLY.value
    )
    weekday = models.PositiveSmallIntegerField(
        choices=WEEKDAYS,
        default=0,
        help_text="For weekly and two-weekly reminders. Two-weekly ones count "
        "from the week the cycle starts.",
    )
    day_of_month = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(31)],
        help_text="For monthly reminders; 31 means the last day of shorter months.",
    )
    time_of_day = models.TimeField(
        default=time(9, 0), help_text="In each recipient's own time zone."
    )
    skip_if_checked_in_days = models.PositiveSmallIntegerField(
        default=3,
        help_text="No reminder for a key result the person checked in on "
        "within this many days.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope"],
                condition=models.Q(scope="organisation"),
                name="one_organisation_reminder_rule",
            ),
            models.UniqueConstraint(
                fields=["team"],
                condition=models.Q(scope="team"),
                name="one_reminder_rule_per_team",
            ),
            models.UniqueConstraint(
                fields=["key_result"],
                condition=models.Q(scope="key_result"),
                name="one_reminder_rule_per_key_result",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        scope="organisation",
                        team__isnull=True,
                        key_result__isnull=True,
                    )
                    | models.Q(
                        scope="team", team__isnull=False, key_result__isnull=True
                    )
                    | models.Q(
                        scope="key_result", team__isnull=True, key_result__isnull=False
                    )
                ),
                name="reminder_rule_scope_matches_target",
            ),
        ]

    def __str__(self) -> str:
        target = self.key_result or self.team or "Organisation"
        return f"{target}: {self.get_frequency_display().lower()}"

    @property
    def cadence(self) -> Cadence:
        return Cadence(
            Frequency(self.frequency), self.weekday, self.day_of_month, self.time_of_day
        )


class ReminderSettings(models.Model):
    """Organisation-wide timing of deadline notices and the digest."""

    deadline_days_before = models.PositiveSmallIntegerField(
        default=3, help_text="Remind this many days before a due date."
    )
    notice_time = models.TimeField(
        default=time(9, 0),
        help_text="Local time for deadline, overdue and review-meeting notices.",
    )
    digest_weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS, default=0)
    digest_time = models.TimeField(default=time(8, 0))

    class Meta:
        verbose_name_plural = "reminder settings"

    def __str__(self) -> str:
        return "Reminder settings"

    @classmethod
    def get(cls) -> "ReminderSettings":
        found = cls.objects.order_by("pk").first()
        return found or cls.objects.create()


class Preference(models.Model):
    """How one person wants one kind of message, if not the default."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField(
        max_length=12, choices=[(k.value, k.label) for k in PREFERENCE_KINDS]
    )
    enabled = models.BooleanField(default=True)
    email = models.BooleanField(default=True)
    chat = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind"], name="one_preference_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_kind_display()}"


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed, will retry"
    DEAD = "dead", "Gave up"
    SKIPPED = "skipped", "Skipped"


class Delivery(models.Model):
    """One message to one person on one channel, and what became of it.

    (recipient, kind, occurrence, channel) is unique: planning the same
    occurrence twice finds the row already there and adds nothing.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deliveries"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    occurrence = models.CharField(max_length=200)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_by = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    subject = models.CharField(max_length=300)
    text = models.TextField()
    html = models.TextField(blank=True)
    attachments = models.JSONField(
        default=list, blank=True, help_text="[file name, base64 content, MIME type]"
    )
    headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "occurrence", "channel"],
                name="one_delivery_per_occurrence_and_channel",
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient} by {self.channel}"


class Outcome(models.TextChoices):
    STARTED = "started", "Started"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    ABANDONED = "abandoned", "Abandoned (worker stopped)"


class DeliveryAttempt(models.Model):
    """One try at sending a delivery, kept for the record."""

    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveSmallIntegerField()
    worker = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=10, choices=Outcome.choices, default=Outcome.STARTED
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery_id", "number", "pk"]

    def __str__(self) -> str:
        return f"Attempt {self.number} of {self.delivery_id}: {self.outcome}"


class OverdueNotice(models.Model):
    """Marks that a person was told an item is overdue, so it happens once."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    item = models.CharField(max_length=40, help_text="key_result:12, initiative:7")
    due_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "item", "due_date"], name="one_overdue_notice"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item} overdue, told {self.recipient}"
