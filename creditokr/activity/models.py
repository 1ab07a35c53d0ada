"""The change history: a row per change to OKRs, cycles and memberships.

django-auditlog writes the rows (it diffs the saved object against the
stored one); this model adds what the product needs on each row: the reason
given, and the objective, key result and team the change belongs to, so
that history is filtered by the same visibility rules as the objects
themselves and an objective's history can be narrowed to one key result.

How a row gets its actor, reason and place is `recording`'s business; the
manager here only hands each new row to it.
"""

from typing import Any

from auditlog.models import AbstractLogEntry, LogEntryManager
from django.conf import settings
from django.db import models


class ChangeRecordManager(LogEntryManager):  # type: ignore[misc]
    def log_create(
        self, instance: models.Model, force_log: bool = False, **kwargs: Any
    ) -> "ChangeRecord | None":
        """Write a row for a change to `instance`, or none if nothing changed.

        django-auditlog calls this for every save of a registered model;
        `recording.prepare` tidies the changes, and fills in who, why and
        where, before the row is written.
        """
        from creditokr.activity.recording import prepare

        fields = prepare(instance, force_log=force_log, **kwargs)
        if fields is None:
            return None
        entry: ChangeRecord | None = super().log_create(
            instance, force_log=force_log, **fields
        )
        return entry


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
    key_result = models.ForeignKey(
        "okrs.KeyResult",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The key result a change to it or one of its check-ins "
        "belongs to; empty once it is deleted.",
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

    objects = ChangeRecordManager()

    class Meta(AbstractLogEntry.Meta):  # type: ignore[misc]
        verbose_name = "change"
        verbose_name_plural = "changes"
        indexes = [
            models.Index(fields=["objective", "-timestamp"]),
            models.Index(fields=["team", "-timestamp"]),
            models.Index(fields=["actor", "-timestamp"]),
            models.Index(fields=["key_result", "-timestamp"]),
        ]
