"""Comments, follows and in-app notifications.

A comment belongs to one thread: an objective's own (no key result, no
check-in), a key result's (key result, no check-in) or a check-in's (both).
Who may read a thread is who may see the objective, always.

A notification tells one person about one thing in one objective; it is
listed only while that person may still see the objective.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Comment(models.Model):
    objective = models.ForeignKey(
        "okrs.Objective", on_delete=models.CASCADE, related_name="comments"
    )
    key_result = models.ForeignKey(
        "okrs.KeyResult",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="comments",
    )
    check_in = models.ForeignKey(
        "okrs.CheckIn",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="comments",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="comments"
    )
    body = models.TextField(blank=True, help_text="Markdown, as it was typed.")
    body_html = models.TextField(
        blank=True, help_text="The body rendered and sanitised when last saved."
    )
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+"
    )
    submission = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        help_text="The form's one-time token, so a double submit saves once.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when a comment others answered was removed: its place "
        "in the conversation stays, its text goes.",
    )

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["objective", "key_result", "check_in", "created_at"],
                name="comment_thread",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(check_in__isnull=True)
                | models.Q(key_result__isnull=False),
                name="comment_on_check_in_names_its_key_result",
            )
        ]

    def __str__(self) -> str:
        return f"Comment {self.pk} by {self.author_id} on objective {self.objective_id}"

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None


class Follow(models.Model):
    """Someone who asked to hear about an objective they do not own."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows"
    )
    objective = models.ForeignKey(
        "okrs.Objective", on_delete=models.CASCADE, related_name="follows"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "objective"], name="follow_an_objective_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.objective_id}"


class NotificationKind(models.TextChoices):
    ASSIGNMENT = "assignment", "Assigned to you"
    MENTION = "mention", "Mentioned you"
    STATUS = "status", "Status changed"
    COMMENT = "comment", "New comment"


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(max_length=12, choices=NotificationKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    objective = models.ForeignKey(
        "okrs.Objective", on_delete=models.CASCADE, related_name="+"
    )
    key_result = models.ForeignKey(
        "okrs.KeyResult",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    comment = models.ForeignKey(
        Comment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    change = models.ForeignKey(
        "activity.ChangeRecord",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    text = models.CharField(max_length=500)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
        ]

    def __str__(self) -> str:
        return f"To {self.recipient_id}: {self.text}"
