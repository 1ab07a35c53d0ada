"""Live-update tests: pages connect through the real ASGI application.

Each test gets a fresh in-process channel layer. Connections carry the
session cookie of a real sign-in and an Origin from ALLOWED_HOSTS, as a
browser's would; changes are made the way the app makes them, in a thread
(as a request is), with the person doing them named for the history.
"""

from collections.abc import Callable

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from creditokr.accounts.models import User
from creditokr.activity.recording import acting
from creditokr.asgi import application

# Pages connect while changes are committed, so tests commit for real; the
# database is flushed after each.
COMMITTING = [pytest.mark.django_db(transaction=True)]
ORIGIN = b"http://127.0.0.1"
QUIET_SECONDS = 0.3  # how long "nothing arrives" is waited for


@pytest.fixture(autouse=True)
def _own_channel_layer(settings):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    }


def sign_in(user: User) -> str:
    """A real session for `user`: its cookie value."""
    client = Client()
    client.force_login(user)
    cookie: str = client.cookies[settings.SESSION_COOKIE_NAME].value
    return cookie


async def open_page(
    user: User | None = None,
    *,
    cookie: str | None = None,
    origin: bytes = ORIGIN,
) -> tuple[WebsocketCommunicator, bool]:
    """A connection as a page of `user` (or with `cookie`) makes it."""
    if user is not None:
        cookie = await sync_to_async(sign_in)(user)
    headers = [(b"origin", origin), (b"host", b"127.0.0.1")]
    if cookie is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    page = WebsocketCommunicator(application, "/live/", headers=headers)
    connected, _ = await page.connect()
    return page, connected


async def connected_page(user: User) -> WebsocketCommunicator:
    page, connected = await open_page(user)
    assert connected
    return page


async def as_person[T](person: User, change: Callable[[], T]) -> T:
    """Make a change in a thread, as a request by `person` would."""

    def run() -> T:
        with acting(person):
            return change()

    return await sync_to_async(run)()


async def nothing_arrives(page: WebsocketCommunicator) -> bool:
    quiet: bool = await page.receive_nothing(timeout=QUIET_SECONDS)
    return quiet
