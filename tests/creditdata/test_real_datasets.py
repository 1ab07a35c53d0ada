"""Both public datasets through the product's own path, end to end.

Each file is imported with `creditokr import-data` and a mapping file, as an
administrator would; the KPI series the app then computes from the stored
data are compared with sums worked out here from the CSV with the csv
module. The mapping screen takes the same files in
test_views_upload.py.
"""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from creditokr.creditdata import services
from creditokr.creditdata.ingest.examples import (
    UCI_MONTHS,
    ibm_receivables_mapping,
    uci_card_mapping,
)
from creditokr.creditdata.models import DataImport, DataSource

pytestmark = pytest.mark.django_db

DATA = Path("/work/shared/data")
UCI = DATA / "uci_credit_card.csv"
IBM = DATA / "ar_invoices_ibm.csv"


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def us_date(text: str) -> date:
    return datetime.strptime(text, "%m/%d/%Y").date()  # noqa: DTZ007


def import_data(tmp_path: Path, data: Path, name: str, dataset: str, mapping) -> str:
    mapping_file = tmp_path / f"{dataset}.json"
    mapping_file.write_text(json.dumps(mapping.to_dict()), encoding="utf-8")
    out = StringIO()
    call_command(
        "import-data",
        str(data),
        "--source",
        name,
        "--create",
        "--dataset",
        dataset,
        "--team",
        "Credit Risk",
        "--mapping",
        str(mapping_file),
        "--user",
        "admin",
        stdout=out,
    )
    return out.getvalue()


@pytest.fixture
def cards(tmp_path, people, organisation) -> DataSource:
    output = import_data(
        tmp_path, UCI, "Cards", "account_snapshots", uci_card_mapping()
    )
    assert "Imported 180000 rows into Cards" in output
    return DataSource.objects.get(name="Cards")


@pytest.fixture
def invoices(tmp_path, people, organisation) -> DataSource:
    output = import_data(
        tmp_path, IBM, "Invoices", "receivables", ibm_receivables_mapping()
    )
    assert "Imported 2466 rows into Invoices" in output
    return DataSource.objects.get(name="Invoices")


def series(source, kpi, settings, grain, first, last):
    points, _ = services.compute_series(source, kpi, settings, grain, first, last)
    return {point.period.end: point for point in points}


# The card portfolio: monthly delinquency, roll and cure rates.


def statuses_by_month() -> dict[date, list[int]]:
    rows = read(UCI)
    return {
        as_of: [int(row[status]) for row in rows] for as_of, status, _ in UCI_MONTHS
    }


def test_card_portfolio_monthly_series(cards):
    by_month = statuses_by_month()
    months = sorted(by_month)
    first, last = date(2005, 4, 1), date(2005, 9, 30)
    delinquency = series(cards, "delinquency_rate", {}, "month", first, last)
    rolls = series(
        cards,
        "roll_rate",
        {"from_bucket": "30-59", "to_bucket": "60-89"},
        "month",
        first,
        last,
    )
    cures = series(cards, "cure_rate", {}, "month", first, last)

    for previous, month in zip([None, *months], months, strict=False):
        now = by_month[month]
        # 30+ days past due: a status of one month late or more.
        late = sum(1 for status in now if status >= 1)
        assert delinquency[month].numerator == late
        assert delinquency[month].denominator == 30_000
        assert delinquency[month].value == pytest.approx(late / 30_000 * 100)
        if previous is None:
            assert rolls[month].value is None
            assert cures[month].value is None
            continue
        before = by_month[previous]
        pairs = list(zip(before, now, strict=True))
        # 30-59 days (one month late) rolling to 60-89 (two months late).
        in_bucket = [n for b, n in pairs if b == 1]
        rolled = sum(1 for n in in_bucket if n == 2)
        if in_bucket:
            assert rolls[month].denominator == len(in_bucket)
            assert rolls[month].numerator == rolled
            assert rolls[month].value == pytest.approx(rolled / len(in_bucket) * 100)
        else:
            # Status 1 is almost absent before September (a known quirk of
            # the data): nobody to roll, so no rate.
            assert rolls[month].value is None
            assert "no accounts in 30-59" in rolls[month].note
        # Cured: delinquent last month, current (no month late) this month.
        delinquent = [n for b, n in pairs if b >= 1]
        cured = sum(1 for n in delinquent if n <= 0)
        assert cures[month].denominator == len(delinquent)
        assert cures[month].numerator == cured
        assert cures[month].value == pytest.approx(cured / len(delinquent) * 100)


# The receivables ledger: quarterly DSO, Best Possible DSO, ADD and CEI.


class Ledger:
    def __init__(self) -> None:
        self.rows = [
            (
                us_date(r["InvoiceDate"]),
                us_date(r["DueDate"]),
                us_date(r["SettledDate"]),
                float(r["InvoiceAmount"]),
            )
            for r in read(IBM)
        ]

    def ar(self, day: date, *, current_only: bool = False) -> float:
        """Open on `day`: invoiced on or before it, settled after it; current
        when not yet due (due on or after the day)."""
        return sum(
            amount
            for invoiced, due, settled, amount in self.rows
            if invoiced <= day < settled and (not current_only or due >= day)
        )

    def sales(self, start: date, end: date) -> float:
        return sum(
            amount for invoiced, _, _, amount in self.rows if start <= invoiced <= end
        )


def month_ends(start: date) -> list[date]:
    ends = []
    day = start
    for _ in range(3):
        following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        ends.append(following - timedelta(days=1))
        day = following
    return ends


def test_receivables_quarterly_series(invoices):
    ledger = Ledger()
    first, last = date(2012, 1, 1), date(2013, 12, 31)
    settings = {"method": "quarterly"}
    dso = series(invoices, "dso", settings, "quarter", first, last)
    bpdso = series(invoices, "best_possible_dso", settings, "quarter", first, last)
    add = series(invoices, "add", settings, "quarter", first, last)
    cei = series(invoices, "cei", {"months": 3}, "quarter", first, last)

    # The organisation's fiscal year starts in April: quarters run
    # January-March, April-June, and so on.
    assert sorted(dso) == [q for q in sorted(dso) if q.month in (3, 6, 9, 12)]
    assert len(dso) == 8
    for end, point in dso.items():
        start = point.period.start
        ends = month_ends(start)
        assert ends[-1] == end
        sales = ledger.sales(start, end)
        ar = sum(ledger.ar(day) for day in ends)
        current = sum(ledger.ar(day, current_only=True) for day in ends)
        assert point.value == pytest.approx(ar * 30 / sales)
        assert bpdso[end].value == pytest.approx(current * 30 / sales)
        assert add[end].value == pytest.approx((ar - current) * 30 / sales)

        begin = ledger.ar(start - timedelta(days=1))
        collectable = begin + sales / 3
        expected = (collectable - ledger.ar(end)) / (
            collectable - ledger.ar(end, current_only=True)
        )
        assert cei[end].value == pytest.approx(expected * 100)
    # The data starts in January 2012: nothing is open before it.
    assert cei[date(2012, 3, 31)].detail["begin_ar"] == 0


def test_a_bad_file_is_refused_by_line_and_column(tmp_path, invoices):
    before = DataImport.objects.get(source=invoices, is_current=True)
    rows = IBM.read_text(encoding="utf-8").splitlines()
    # Line 3 (the second invoice) gets an impossible date.
    fields = rows[2].split(",")
    fields[4] = "2/30/2013"
    rows[2] = ",".join(fields)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(rows) + "\n", encoding="utf-8")
    errors = StringIO()

    with pytest.raises(CommandError, match=r"1 problem\. Nothing was changed"):
        call_command("import-data", str(bad), "--source", "Invoices", stderr=errors)

    assert "Line 3, column InvoiceDate" in errors.getvalue()
    assert "2/30/2013" in errors.getvalue()
    assert DataImport.objects.get(source=invoices, is_current=True) == before
    assert DataImport.objects.filter(source=invoices).count() == 1
