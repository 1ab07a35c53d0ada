"""Signed one-click unsubscribe tokens: one person, one kind, no sign-in."""

from django.core import signing

from creditokr.reminders.models import PREFERENCE_KINDS

SALT = "creditokr.reminders.unsubscribe"


def make_token(user_id: int, kind: str) -> str:
    return signing.dumps({"u": user_id, "k": kind}, salt=SALT)


def read_token(token: str) -> tuple[int, str] | None:
    """(person id, kind) from a token we signed; None if it is not one."""
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict):
        return None

    user_id, kind = payload.get("u"), payload.get("k")
    if not isinstance(user_id, int) or kind not in PREFERENCE_KINDS:
        return None
    return user_id, kind
