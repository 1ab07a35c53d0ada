"""Helpers for the change-history tests.

The clock stands at noon UTC on 15 Nov 2026 (London is on GMT then), so a
change made "now" is stamped 15 Nov 2026, 12:00 in London and 20:00 in
Singapore.
"""

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.db import models

from creditokr.activity.models import ChangeRecord

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def rows_for(item: models.Model, **filters: Any) -> list[ChangeRecord]:
    """The history of one object, oldest first."""
    return list(
        ChangeRecord.objects.filter(
            content_type=ContentType.objects.get_for_model(item),
            object_id=item.pk,
            **filters,
        ).order_by("pk")
    )


def last_row(item: models.Model) -> ChangeRecord:
    found = rows_for(item)
    assert found, f"no change recorded for {item!r}"
    return found[-1]
