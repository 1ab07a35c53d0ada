"""One-time tokens that make a create form save once, however often it is sent.

Every create form carries a random token. The first save records it with a
unique constraint in the same transaction as the object it creates, so a
double click, a resend or two requests racing each other make one object:
the later ones find the token taken and are sent to what the first made.
Tokens are forgotten after a day.
"""

import re
import secrets
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, models, transaction
from django.utils import timezone

TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}", re.ASCII)
KEPT_FOR = timedelta(days=1)


class SubmissionKind(models.TextChoices):
    OBJECTIVE = "objective", "Objective"
    KEY_RESULT = "key_result", "Key result"
    CHECK_IN = "check_in", "Check-in"
    INITIATIVE = "initiative", "Initiative"


class SubmissionToken(models.Model):
    """A create form that has been saved, and what it made."""

    token = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=12, choices=SubmissionKind.choices)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        app_label = "okrs"

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} ({self.token[:8]}…)"


class AlreadySaved(Exception):
    """This form was saved before; `earlier` says what it made."""

    def __init__(self, earlier: SubmissionToken) -> None:
        self.earlier = earlier
        super().__init__("That was already saved.")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def recorded(token: str) -> SubmissionToken | None:
    """The save made with `token` in the last day, if there was one."""
    if not token:
        return None
    cutoff = timezone.now() - KEPT_FOR
    return SubmissionToken.objects.filter(token=token, created_at__gte=cutoff).first()


def create_once[M: models.Model](
    token: str, kind: SubmissionKind, create: Callable[[], M]
) -> M:
    """Run `create` unless `token` was used; raise AlreadySaved if it was.

    The token is claimed before `create` runs and inside the same
    transaction, so if `create` fails the token stays free for a retry, and
    of two requests with the same token only one gets past the claim.
    """
    if not token:
        return create()

    _forget_old_tokens()
    try:
        with transaction.atomic():
            claim = SubmissionToken.objects.create(token=token, kind=kind)
            created = create()
            claim.object_id = created.pk
            claim.save(update_fields=["object_id"])
    except IntegrityError:
        earlier = recorded(token)
        if earlier is None:
            raise
        raise AlreadySaved(earlier) from None
    return created


def _forget_old_tokens() -> None:
    cutoff = timezone.now() - KEPT_FOR
    SubmissionToken.objects.filter(created_at__lt=cutoff).delete()
