"""Publishing never gets in the way of the change it announces."""

import logging
import socket
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from creditokr.activity.models import ChangeRecord
from creditokr.live.publish import SEND_SECONDS
from creditokr.okrs.models import CheckIn
from tests.reminders.servers import free_port


@pytest.fixture(params=["refused", "silent"])
def unreachable_layer(request, settings):
    """A Redis channel layer where nothing listens, or where a server takes
    the connection and never answers."""
    with socket.socket() as silent:
        if request.param == "silent":
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)
            port = silent.getsockname()[1]
        else:
            port = free_port()
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [f"redis://127.0.0.1:{port}/0"]},
            }
        }
        yield


def test_a_check_in_is_saved_when_the_channel_layer_is_down(
    client,
    people,
    public_key_result,
    unreachable_layer,
    caplog,
    django_capture_on_commit_callbacks,
):
    client.force_login(people["member"])
    url = reverse("check_in_create", args=[public_key_result.pk])
    data = {"value": "7.4", "confidence": "", "note": "", "as_of": "2026-11-15"}
    started = time.monotonic()

    with (
        time_machine.travel(datetime(2026, 11, 15, 12, tzinfo=UTC)),
        caplog.at_level(logging.WARNING, logger="creditokr.live.publish"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(url, data)

    took = time.monotonic() - started
    assert response.status_code == 302
    assert CheckIn.objects.get().value == Decimal("7.4")
    record = ChangeRecord.objects.get(content_type__model="checkin")
    assert [r.getMessage() for r in caplog.records] == [
        f"live update for change {record.pk} not sent"
    ]
    assert took < SEND_SECONDS + 2
