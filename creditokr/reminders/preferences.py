"""Reading and changing one person's notification preferences."""

from dataclasses import dataclass

from django.db import transaction

from creditokr.accounts.models import Membership, Role, User
from creditokr.reminders.delivery import DEFAULT, Wanted, preferences_of
from creditokr.reminders.digest import SENIOR_TEAM
from creditokr.reminders.models import PREFERENCE_KINDS, Kind, Preference


@dataclass(frozen=True)
class Choice:
    kind: Kind
    wanted: Wanted


def is_digest_reader(user: User) -> bool:
    """Viewers of Senior Management get the digest unless they opt out."""
    return Membership.objects.filter(
        user=user, role=Role.VIEWER, team__name__iexact=SENIOR_TEAM
    ).exists()


def choices_of(user: User) -> list[Choice]:
    """Every kind with what this person gets now, defaults included."""
    stated = preferences_of([user.pk])
    digest_default = Wanted(enabled=is_digest_reader(user))
    found = []
    for kind in PREFERENCE_KINDS:
        default = digest_default if kind == Kind.DIGEST else DEFAULT
        found.append(Choice(kind, stated.get((user.pk, kind), default)))
    return found


def set_choice(user: User, kind: str, wanted: Wanted) -> None:
    with transaction.atomic():
        Preference.objects.update_or_create(
            user=user,
            kind=kind,
            defaults={
                "enabled": wanted.enabled,
                "email": wanted.email,
                "chat": wanted.chat,
            },
        )


def unsubscribe(user: User, kind: str) -> None:
    """Turn one kind off, keeping the channels chosen for it."""
    current = preferences_of([user.pk]).get((user.pk, kind), DEFAULT)
    set_choice(user, kind, Wanted(False, current.email, current.chat))
