"""How a data-fed key result looks to different people.

Uses the loan tape of test_feeds.py: April 50%, May 25% (30+ days past
due, count basis), baseline March 25%.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from creditokr.creditdata.services import span_problem
from creditokr.creditdata.views import upload_store
from creditokr.okrs.models import CheckIn, Visibility
from tests.creditdata.test_feeds import FIRST_TAPE, deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def fed(frozen, tmp_path, tape_source, fed_key_result, people):
    deliver(tape_source, tmp_path, FIRST_TAPE, people["manager"])
    fed_key_result.objective.visibility = Visibility.ORGANISATION
    fed_key_result.objective.save()
    return fed_key_result


# The fixtures of test_feeds.py, shared by name.
from tests.creditdata.test_feeds import (  # noqa: E402
    fed_key_result,
    frozen,
    tape_source,
)

__all__ = ["fed_key_result", "frozen", "tape_source"]


def page(client, user, key_result) -> str:
    client.force_login(user)
    url = reverse("objective_detail", args=[key_result.objective_id])
    response = client.get(url)
    assert response.status_code == 200
    text: str = response.content.decode()
    return text


def test_the_value_comes_from_the_data_not_an_older_typed_value(client, fed, people):
    # A value typed in before the feed existed, dated after the data.
    CheckIn.objects.create(
        key_result=fed,
        value=Decimal("1"),
        author=people["member"],
        as_of=date(2026, 11, 1),
        source="manual",
    )

    html = page(client, people["member"], fed)

    # May's value from the data is the current one, not the typed 1%.
    row = html.split('id="kr-')[1].split("</tr>")[0]
    assert "as of 31 May 2026" in row
    assert "as of 1 Nov 2026" not in row


def test_provenance_is_shown_to_people_who_see_the_source(client, fed, people):
    html = page(client, people["member"], fed)

    assert "Loan tape" in html
    assert "tape.csv" in html
    assert "2 / 4" in html  # April: 2 of 4 accounts


def test_provenance_hides_the_source_from_people_outside_its_team(client, fed, people):
    html = page(client, people["outsider"], fed)

    assert "from data" in html
    assert "a data source not shared with you" in html
    assert "Loan tape" not in html
    assert "tape.csv" not in html
    assert "2 / 4" not in html


def test_a_kpi_range_is_limited():
    assert span_problem(date(2016, 1, 1), date(2025, 12, 31)) == ""
    assert "at most 10 years" in span_problem(date(2000, 1, 1), date(2026, 1, 1))
    assert "1900" in span_problem(date(1800, 1, 1), date(1801, 1, 1))


def test_the_explorer_refuses_centuries(client, fed, people, tape_source):
    client.force_login(people["viewer"])
    url = reverse("data_kpi", args=[tape_source.pk])

    response = client.get(
        url, {"kpi": "delinquency_rate", "start": "1800-01-01", "end": "2200-12-31"}
    )

    assert response.status_code == 200
    assert "Pick dates between the years 1900 and 2200." in response.content.decode()


def test_an_upload_is_imported_by_one_request_only(tmp_path, tape_source):
    stored = upload_store.store(
        SimpleUploadedFile("tape.csv", FIRST_TAPE.encode()), tape_source
    )

    first = upload_store.claim(stored)
    second = upload_store.claim(stored)

    assert first is not None
    assert second is None
    assert upload_store.find(tape_source, stored.token).importing
    upload_store.release(stored, first)
    assert not upload_store.find(tape_source, stored.token).importing
