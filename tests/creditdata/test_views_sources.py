"""The list of sources, one source, and adding or changing a source."""

import socket
import sqlite3
from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from creditokr.creditdata import credentials
from creditokr.creditdata.models import DataSource, SourceKind
from tests.creditdata.test_views_explorer import deliver_tape

SECRET = "s3cret-Pa55word"


def source_of(team, people, **fields):
    fields.setdefault("name", "Card tape")
    fields.setdefault("dataset", "account_snapshots")
    return DataSource.objects.create(team=team, created_by=people["manager"], **fields)


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.CREDIT_DATA_DIR = tmp_path / "credit-data"
    return settings.CREDIT_DATA_DIR


@pytest.fixture
def ledger(tmp_path):
    """A SQLite database with a receivables table."""
    path = tmp_path / "ledger.db"
    with sqlite3.connect(path) as con:
        con.execute(
            "CREATE TABLE invoices (invoice_id TEXT, customer_id TEXT, "
            "invoice_date TEXT, due_date TEXT, amount REAL)"
        )
        con.execute(
            "INSERT INTO invoices VALUES ('I1', 'C1', '2026-01-05', "
            "'2026-02-04', 120.5)"
        )
    return path


def new_source(**fields):
    return {
        "name": "AR ledger",
        "dataset": "receivables",
        "description": "",
        "attribution": "",
        "expected_every_days": "31",
        "refresh_every_hours": "24",
        "sql_table": "",
        "sql_query": "",
        "sql_url": "",
    } | fields


def test_the_list_shows_only_the_sources_of_ones_teams(client, people, teams):
    source_of(teams["credit_risk"], people, name="Card tape")
    source_of(teams["sales"], people, name="Sales ledger")

    client.force_login(people["viewer"])
    page = client.get(reverse("data_sources"))

    assert "Card tape" in page.text
    assert "Sales ledger" not in page.text
    assert "Add a source" not in page.text


def test_a_source_with_late_data_is_flagged_stale(
    client, people, teams, data_dir, tmp_path
):
    source = source_of(teams["credit_risk"], people, expected_every_days=30)
    with time_machine.travel(datetime(2026, 3, 1, 12, tzinfo=UTC), tick=False):
        deliver_tape(source, people["manager"], tmp_path)
    client.force_login(people["viewer"])

    with time_machine.travel(datetime(2026, 4, 15, 12, tzinfo=UTC), tick=False):
        listing = client.get(reverse("data_sources"))
        detail = client.get(reverse("data_source_detail", args=[source.pk]))

    note = "No new data since 1 Mar 2026; expected every 30 days."
    assert note in listing.text
    assert note in detail.text
    assert "8</td>" in listing.text  # rows of the current import
    assert "31 Jan 2026 \N{EN DASH} 28 Feb 2026" in detail.text


def test_the_detail_page_shows_the_mapping_and_links_for_managers(
    client, people, teams, data_dir, tmp_path
):
    source = source_of(teams["credit_risk"], people)
    deliver_tape(source, people["manager"], tmp_path)

    client.force_login(people["manager"])
    managed = client.get(reverse("data_source_detail", args=[source.pk]))
    client.force_login(people["viewer"])
    viewed = client.get(reverse("data_source_detail", args=[source.pk]))

    assert "column AsOf" in managed.text
    assert "dates as DD/MM/YYYY" in managed.text
    assert reverse("data_upload", args=[source.pk]) in managed.text
    assert reverse("data_upload", args=[source.pk]) not in viewed.text
    assert reverse("data_kpi", args=[source.pk]) in viewed.text


def test_an_outsider_gets_404_for_another_teams_source(client, people, teams):
    source = source_of(teams["credit_risk"], people)
    client.force_login(people["outsider"])

    for name in ("data_source_detail", "data_source_edit", "data_upload"):
        assert client.get(reverse(name, args=[source.pk])).status_code == 404


def test_a_manager_adds_a_file_source(client, people, teams):
    client.force_login(people["manager"])

    response = client.post(
        reverse("data_source_create"),
        new_source(team=teams["credit_risk"].pk, kind=SourceKind.FILE),
    )

    assert response.status_code == 302
    source = DataSource.objects.get(name="AR ledger")
    assert (source.created_by, source.kind) == (people["manager"], "file")


def test_a_manager_cannot_add_a_source_for_another_team(client, people, teams):
    client.force_login(people["manager"])

    response = client.post(
        reverse("data_source_create"),
        new_source(team=teams["sales"].pk, kind=SourceKind.FILE),
    )

    assert response.status_code == 400
    assert not DataSource.objects.exists()


def test_a_sql_source_is_saved_once_its_connection_works(client, people, teams, ledger):
    client.force_login(people["manager"])

    response = client.post(
        reverse("data_source_create"),
        new_source(
            team=teams["credit_risk"].pk,
            kind=SourceKind.SQL,
            sql_url=f"sqlite:///{ledger}",
            sql_table="invoices",
        ),
    )

    assert response.status_code == 302
    source = DataSource.objects.get(name="AR ledger")
    assert credentials.decrypt(source.sql_url_encrypted) == f"sqlite:///{ledger}"
    edit = client.get(reverse("data_source_edit", args=[source.pk]))
    assert str(ledger) not in edit.text


def test_an_env_url_is_stored_as_the_variable_name(
    client, people, teams, ledger, monkeypatch
):
    monkeypatch.setenv("CREDITOKR_SOURCE_LEDGER_URL", f"sqlite:///{ledger}")
    client.force_login(people["manager"])

    client.post(
        reverse("data_source_create"),
        new_source(
            team=teams["credit_risk"].pk,
            kind=SourceKind.SQL,
            sql_url="env:CREDITOKR_SOURCE_LEDGER_URL",
            sql_query="SELECT * FROM invoices",
        ),
    )

    source = DataSource.objects.get(name="AR ledger")
    assert (source.sql_url_env, source.sql_url_encrypted) == (
        "CREDITOKR_SOURCE_LEDGER_URL",
        "",
    )


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_failed_connection_is_explained_without_the_password(client, people, teams):
    url = f"postgresql://credit:{SECRET}@127.0.0.1:{free_port()}/ledger"
    client.force_login(people["manager"])

    response = client.post(
        reverse("data_source_create"),
        new_source(
            team=teams["credit_risk"].pk,
            kind=SourceKind.SQL,
            sql_url=url,
            sql_table="invoices",
        ),
    )

    assert response.status_code == 400
    assert "The connection did not work" in response.text
    assert SECRET not in response.text
    assert not DataSource.objects.exists()


def test_a_sql_source_needs_a_table_or_a_query_not_both(client, people, teams, ledger):
    client.force_login(people["manager"])

    response = client.post(
        reverse("data_source_create"),
        new_source(
            team=teams["credit_risk"].pk,
            kind=SourceKind.SQL,
            sql_url=f"sqlite:///{ledger}",
            sql_table="invoices",
            sql_query="SELECT * FROM invoices",
        ),
    )

    assert response.status_code == 400
    assert "either a table or a query" in response.text


def test_viewers_and_members_cannot_add_sources(client, people):
    for persona in ("viewer", "member"):
        client.force_login(people[persona])
        assert client.get(reverse("data_source_create")).status_code == 403
