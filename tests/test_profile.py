from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from creditokr.okrs.services import record_check_in

pytestmark = pytest.mark.django_db


def test_it_saves_a_personal_time_zone(client, people):
    member = people["member"]
    client.force_login(member)

    response = client.post(
        reverse("profile"),
        {
            "first_name": "Mia",
            "last_name": "Berg",
            "email": "mia@example.test",
            "time_zone": "Asia/Singapore",
        },
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.time_zone == "Asia/Singapore"
    assert member.first_name == "Mia"


def test_it_refuses_an_unknown_time_zone_and_changes_nothing(client, people):
    member = people["member"]
    client.force_login(member)

    response = client.post(
        reverse("profile"),
        {"first_name": "X", "last_name": "", "email": "", "time_zone": "Mars/Olympus"},
    )

    assert response.status_code == 400
    assert "Mars/Olympus is not one of the available choices" in response.text
    member.refresh_from_db()
    assert member.time_zone == ""
    assert member.first_name == "Member"


def test_an_empty_time_zone_means_the_organisations(client, people, public_key_result):
    """Europe/London is on GMT in November: 15:00 UTC shows as 15:00."""
    member = people["member"]
    with time_machine.travel(datetime(2026, 11, 15, 15, 0, tzinfo=UTC), tick=False):
        record_check_in(
            member,
            public_key_result,
            as_of=date(2026, 11, 15),
            value=public_key_result.start_value,
        )
    client.force_login(member)

    page = client.get(
        reverse("objective_detail", args=[public_key_result.objective_id])
    )

    assert "15:00" in page.text
