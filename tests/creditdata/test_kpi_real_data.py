"""KPIs over the two public datasets, checked against plain-Python sums
computed straight from the CSV files with the `csv` module."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import pytest

from creditokr.creditdata.engine.kpis import get_kpi
from creditokr.creditdata.engine.periods import month_periods
from creditokr.creditdata.engine.sandbox import open_files
from tests.creditdata.conftest import write_parquet

DATA = Path("/work/shared/data")
UCI = DATA / "uci_credit_card.csv"
IBM = DATA / "ar_invoices_ibm.csv"
# PAY_0 is September 2005, PAY_6 April; BILL_AMT1 September, BILL_AMT6 April.
UCI_MONTHS = [
    ("PAY_0", "BILL_AMT1", date(2005, 9, 30)),
    ("PAY_2", "BILL_AMT2", date(2005, 8, 31)),
    ("PAY_3", "BILL_AMT3", date(2005, 7, 31)),
    ("PAY_4", "BILL_AMT4", date(2005, 6, 30)),
    ("PAY_5", "BILL_AMT5", date(2005, 5, 31)),
    ("PAY_6", "BILL_AMT6", date(2005, 4, 30)),
]

pytestmark = pytest.mark.skipif(
    not (UCI.exists() and IBM.exists()), reason="shared datasets not present"
)


def _read(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _us_date(text):
    return datetime.strptime(text, "%m/%d/%Y").date()  # noqa: DTZ007


@pytest.fixture(scope="module")
def uci_rows():
    return _read(UCI)


def test_uci_delinquency_by_count_and_balance(tmp_path, uci_rows):
    snapshots = [
        {
            "account_id": row["ID"],
            "as_of": as_of,
            # a status of k >= 1 months late is k x 30 days past due
            "dpd": max(int(row[pay]), 0) * 30,
            "balance": row[bill],
        }
        for row in uci_rows
        for pay, bill, as_of in UCI_MONTHS
    ]
    path = write_parquet(tmp_path, "account_snapshots", snapshots)
    periods = month_periods(date(2005, 4, 1), date(2005, 9, 30))

    with open_files({"account_snapshots": path}) as tables:
        kpi = get_kpi("delinquency_rate")
        by_count = kpi.series(tables, {"threshold": 60}, periods)
        by_balance = kpi.series(tables, {"basis": "balance"}, periods)

    for point, balance_point in zip(by_count, by_balance, strict=True):
        pay, bill, _ = next(m for m in UCI_MONTHS if m[2] == point.period.end)
        late60 = sum(1 for row in uci_rows if int(row[pay]) >= 2)
        total = sum(float(row[bill]) for row in uci_rows)
        late30 = sum(float(row[bill]) for row in uci_rows if int(row[pay]) >= 1)
        assert point.denominator == 30_000
        assert point.numerator == late60
        assert balance_point.value == pytest.approx(late30 / total * 100)
        assert balance_point.denominator == pytest.approx(total)


def test_ibm_dso_and_ar(tmp_path):
    rows = _read(IBM)
    invoices = [
        {
            "invoice_id": row["invoiceNumber"],
            "customer_id": row["customerID"],
            "invoice_date": _us_date(row["InvoiceDate"]),
            "due_date": _us_date(row["DueDate"]),
            "amount": row["InvoiceAmount"],
            "settled_date": _us_date(row["SettledDate"]),
        }
        for row in rows
    ]
    path = write_parquet(tmp_path, "receivables", invoices)
    periods = month_periods(date(2012, 1, 1), date(2013, 12, 31))

    with open_files({"receivables": path}) as tables:
        points = get_kpi("dso").series(tables, {}, periods)

    for point in points:
        end = point.period.end
        ar = sum(
            float(r["InvoiceAmount"])
            for r in rows
            if _us_date(r["InvoiceDate"]) <= end < _us_date(r["SettledDate"])
        )
        sales = sum(
            float(r["InvoiceAmount"])
            for r in rows
            if point.period.start <= _us_date(r["InvoiceDate"]) <= end
        )
        assert point.detail["ar"] == pytest.approx(ar)
        assert point.value == pytest.approx(ar / sales * point.period.days)
