"""Live updates through Redis, configured from REDIS_URL as in production.

Skipped when nothing answers on 127.0.0.1:6379, except on CI.
"""

import asyncio
import os
from datetime import date
from decimal import Decimal

import pytest
import redis
from channels.layers import get_channel_layer

from creditokr.core.env import REDIS_READ_SECONDS, env_channel_layers
from creditokr.okrs.services import record_check_in
from tests.conftest import TODAY
from tests.live.conftest import COMMITTING, as_person, connected_page

REDIS_URL = "redis://127.0.0.1:6379/14"

pytestmark = COMMITTING


@pytest.fixture
def redis_layer(settings, monkeypatch):
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            pytest.fail("Redis is not reachable on 127.0.0.1:6379 on CI")
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    settings.CHANNEL_LAYERS = env_channel_layers("REDIS_URL")


def test_redis_reads_outlast_channels_redis_waits(monkeypatch):
    monkeypatch.setenv("REDIS_URL", REDIS_URL)

    layer = env_channel_layers("REDIS_URL")["default"]

    assert layer["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert layer["CONFIG"]["hosts"] == [
        {"address": REDIS_URL, "socket_timeout": REDIS_READ_SECONDS}
    ]
    assert REDIS_READ_SECONDS > 5  # channels_redis waits 5 s for a message


@pytest.mark.asyncio
async def test_a_page_quiet_for_longer_than_a_redis_wait_still_hears_changes(
    redis_layer, people, public_key_result
):
    member = people["member"]
    page = await connected_page(people["outsider"])
    await asyncio.sleep(6.5)  # longer than one wait for a message

    await as_person(
        member,
        lambda: record_check_in(
            member,
            public_key_result,
            as_of=date(2026, 11, 14),
            value=Decimal("7.1"),
            today=TODAY,
        ),
    )

    change = await page.receive_json_from(timeout=3)
    assert change["text"] == "Member recorded 7.1% on “30+ delinquency rate”"
    await page.disconnect()
    await get_channel_layer().flush()
