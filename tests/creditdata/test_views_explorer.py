"""The KPI explorer: a table, a chart and a CSV of one KPI over a source.

The loan tape is the one of test_views_upload, imported through the same
service a delivery uses. By hand, 30+ days past due among open accounts
(A4 is charged off and left out):

- January: A1 0, A2 45, A3 10 -> 1 of 3 = 33.33 %;
  by balance 200 / (100 + 200 + 300) = 33.33 %.
- February: A1 35, A2 0, A3 60 -> 2 of 3 = 66.67 %;
  by balance (100 + 250) / (100 + 150 + 250) = 70.00 %.
"""

import csv
import io
from datetime import date

import pytest
from django.urls import reverse

from creditokr.creditdata import services
from creditokr.creditdata.ingest.mapping import FieldMapping, Mapping
from creditokr.creditdata.ingest.readers import FileFormat
from creditokr.creditdata.models import DataSource
from tests.creditdata.test_views_upload import TAPE

TAPE_COLUMNS = Mapping(
    dataset="account_snapshots",
    fields={
        "account_id": FieldMapping(column="Account"),
        "as_of": FieldMapping(column="AsOf", date_format="%d/%m/%Y"),
        "dpd": FieldMapping(column="DPD"),
        "balance": FieldMapping(column="Balance"),
        "state": FieldMapping(column="State"),
    },
)


def deliver_tape(source, user, tmp_path, text=TAPE):
    path = tmp_path / "tape.csv"
    path.write_text(text, encoding="utf-8")
    fmt = FileFormat(kind="csv", encoding="utf-8", delimiter=";")
    outcome = services.deliver_file(user, source, path, "tape.csv", fmt, TAPE_COLUMNS)
    assert outcome.accepted, outcome.result.errors
    return outcome


@pytest.fixture
def tape(settings, tmp_path, people, teams):
    settings.CREDIT_DATA_DIR = tmp_path / "credit-data"
    source = DataSource.objects.create(
        name="Card tape",
        team=teams["credit_risk"],
        dataset="account_snapshots",
        created_by=people["manager"],
    )
    deliver_tape(source, people["manager"], tmp_path)
    return source


def explore(client, source, **query):
    params = {"kpi": "delinquency_rate", "s-threshold": "30"} | query
    return client.get(reverse("data_kpi", args=[source.pk]), params)


def test_the_explorer_defaults_to_the_data_period(client, people, tape):
    client.force_login(people["viewer"])

    page = client.get(reverse("data_kpi", args=[tape.pk]))

    assert page.status_code == 200
    points = page.context["outcome"].points
    assert [p.period.label for p in points] == ["2026-01", "2026-02"]
    form = page.context["form"]
    assert form.cleaned_data["start"] == date(2026, 1, 31)
    assert form.cleaned_data["end"] == date(2026, 2, 28)


def test_the_table_shows_the_hand_computed_rates(client, people, tape):
    client.force_login(people["viewer"])

    page = explore(client, tape, **{"s-basis": "count"})

    points = page.context["outcome"].points
    assert [round(p.value, 2) for p in points] == [33.33, 66.67]
    assert [(p.numerator, p.denominator) for p in points] == [(1, 3), (2, 3)]
    assert "33.33" in page.text
    assert "66.67" in page.text
    assert "<svg" in page.text
    assert '<title id="chart-title">' in page.text
    conventions = page.context["outcome"].conventions
    assert conventions
    assert all(line in page.text for line in conventions)


def test_the_balance_basis_weights_by_balance(client, people, tape):
    client.force_login(people["viewer"])

    page = explore(client, tape, **{"s-basis": "balance"})

    points = page.context["outcome"].points
    assert [round(p.value, 2) for p in points] == [33.33, 70.0]


def test_the_csv_export_holds_the_same_series(client, people, tape):
    client.force_login(people["viewer"])

    response = explore(client, tape, **{"s-basis": "balance", "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    text = response.content.decode()
    lines = text.splitlines()
    comments = [line for line in lines if line.startswith("#")]
    assert any("Convention:" in line for line in comments)
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[len(comments) :]))))
    assert [r["period"] for r in rows] == ["2026-01", "2026-02"]
    assert [round(float(r["value"]), 2) for r in rows] == [33.33, 70.0]
    assert [float(r["numerator"]) for r in rows] == [200.0, 350.0]
    assert [float(r["denominator"]) for r in rows] == [600.0, 500.0]
    assert [r["period_start"] for r in rows] == ["2026-01-01", "2026-02-01"]
    assert [r["period_end"] for r in rows] == ["2026-01-31", "2026-02-28"]


def test_a_bad_setting_is_shown_next_to_its_field(client, people, tape):
    client.force_login(people["viewer"])

    page = explore(client, tape, **{"s-threshold": "0"})

    assert page.status_code == 200
    assert page.context.get("outcome") is None
    errors = page.context["form"].errors
    assert "s-threshold" in errors
    assert "at least 1" in errors["s-threshold"][0]


def test_an_outsider_cannot_see_the_explorer(client, people, tape):
    client.force_login(people["outsider"])

    assert explore(client, tape).status_code == 404
