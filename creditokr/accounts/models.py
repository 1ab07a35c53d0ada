"""People, the organisation they work in, its teams and their roles."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from creditokr.cycles.fiscal import FiscalCalendar, YearLabel, parse_time_zone
from creditokr.okrs.progress import Tolerances


def validate_time_zone(value: str) -> None:
    try:
        parse_time_zone(value)
    except ValueError as error:
        raise ValidationError(str(error)) from None


class User(AbstractUser):
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="Times are shown in this zone; empty means the organisation's.",
    )

    class Meta:
        ordering = ["first_name", "last_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Organisation(models.Model):
    """The one organisation a CreditOKR installation serves."""

    MONTHS = [
        (1, "January"),
        (2, "February"),
        (3, "March"),
        (4, "April"),
        (5, "May"),
        (6, "June"),
        (7, "July"),
        (8, "August"),
        (9, "September"),
        (10, "October"),
        (11, "November"),
        (12, "December"),
    ]

    name = models.CharField(max_length=200, default="Credit management")
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        choices=MONTHS,
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text="Existing cycles keep their dates when this changes; new "
        "cycles follow the new calendar.",
    )
    fiscal_year_label = models.CharField(
        max_length=5,
        choices=[
            (YearLabel.END.value, "Year in which the fiscal year ends"),
            (YearLabel.START.value, "Year in which the fiscal year starts"),
        ],
        default=YearLabel.END.value,
    )
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone]
    )
    at_risk_after = models.DecimalField(
        "At risk when behind pace by more than (points)",
        max_digits=5,
        decimal_places=2,
        default=Decimal("10"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    off_track_after = models.DecimalField(
        "Off track when behind pace by more than (points)",
        max_digits=5,
        decimal_places=2,
        default=Decimal("25"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    is_demo = models.BooleanField(
        default=False, help_text="Set for the demo workspace made by `make run`."
    )

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.at_risk_after > self.off_track_after:
            raise ValidationError(
                {"off_track_after": "Off track must start at or after at risk."}
            )

    @classmethod
    def get(cls) -> "Organisation":
        """The organisation row, created with defaults on first use."""
        organisation = cls.objects.order_by("pk").first()
        return organisation or cls.objects.create()

    @property
    def zone(self) -> ZoneInfo:
        return parse_time_zone(self.time_zone)

    @property
    def calendar(self) -> FiscalCalendar:
        return FiscalCalendar(
            self.fiscal_year_start_month, YearLabel(self.fiscal_year_label)
        )

    @property
    def tolerances(self) -> Tolerances:
        return Tolerances(self.at_risk_after, self.off_track_after)


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """What someone may do in a team, from least to most.

    An administrator's role is organisation-wide: being one in any team
    makes them an administrator of every team.
    """

    VIEWER = "viewer", "Viewer"
    MEMBER = "member", "Member"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Administrator (whole organisation)"


ROLE_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.MANAGER: 2, Role.ADMIN: 3}


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(
        max_length=10,
        choices=Role.choices,
        default=Role.MEMBER,
        help_text="Viewers read; members change what they own; managers "
        "change their team's objectives. An administrator administers the "
        "whole organisation: every team, team-only objectives included, "
        "whichever team the role is given in.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="one_role_per_team")
        ]
        ordering = ["team__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.team}"


class InvitationState(models.TextChoices):
    PENDING = "pending", "Waiting"
    EXPIRED = "expired", "Expired"
    ACCEPTED = "accepted", "Accepted"
    REVOKED = "revoked", "Revoked"


class Invitation(models.Model):
    """An email invitation to join a team with a role.

    The link's token is never stored, only its SHA-256 hash, so the table
    alone opens no account. A link works once, for seven days, unless it is
    revoked; sending it again makes a new link and the old one stops working.
    """

    email = models.EmailField()
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        related_name="invitations_sent",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the email last went out."
    )
    times_sent = models.PositiveSmallIntegerField(default=0)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["email"], name="invitation_email")]

    def __str__(self) -> str:
        return f"{self.email} to {self.team} as {self.get_role_display()}"

    def state(self, now: datetime) -> InvitationState:
        if self.accepted_at is not None:
            return InvitationState.ACCEPTED
        if self.revoked_at is not None:
            return InvitationState.REVOKED
        if self.expires_at <= now:
            return InvitationState.EXPIRED
        return InvitationState.PENDING
