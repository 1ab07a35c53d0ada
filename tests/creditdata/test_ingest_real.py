"""Both public datasets go through the real import path; every figure is
checked against a separate reading of the same file with the csv module."""

import csv
from collections import Counter, defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from creditokr.creditdata.ingest.examples import (
    UCI_MONTHS,
    ibm_receivables_mapping,
    uci_card_mapping,
)
from creditokr.creditdata.ingest.importer import file_sha256, import_file
from creditokr.creditdata.ingest.readers import FileFormat, sniff

DATA = Path("/work/shared/data")
IBM = DATA / "ar_invoices_ibm.csv"
UCI = DATA / "uci_credit_card.csv"

pytestmark = pytest.mark.skipif(
    not (IBM.exists() and UCI.exists()), reason="shared datasets not present"
)


def _us_date(text: str) -> date:
    return datetime.strptime(text, "%m/%d/%Y").date()  # noqa: DTZ007


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_sniff_finds_the_us_dates_of_the_ibm_file():
    sniffed = sniff(IBM, IBM.name)

    assert sniffed.format.delimiter == ","
    assert sniffed.rows == len(_csv_rows(IBM))
    for column in ("InvoiceDate", "DueDate", "SettledDate"):
        assert sniffed.date_formats[column] == ("%m/%d/%Y",)
    assert "InvoiceAmount" not in sniffed.date_formats


def test_ibm_invoices_import_as_receivables(tmp_path):
    rows = _csv_rows(IBM)
    out = tmp_path / "receivables.parquet"

    result = import_file(IBM, FileFormat(), ibm_receivables_mapping(), out)

    assert result.ok, result.errors[:3]
    assert result.rows == len(rows) == 2466
    assert result.sha256 == file_sha256(IBM)
    invoice_dates = [_us_date(r["InvoiceDate"]) for r in rows]
    assert result.min_date == min(invoice_dates)
    assert result.max_date == max(invoice_dates)

    table = pq.read_table(out).to_pylist()
    assert sum(r["amount"] for r in table) == sum(
        Decimal(r["InvoiceAmount"]) for r in rows
    )
    assert sum(r["disputed"] for r in table) == sum(
        r["Disputed"] == "Yes" for r in rows
    )
    assert max(r["settled_date"] for r in table) == max(
        _us_date(r["SettledDate"]) for r in rows
    )
    first = next(r for r in table if r["invoice_id"] == rows[0]["invoiceNumber"])
    assert first["due_date"] == _us_date(rows[0]["DueDate"])


def _dpd(status: str) -> int:
    months = int(status)
    return months * 30 if months >= 1 else 0


def test_uci_cards_unpivot_to_monthly_snapshots(tmp_path):
    rows = _csv_rows(UCI)
    counts: Counter[tuple[date, int]] = Counter()
    balances: defaultdict[date, Decimal] = defaultdict(Decimal)
    for row in rows:
        for as_of, status, balance in UCI_MONTHS:
            counts[as_of, _dpd(row[status])] += 1
            balances[as_of] += Decimal(row[balance])
    out = tmp_path / "cards.parquet"

    result = import_file(UCI, FileFormat(), uci_card_mapping(), out)

    assert result.ok, result.errors[:3]
    assert result.rows == 6 * len(rows) == 180_000
    assert (result.min_date, result.max_date) == (date(2005, 4, 30), date(2005, 9, 30))

    imported: Counter[tuple[date, int]] = Counter()
    sums: defaultdict[date, Decimal] = defaultdict(Decimal)
    per_month: Counter[date] = Counter()
    for r in pq.read_table(out, columns=["as_of", "dpd", "balance"]).to_pylist():
        imported[r["as_of"], r["dpd"]] += 1
        sums[r["as_of"]] += r["balance"]
        per_month[r["as_of"]] += 1
    assert per_month == Counter({as_of: len(rows) for as_of, _, _ in UCI_MONTHS})
    assert imported == counts
    assert sums == balances


def test_uci_dpd_follows_the_months_past_due_rule(tmp_path):
    """Account 1 has statuses 2, 2, -1, -1, -2, -2 from September back to
    April, so 60, 60, 0, 0, 0, 0 days past due."""
    out = tmp_path / "cards.parquet"
    import_file(UCI, FileFormat(), uci_card_mapping(), out)

    account = pq.read_table(out, filters=[("account_id", "=", "1")]).to_pylist()
    by_month = {r["as_of"]: r["dpd"] for r in account}

    assert by_month == {
        date(2005, 9, 30): 60,
        date(2005, 8, 31): 60,
        date(2005, 7, 31): 0,
        date(2005, 6, 30): 0,
        date(2005, 5, 31): 0,
        date(2005, 4, 30): 0,
    }
