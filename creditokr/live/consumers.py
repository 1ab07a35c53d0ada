"""The live connection of an open page, at /live/.

Only signed-in, active people connect (the session cookie is read by
Channels' auth middleware; the Origin header must name one of
ALLOWED_HOSTS). The connection joins the groups of `groups.groups_of` for
the person's roles now, plus their own person group, and forwards every
change sent to those groups.

The page sends {"since": <id>} when it connects, with the id of the last
change it knows of; it is answered with the changes it may read that came
after (see `messages.catch_up`). Anything else it sends is answered with an
error message and changes nothing.
"""

import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from creditokr.accounts.models import User
from creditokr.live.groups import groups_of, person_group
from creditokr.live.messages import catch_up
from creditokr.live.publish import session_fingerprint
from creditokr.okrs.access import MAX_ID, Actor, actor_of

# Close codes a page reads: stop, and do not come back with this session.
SIGNED_OUT = 4001
DEACTIVATED = 4003

SINCE_HELP = (
    'Send {"since": N}, where N is the id of the last change this page saw '
    "(0 for none)."
)


class LiveConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    user_id: int
    actor: Actor
    session: str
    joined: set[str]

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close()  # the handshake is refused (HTTP 403)
            return
        self.user_id = user.pk
        self.session = session_fingerprint(self.scope["session"].session_key)
        self.joined = set()
        if not await self._regroup():
            await self.close()
            return
        await self.channel_layer.group_add(
            person_group(self.user_id), self.channel_name
        )
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "joined"):
            return  # refused before joining anything
        for group in self.joined | {person_group(self.user_id)}:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        try:
            content = json.loads(text_data or "")
        except ValueError:
            content = None
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        since = content.get("since") if isinstance(content, dict) else None
        if type(since) is not int or not 0 <= since <= MAX_ID:
            await self.send_json({"type": "error", "message": SINCE_HELP})
            return
        await self.send_json(await database_sync_to_async(catch_up)(self.actor, since))

    # Messages from the channel layer

    async def live_change(self, event: dict[str, Any]) -> None:
        await self.send_json(event["change"])

    async def live_regroup(self, event: dict[str, Any]) -> None:
        if not await self._regroup():
            await self.close(code=DEACTIVATED)

    async def live_signout(self, event: dict[str, Any]) -> None:
        if event.get("session") == self.session:
            await self.close(code=SIGNED_OUT)

    async def _regroup(self) -> bool:
        """Join the groups of the person's roles now; False if deactivated."""
        actor = await database_sync_to_async(_current_actor)(self.user_id)
        if actor is None:
            return False
        self.actor = actor
        wanted = groups_of(actor)
        for group in self.joined - wanted:
            await self.channel_layer.group_discard(group, self.channel_name)
        for group in wanted - self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self.joined = wanted
        return True


def _current_actor(user_id: int) -> Actor | None:
    person = User.objects.filter(pk=user_id, is_active=True).first()
    return None if person is None else actor_of(person)
