"""The change history: a row per change to OKRs, cycles and memberships.

django-auditlog writes the rows (it diffs the saved object against the
stored one); this model adds what the product needs on each row: the reason
given, and the objective and team the change belongs to, so that history is
filtered by the same visibility rules as the objects themselves.
"""

from auditlog.models import AbstractLogEntry
from django.conf import settings
from django.db import models


class ChangeRecord(AbstractLogEntry):  # type: ignore[misc]
    reason = models.TextField(blank=True)
    objective = models.ForeignKey(
        "okrs.Objective",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The objective the change belongs to; empty once it is deleted.",
    )
    team = models.ForeignKey(
        "accounts.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    team_only = models.BooleanField(
        default=False,
        help_text="Seen only by the team (and administrators) once the "
        "objective is gone; while it exists, its own visibility decides.",
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The person a membership or account change is about.",
    )

    class Meta(AbstractLogEntry.Meta):  # type: ignore[misc]
        verbose_name = "change"
        verbose_name_plural = "changes"
        indexes = [
            models.Index(fields=["objective", "-timestamp"]),
            models.Index(fields=["team", "-timestamp"]),
            models.Index(fields=["actor", "-timestamp"]),
        ]
