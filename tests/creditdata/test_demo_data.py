"""The demo workspace's key results fed by its real credit data.

Expected values are worked out here from the shipped CSV files with the
csv module, independently of the import path and the KPI engine.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from creditokr.creditdata.demo import (
    CARDS_FILE,
    INVOICES_FILE,
    invoice_shift,
    month_ends_before,
    write_moved_invoices,
)
from creditokr.creditdata.models import DataImport, FeedReading, KeyResultFeed
from creditokr.okrs.models import CheckIn, KeyResult

pytestmark = pytest.mark.django_db

DECEMBER = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
# Newest month first, as the file's columns run.
STATUS_COLUMNS = ("PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6")


@pytest.fixture
def demo():
    with time_machine.travel(DECEMBER, tick=False):
        call_command("demo_workspace", stdout=StringIO())
        yield


def two_places(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def card_rates_by_hand() -> dict[date, Decimal]:
    """30+ days past due, count basis: a monthly status of 1 or more (one
    month late is 30 days) over all 3,000 open accounts."""
    with CARDS_FILE.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    months = month_ends_before(date(2026, 12, 4), 6)
    return {
        month: two_places(
            Decimal(sum(int(row[column]) >= 1 for row in rows) * 100) / len(rows)
        )
        for month, column in zip(months, STATUS_COLUMNS, strict=True)
    }


def test_month_ends_and_the_invoice_shift_by_hand():
    assert month_ends_before(date(2026, 12, 4), 3) == [
        date(2026, 11, 30),
        date(2026, 10, 31),
        date(2026, 9, 30),
    ]
    # 31 Dec 2013 to 30 Nov 2026 is 4,717 days: 673 whole weeks (4,711
    # days), which keeps every weekday.
    shift = invoice_shift(date(2026, 12, 4), date(2013, 12, 31))
    assert shift.days == 4711
    assert (date(2013, 12, 31) + shift).weekday() == date(2013, 12, 31).weekday()


@pytest.mark.usefixtures("demo")
def test_the_delinquency_key_result_is_fed_by_the_card_data():
    expected = card_rates_by_hand()
    key_result = KeyResult.objects.get(template_key="delinquency-rate")

    values = dict(
        CheckIn.objects.filter(key_result=key_result, source="data").values_list(
            "as_of", "value"
        )
    )
    assert values == expected
    # No data before the cycle start (1 April 2026), so the baseline is the
    # first month of data, June, and the target is 15% below it.
    june = expected[date(2026, 6, 30)]
    assert key_result.start_value == june
    assert key_result.target_value == june * Decimal("0.85")
    baseline = FeedReading.objects.get(key_result=key_result, is_baseline=True)
    assert "no data before the cycle start" in baseline.detail["baseline_from"]


def quarterly_dso_by_hand(rows: list[dict[str, str]], months: list[date]) -> Decimal:
    """(AR at each of the three month ends x 30) / credit sales of the
    quarter; an invoice is open from its invoice date until it settles."""

    def day(text: str) -> date | None:
        if not text:
            return None
        month, day_, year = (int(part) for part in text.split("/"))
        return date(year, month, day_)

    def open_at(row: dict[str, str], when: date) -> bool:
        invoiced, settled = day(row["InvoiceDate"]), day(row["SettledDate"])
        assert invoiced is not None
        return invoiced <= when and (settled is None or settled > when)

    first = months[0].replace(day=1)
    ar: Decimal = sum(
        (
            Decimal(row["InvoiceAmount"])
            for when in months
            for row in rows
            if open_at(row, when)
        ),
        Decimal(0),
    )
    sales: Decimal = sum(
        (
            Decimal(row["InvoiceAmount"])
            for row in rows
            if first <= (day(row["InvoiceDate"]) or first) <= months[-1]
        ),
        Decimal(0),
    )
    return two_places(ar * 30 / sales)


@pytest.mark.usefixtures("demo")
def test_the_dso_key_result_is_fed_by_the_invoices_with_provenance(tmp_path):
    moved = tmp_path / "moved.csv"
    write_moved_invoices(moved, date(2026, 12, 4))
    with moved.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    key_result = KeyResult.objects.get(title__startswith="Keep days sales")
    feed = KeyResultFeed.objects.get(key_result=key_result)
    readings = {
        r.period_label: r.check_in
        for r in FeedReading.objects.filter(
            key_result=key_result, check_in__isnull=False
        ).select_related("check_in")
        if r.check_in is not None
    }

    # Fiscal quarters that ended by today: Q1 and Q2 of FY2027. Q3 runs to
    # 31 December and is not reported while the data does not cover it.
    assert sorted(readings) == ["Q1 FY2027", "Q2 FY2027"]
    q1 = [date(2026, 4, 30), date(2026, 5, 31), date(2026, 6, 30)]
    q2 = [date(2026, 7, 31), date(2026, 8, 31), date(2026, 9, 30)]
    assert readings["Q1 FY2027"].value == quarterly_dso_by_hand(rows, q1)
    assert readings["Q2 FY2027"].value == quarterly_dso_by_hand(rows, q2)
    current = DataImport.objects.get(source=feed.source, is_current=True)
    assert current.rows == 2466
    for check_in in readings.values():
        reading = check_in.reading
        assert reading.data_import == current
        assert reading.source_name == "Receivables ledger (IBM sample)"
        assert reading.kpi == "dso"
        assert reading.settings["method"] == "quarterly"
        assert check_in.as_of == reading.period_end


@pytest.mark.usefixtures("demo")
def test_the_demo_ships_attributed_copies():
    with INVOICES_FILE.open(newline="", encoding="utf-8") as handle:
        assert sum(1 for _ in csv.DictReader(handle)) == 2466
    cards = KeyResultFeed.objects.get(kpi="delinquency_rate").source
    assert "CC BY 4.0" in cards.attribution
    assert "UCI" in cards.attribution
