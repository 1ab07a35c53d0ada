"""Linking a key result to a KPI, refreshing it and stopping it.

The tape has September and October 2026 month ends around FY2027 Q3
(1 Oct - 31 Dec 2026). 30+ days past due among open accounts, by hand:
September 1 of 3 (A2) = 33.33 % (kept to two places), the baseline (the
last period before the cycle); October 2 of 3 (A1, A3) = 66.67 %, one data
check-in.
"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from creditokr.creditdata.models import DataSource, FeedReading, KeyResultFeed
from creditokr.okrs.models import CheckIn
from tests.conftest import make_key_result
from tests.creditdata.test_views_explorer import deliver_tape
from tests.creditdata.test_views_upload import TAPE

AUTUMN_TAPE = TAPE.replace("/01/2026", "/09/2026").replace("31/09", "30/09")
AUTUMN_TAPE = AUTUMN_TAPE.replace("28/02/2026", "31/10/2026")
NOW = datetime(2026, 11, 16, 12, tzinfo=UTC)


@pytest.fixture
def tape(settings, tmp_path, people, teams, organisation):
    settings.CREDIT_DATA_DIR = tmp_path / "credit-data"
    source = DataSource.objects.create(
        name="Card tape",
        team=teams["credit_risk"],
        dataset="account_snapshots",
        created_by=people["manager"],
    )
    with time_machine.travel(NOW, tick=False):
        deliver_tape(source, people["manager"], tmp_path, AUTUMN_TAPE)
    return source


FEED = {
    "kpi": "delinquency_rate",
    "s-threshold": "30",
    "s-basis": "count",
    "s-denominator": "open_only",
    "grain": "month",
    "segments": "",
    "products": "",
    "baseline_from_data": "on",
    "action": "save",
}


def data_check_ins(key_result):
    return CheckIn.objects.filter(key_result=key_result, source="data")


def test_saving_a_feed_writes_the_data_check_ins(
    client, people, tape, public_key_result
):
    client.force_login(people["member"])
    url = reverse("data_feed", args=[public_key_result.pk])

    with time_machine.travel(NOW, tick=False):
        response = client.post(url, FEED | {"source": tape.pk})

    assert response.status_code == 302
    objective_url = reverse("objective_detail", args=[public_key_result.objective_id])
    assert response["Location"] == f"{objective_url}#kr-{public_key_result.pk}"
    feed = KeyResultFeed.objects.get(key_result=public_key_result)
    assert (feed.source, feed.kpi, feed.created_by) == (
        tape,
        "delinquency_rate",
        people["member"],
    )
    assert feed.settings["threshold"] == 30
    [check_in] = data_check_ins(public_key_result)
    assert check_in.value == Decimal("66.67")
    assert check_in.as_of.isoformat() == "2026-10-31"
    public_key_result.refresh_from_db()
    assert public_key_result.start_value == Decimal("33.33")
    assert FeedReading.objects.filter(key_result=public_key_result).count() == 2
    page = client.get(response["Location"])
    assert "1 new check-in" in page.text


def test_a_second_refresh_writes_nothing_new(client, people, tape, public_key_result):
    client.force_login(people["member"])
    with time_machine.travel(NOW, tick=False):
        client.post(
            reverse("data_feed", args=[public_key_result.pk]),
            FEED | {"source": tape.pk},
        )

        response = client.post(
            reverse("data_feed_refresh", args=[public_key_result.pk])
        )

    assert response.status_code == 302
    assert data_check_ins(public_key_result).count() == 1
    page = client.get(response["Location"])
    assert "0 new check-ins, 1 unchanged" in page.text


def test_stopping_a_feed_keeps_its_check_ins(client, people, tape, public_key_result):
    client.force_login(people["member"])
    with time_machine.travel(NOW, tick=False):
        client.post(
            reverse("data_feed", args=[public_key_result.pk]),
            FEED | {"source": tape.pk},
        )

        response = client.post(reverse("data_feed_stop", args=[public_key_result.pk]))

    assert response.status_code == 302
    assert not KeyResultFeed.objects.exists()
    assert data_check_ins(public_key_result).count() == 1


def test_a_kpi_of_another_dataset_is_refused(client, people, tape, public_key_result):
    client.force_login(people["member"])

    with time_machine.travel(NOW, tick=False):
        response = client.post(
            reverse("data_feed", args=[public_key_result.pk]),
            FEED | {"source": tape.pk, "kpi": "dso"},
        )

    assert response.status_code == 400
    assert "is computed from receivables" in response.text
    assert not KeyResultFeed.objects.exists()


def test_a_bad_setting_is_shown_and_nothing_is_saved(
    client, people, tape, public_key_result
):
    client.force_login(people["member"])

    with time_machine.travel(NOW, tick=False):
        response = client.post(
            reverse("data_feed", args=[public_key_result.pk]),
            FEED | {"source": tape.pk, "s-threshold": "0"},
        )

    assert response.status_code == 400
    assert "must be at least 1" in response.text
    assert not KeyResultFeed.objects.exists()


def test_a_milestone_cannot_be_fed(client, people, tape, public_objective):
    milestone = make_key_result(
        public_objective,
        people["member"],
        title="Launch the new scorecard",
        kind="milestone",
        unit="count",
        start_value=None,
        target_value=None,
    )
    client.force_login(people["member"])

    response = client.post(
        reverse("data_feed", args=[milestone.pk]), FEED | {"source": tape.pk}
    )

    assert response.status_code == 400
    assert not KeyResultFeed.objects.exists()


def test_a_source_the_person_cannot_see_is_not_offered(
    client, people, teams, tape, public_key_result
):
    hidden = DataSource.objects.create(
        name="Sales ledger",
        team=teams["sales"],
        dataset="account_snapshots",
        created_by=people["outsider"],
    )
    client.force_login(people["member"])

    page = client.get(reverse("data_feed", args=[public_key_result.pk]))
    refused = client.post(
        reverse("data_feed", args=[public_key_result.pk]),
        FEED | {"source": hidden.pk},
    )

    assert "Sales ledger" not in page.text
    assert refused.status_code == 400
    assert not KeyResultFeed.objects.exists()
