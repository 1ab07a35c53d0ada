"""Secret calendar feed addresses and the invitations sent for meetings."""

from django.conf import settings
from django.db import models


class FeedScope(models.TextChoices):
    PERSON = "person", "My meetings and deadlines"
    TEAM = "team", "A team's meetings and deadlines"
    CYCLE = "cycle", "A cycle's meetings and key result deadlines"


class CalendarFeed(models.Model):
    """A secret address a calendar program subscribes to.

    Only a hash of the token is kept, so the database alone does not give
    away live addresses; the address is shown once, when it is made.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="calendar_feeds",
    )
    scope = models.CharField(max_length=10, choices=FeedScope.choices)
    team = models.ForeignKey(
        "accounts.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendar_feeds",
    )
    cycle = models.ForeignKey(
        "cycles.Cycle",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendar_feeds",
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(scope="person", team__isnull=True, cycle__isnull=True)
                    | models.Q(scope="team", team__isnull=False, cycle__isnull=True)
                    | models.Q(scope="cycle", team__isnull=True, cycle__isnull=False)
                ),
                name="calendar_feed_scope_matches_its_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.owner})"

    @property
    def name(self) -> str:
        """What a calendar program calls the subscribed calendar."""
        if self.scope == FeedScope.TEAM and self.team is not None:
            return f"{self.team.name} (CreditOKR)"
        if self.scope == FeedScope.CYCLE and self.cycle is not None:
            return f"{self.cycle.name} (CreditOKR)"
        return f"{self.owner} (CreditOKR)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class InvitationMethod(models.TextChoices):
    REQUEST = "REQUEST", "Invitation or update"
    CANCEL = "CANCEL", "Cancellation"


class Invitation(models.Model):
    """Who has been sent an invitation to a meeting, and which version.

    Updates and cancellations go to the people on these rows, whether or
    not they are still in the attending team.
    """

    event = models.ForeignKey(
        "cycles.CadenceEvent", on_delete=models.CASCADE, related_name="invitations"
    )
    attendee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    sequence = models.PositiveIntegerField()
    method = models.CharField(max_length=7, choices=InvitationMethod.choices)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["event", "attendee"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "attendee"], name="one_invitation_per_attendee"
            )
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.event} to {self.attendee} (#{self.sequence})"
