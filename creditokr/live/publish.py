"""Live updates out: each recorded change, sent to the groups that may see it.

`creditokr.activity.recording.change_recorded` fires once the change is
committed; the change is then sent to each group of
`creditokr.live.groups.audience`. A membership or account change also tells
that person's open pages to work out their groups again, and signing out
tells the pages of that session to disconnect.

The change is already saved when it is published, so a channel layer that
cannot be reached (Redis down or slow) is logged and the request goes on;
open pages catch up when they reconnect.
"""

import asyncio
import hashlib
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.signals import user_logged_out
from django.http import HttpRequest

from creditokr.activity.models import ChangeRecord
from creditokr.activity.recording import change_recorded
from creditokr.live.groups import audience, person_group
from creditokr.live.messages import change_messages

logger = logging.getLogger(__name__)

# How long a request may wait for the channel layer before giving up.
SEND_SECONDS = 2.0

# A change to one of these is about a person (its `subject`), whose open
# pages then work out their groups again.
_REGROUP_MODELS = {"membership", "user"}


def connect_receivers() -> None:
    change_recorded.connect(
        _on_change_recorded, sender=ChangeRecord, dispatch_uid="creditokr-live"
    )
    user_logged_out.connect(_on_signed_out, dispatch_uid="creditokr-live-signout")


def publish(record: ChangeRecord) -> None:
    """Send a change to everyone who may see it; log a failure, never raise."""
    messages: list[tuple[str, dict[str, Any]]] = []
    try:
        if record.content_type.model in _REGROUP_MODELS and record.subject_id:
            messages.append((person_group(record.subject_id), {"type": "live.regroup"}))
        change = change_messages([record])[0]
        event = {"type": "live.change", "change": change}
        messages += [(group, event) for group in audience(record)]
        _send(messages)
    except Exception:
        logger.warning("live update for change %s not sent", record.pk, exc_info=True)


def session_fingerprint(session_key: str | None) -> str:
    """A session's key as it may travel through the channel layer."""
    return hashlib.sha256((session_key or "").encode()).hexdigest()


def _on_change_recorded(sender: type, record: ChangeRecord, **_: Any) -> None:
    publish(record)


def _on_signed_out(
    sender: type, request: HttpRequest, user: Any = None, **_: Any
) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if user is None or session_key is None:
        return
    event = {"type": "live.signout", "session": session_fingerprint(session_key)}
    try:
        _send([(person_group(user.pk), event)])
    except Exception:
        logger.warning("sign-out of user %s not sent live", user.pk, exc_info=True)


def _send(messages: list[tuple[str, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None or not messages:
        return

    async def send_all() -> None:
        async with asyncio.timeout(SEND_SECONDS):
            for group, message in messages:
                await layer.group_send(group, message)

    async_to_sync(send_all)()
