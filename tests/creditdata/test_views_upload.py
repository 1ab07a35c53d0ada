"""Uploading a delivery, mapping its columns and importing it.

The small loan tape below is written by hand; what the import must find
is worked out next to it. The two real datasets go through the mapping
screen as a browser would post it, and their counts are checked against
an independent reading with the csv module.
"""

import csv
import os
from datetime import date
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from creditokr.creditdata.models import DataImport, DataSource
from creditokr.creditdata.views import upload_store

DATA = Path("/work/shared/data")

# Four accounts, two month ends; dates are day first. Rows: 8; data period
# 31 Jan 2026 to 28 Feb 2026.
TAPE = """Account;AsOf;DPD;Balance;State
A1;31/01/2026;0;100.00;open
A2;31/01/2026;45;200.00;open
A3;31/01/2026;10;300.00;open
A4;31/01/2026;95;400.00;charged_off
A1;28/02/2026;35;100.00;open
A2;28/02/2026;0;150.00;open
A3;28/02/2026;60;250.00;open
A4;28/02/2026;120;400.00;charged_off
"""
# Line 3 (A2, January) has a month 13; line 6 (A1, February) a balance
# that is not a number.
BAD_TAPE = TAPE.replace("A2;31/01/2026", "A2;31/13/2026").replace(
    "A1;28/02/2026;35;100.00", "A1;28/02/2026;35;lots"
)

TAPE_MAPPING = {
    "f-account_id-column": "Account",
    "f-as_of-column": "AsOf",
    "f-as_of-date_format": "%d/%m/%Y",
    "f-dpd-column": "DPD",
    "f-dpd-transform": "days",
    "f-balance-column": "Balance",
    "f-balance-decimal_separator": ".",
    "f-state-column": "State",
}


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.CREDIT_DATA_DIR = tmp_path / "credit-data"
    return settings.CREDIT_DATA_DIR


def make_source(people, teams, dataset="account_snapshots", name="Card tape"):
    return DataSource.objects.create(
        name=name,
        team=teams["credit_risk"],
        dataset=dataset,
        created_by=people["manager"],
    )


@pytest.fixture
def tape_source(people, teams, data_dir):
    return make_source(people, teams)


def upload(client, source, name, content):
    response = client.post(
        reverse("data_upload", args=[source.pk]),
        {"file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 302, response.content[:2000]
    return response["Location"]


def import_tape(client, source, text, **extra):
    map_url = upload(client, source, "tape.csv", text.encode())
    data = TAPE_MAPPING | {"fmt-delimiter": ";", "action": "import"} | extra
    return client.post(map_url, data), map_url


def parquet_files(data_dir, source):
    folder = Path(data_dir) / f"source-{source.pk}"
    return sorted(folder.glob("*.parquet")) if folder.is_dir() else []


def test_the_mapping_screen_prefills_columns_whose_names_match(
    client, people, tape_source
):
    client.force_login(people["manager"])

    map_url = upload(client, tape_source, "tape.csv", TAPE.encode())
    page = client.get(map_url)

    assert page.status_code == 200
    text = page.text
    assert '<option value="Balance" selected>' in text
    assert '<option value="State" selected>' in text
    # AsOf is day first without doubt (31 and 28 are no months), so its
    # format is chosen.
    assert '<option value="%d/%m/%Y" selected>' in text


def test_an_accepted_file_becomes_the_current_import(client, people, tape_source):
    client.force_login(people["manager"])

    response, map_url = import_tape(client, tape_source, TAPE)

    assert response.status_code == 302
    assert response["Location"] == reverse("data_source_detail", args=[tape_source.pk])
    current = tape_source.current_import()
    assert current is not None
    assert current.rows == 8
    assert (current.data_start, current.data_end) == (
        date(2026, 1, 31),
        date(2026, 2, 28),
    )
    assert current.file_name == "tape.csv"
    page = client.get(response["Location"])
    assert "Imported 8 rows (data from 31 Jan 2026 to 28 Feb 2026)." in page.text
    assert "No key result is fed by this source yet." in page.text
    # The upload is gone once imported.
    assert client.get(map_url).status_code == 404


def test_a_refused_file_shows_its_problems_and_changes_nothing(
    client, people, tape_source, data_dir
):
    client.force_login(people["manager"])

    response, _ = import_tape(client, tape_source, BAD_TAPE)

    assert response.status_code == 400
    text = response.text
    assert "Nothing was changed" in text
    assert "31/13/2026" in text
    assert "lots" in text
    rows = [(error.line, error.column) for error in response.context["errors"]]
    assert (3, "AsOf") in rows
    assert (6, "Balance") in rows
    assert not DataImport.objects.exists()
    assert parquet_files(data_dir, tape_source) == []


def test_a_refused_delivery_leaves_the_previous_import_current(
    client, people, tape_source, data_dir
):
    client.force_login(people["manager"])
    import_tape(client, tape_source, TAPE)
    first = tape_source.current_import()

    response, _ = import_tape(client, tape_source, BAD_TAPE)

    assert response.status_code == 400
    assert tape_source.current_import() == first
    assert DataImport.objects.count() == 1
    assert parquet_files(data_dir, tape_source) == [first.path]


def test_a_missing_date_format_is_asked_for_before_importing(
    client, people, tape_source
):
    client.force_login(people["manager"])

    response, _ = import_tape(client, tape_source, TAPE, **{"f-as_of-date_format": ""})

    assert response.status_code == 400
    assert "choose the date format of column &#x27;AsOf&#x27;" in response.text
    assert not DataImport.objects.exists()


def test_preview_shows_each_value_as_read(client, people, tape_source):
    client.force_login(people["manager"])
    map_url = upload(client, tape_source, "tape.csv", BAD_TAPE.encode())
    data = TAPE_MAPPING | {"fmt-delimiter": ";", "action": "preview"}

    response = client.post(map_url, data, headers={"HX-Request": "true"})

    assert response.status_code == 200
    preview = response.context["preview"]
    first = preview[0]
    assert first.line == 2
    assert first.cells["as_of"].raw == "31/01/2026"
    assert first.cells["as_of"].parsed.startswith("2026-01-31")
    second = preview[1]
    assert second.cells["as_of"].error
    assert "<html" not in response.text


def test_an_upload_of_another_source_is_not_found(client, people, teams, tape_source):
    other = make_source(people, teams, name="Other tape")
    client.force_login(people["manager"])
    map_url = upload(client, tape_source, "tape.csv", TAPE.encode())
    token = map_url.rstrip("/").split("/")[-2]

    elsewhere = reverse("data_upload_map", args=[other.pk, token])
    unknown = reverse("data_upload_map", args=[tape_source.pk, "0" * 32])

    assert client.get(elsewhere).status_code == 404
    assert client.get(unknown).status_code == 404


def test_uploads_are_stored_under_a_random_name(client, people, tape_source, data_dir):
    client.force_login(people["manager"])

    upload(client, tape_source, "customer secrets.csv", TAPE.encode())

    names = [p.name for p in (Path(data_dir) / "uploads").iterdir()]
    assert not any("secrets" in name for name in names)
    assert len([n for n in names if not n.endswith(".json")]) == 1


def test_uploads_older_than_a_day_are_removed(client, people, tape_source, data_dir):
    client.force_login(people["manager"])
    old_url = upload(client, tape_source, "old.csv", TAPE.encode())
    folder = Path(data_dir) / "uploads"
    for path in folder.iterdir():
        stamp = path.stat().st_mtime - upload_store.KEEP_SECONDS - 60
        os.utime(path, (stamp, stamp))

    upload(client, tape_source, "new.csv", TAPE.encode())

    assert client.get(old_url).status_code == 404
    assert len(list(folder.iterdir())) == 2


def test_a_file_over_the_size_limit_is_refused(
    client, people, tape_source, monkeypatch, data_dir
):
    monkeypatch.setattr(upload_store, "MAX_UPLOAD_BYTES", 100)
    client.force_login(people["manager"])

    response = client.post(
        reverse("data_upload", args=[tape_source.pk]),
        {"file": SimpleUploadedFile("tape.csv", TAPE.encode())},
    )

    assert response.status_code == 400
    assert "files up to 0 MB can be uploaded" in response.text
    assert not (Path(data_dir) / "uploads").exists() or not any(
        (Path(data_dir) / "uploads").iterdir()
    )


def test_viewers_and_members_cannot_upload(client, people, tape_source):
    for persona in ("viewer", "member"):
        client.force_login(people[persona])
        response = client.post(
            reverse("data_upload", args=[tape_source.pk]),
            {"file": SimpleUploadedFile("tape.csv", TAPE.encode())},
        )
        assert response.status_code == 403


# The real datasets


def csv_rows(name):
    with (DATA / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_ibm_receivables_import_through_the_mapping_screen(
    client, people, teams, data_dir
):
    source = make_source(people, teams, dataset="receivables", name="IBM AR")
    rows = csv_rows("ar_invoices_ibm.csv")
    client.force_login(people["manager"])
    map_url = upload(
        client,
        source,
        "ar_invoices_ibm.csv",
        (DATA / "ar_invoices_ibm.csv").read_bytes(),
    )
    us = "%m/%d/%Y"
    data = {
        "fmt-delimiter": ",",
        "f-invoice_id-column": "invoiceNumber",
        "f-customer_id-column": "customerID",
        "f-invoice_date-column": "InvoiceDate",
        "f-invoice_date-date_format": us,
        "f-due_date-column": "DueDate",
        "f-due_date-date_format": us,
        "f-amount-column": "InvoiceAmount",
        "f-settled_date-column": "SettledDate",
        "f-settled_date-date_format": us,
        "f-disputed-column": "Disputed",
        "f-disputed-true_values": "Yes",
        "f-disputed-false_values": "No",
        "action": "import",
    }

    response = client.post(map_url, data)

    assert response.status_code == 302, response.text[:3000]
    current = source.current_import()
    assert current.rows == len(rows) == 2466
    dates = [
        date(int(y), int(m), int(d))
        for row in rows
        for m, d, y in [row["InvoiceDate"].split("/")]
    ]
    settled = [
        date(int(y), int(m), int(d))
        for row in rows
        for m, d, y in [row["SettledDate"].split("/")]
        if row["SettledDate"]
    ]
    assert current.data_start == min(dates)
    assert current.data_end == max(dates + settled)


def test_the_uci_card_tape_imports_with_the_wide_layout(
    client, people, teams, data_dir
):
    source = make_source(people, teams, name="UCI cards")
    rows = csv_rows("uci_credit_card.csv")
    client.force_login(people["manager"])
    map_url = upload(
        client,
        source,
        "uci_credit_card.csv",
        (DATA / "uci_credit_card.csv").read_bytes(),
    )
    months = [
        ("2005-09-30", "PAY_0", "BILL_AMT1"),
        ("2005-08-31", "PAY_2", "BILL_AMT2"),
        ("2005-07-31", "PAY_3", "BILL_AMT3"),
        ("2005-06-30", "PAY_4", "BILL_AMT4"),
        ("2005-05-31", "PAY_5", "BILL_AMT5"),
        ("2005-04-30", "PAY_6", "BILL_AMT6"),
    ]
    data = {
        "fmt-delimiter": ",",
        "f-account_id-column": "ID",
        "f-dpd-transform": "months_past_due",
        "wide": "on",
        "wide_lines": str(len(months) + 1),
        "action": "import",
    }
    for index, (as_of, status, balance) in enumerate(months):
        data |= {
            f"w-{index}-as_of": as_of,
            f"w-{index}-dpd": status,
            f"w-{index}-balance": balance,
        }

    response = client.post(map_url, data)

    assert response.status_code == 302, response.text[:3000]
    current = source.current_import()
    assert current.rows == len(rows) * 6 == 180_000
    assert (current.data_start, current.data_end) == (
        date(2005, 4, 30),
        date(2005, 9, 30),
    )
    source.refresh_from_db()
    saved = source.mapping
    assert [p["as_of"] for p in saved["wide"]] == [m[0] for m in months]
