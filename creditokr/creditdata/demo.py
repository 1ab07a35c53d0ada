"""Credit data for the demo workspace: real, small, attributed, dated now.

Two public datasets ship with the app (see demo_data/README.md). They are
a decade and more old, so the demo moves their dates into the current
fiscal year, in a temporary copy, and imports that copy through the
normal import path. Two key results are then fed by them: the delinquency
rate from the card statements, and days sales outstanding from the
invoices.
"""

from __future__ import annotations

import csv
import tempfile
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from creditokr.accounts.models import Team, User
from creditokr.creditdata import services
from creditokr.creditdata.ingest.examples import (
    UCI_MONTHS,
    ibm_receivables_mapping,
    uci_card_mapping,
)
from creditokr.creditdata.ingest.mapping import WidePeriod
from creditokr.creditdata.ingest.readers import sniff
from creditokr.creditdata.models import DataSource, Grain, KeyResultFeed, SourceKind
from creditokr.cycles.models import Cycle
from creditokr.okrs import services as okr_services
from creditokr.okrs.models import KeyResult, Unit
from creditokr.okrs.progress import Kind

DEMO_DATA = Path(__file__).resolve().parent / "demo_data"
CARDS_FILE = DEMO_DATA / "uci_credit_card_sample.csv"
INVOICES_FILE = DEMO_DATA / "ar_invoices_ibm.csv"
US_DATE = "%m/%d/%Y"
INVOICE_DATE_COLUMNS = ("PaperlessDate", "InvoiceDate", "DueDate", "SettledDate")

CARDS_ATTRIBUTION = (
    '"Default of credit card clients" (Yeh and Lien, 2009), UCI Machine '
    "Learning Repository, CC BY 4.0: the first 3,000 accounts, six monthly "
    "statements each. Demo: the six months, April to September 2005 in the "
    "original, are shown as the six months before today; values unchanged."
)
INVOICES_ATTRIBUTION = (
    'IBM Watson Analytics sample data "Accounts Receivable": 2,466 invoices, '
    "January 2012 to January 2014 in the original. Demo: every date moved "
    "forward by the same number of whole weeks so the last invoice falls in "
    "the month before today; settlements after today are left open."
)


def month_ends_before(today: date, count: int) -> list[date]:
    """The last `count` month ends before today's month, newest first."""
    ends = []
    end = today.replace(day=1) - timedelta(days=1)
    for _ in range(count):
        ends.append(end)
        end = end.replace(day=1) - timedelta(days=1)
    return ends


def invoice_shift(today: date, latest_invoice: date) -> timedelta:
    """Whole weeks that move the latest invoice into last month."""
    last_month_end = today.replace(day=1) - timedelta(days=1)
    weeks = (last_month_end - latest_invoice).days // 7
    return timedelta(weeks=weeks)


def write_moved_invoices(target: Path, today: date) -> timedelta:
    """Copy the invoices with their dates moved; returns the shift."""
    with INVOICES_FILE.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    latest = max(_us_date(row["InvoiceDate"]) for row in rows)
    shift = invoice_shift(today, latest)
    for row in rows:
        for column in INVOICE_DATE_COLUMNS:
            if row[column]:
                moved = _us_date(row[column]) + shift
                # A settlement after today has not happened yet.
                unsettled = column == "SettledDate" and moved > today
                row[column] = "" if unsettled else _us_text(moved)
        if not row["SettledDate"]:
            row["DaysToSettle"] = row["DaysLate"] = ""
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return shift


def _us_date(text: str) -> date:
    return datetime.strptime(text, US_DATE).date()  # noqa: DTZ007 - a date only


def _us_text(day: date) -> str:
    return f"{day.month}/{day.day}/{day.year}"


def add_demo_data(
    year: Cycle,
    team: Team,
    importer: User,
    key_results: dict[str, KeyResult],
    today: date,
) -> None:
    """Import both datasets and feed two key results from them."""
    cards = DataSource.objects.create(
        name="Card portfolio (UCI sample)",
        team=team,
        dataset="account_snapshots",
        kind=SourceKind.FILE,
        description="Month-end statements of 3,000 credit-card accounts.",
        attribution=CARDS_ATTRIBUTION,
        created_by=importer,
    )
    invoices = DataSource.objects.create(
        name="Receivables ledger (IBM sample)",
        team=team,
        dataset="receivables",
        kind=SourceKind.FILE,
        description="Business-to-business invoices with their settled dates.",
        attribution=INVOICES_ATTRIBUTION,
        created_by=importer,
    )
    months = month_ends_before(today, len(UCI_MONTHS))
    card_mapping = replace(
        uci_card_mapping(),
        wide=tuple(
            WidePeriod(month_end, {"dpd": status, "balance": balance})
            for month_end, (_, status, balance) in zip(months, UCI_MONTHS, strict=True)
        ),
    )
    with tempfile.TemporaryDirectory(prefix="creditokr-demo-") as folder:
        _deliver(importer, cards, CARDS_FILE, CARDS_FILE.name, card_mapping)
        moved = Path(folder) / "ar_invoices_ibm.csv"
        write_moved_invoices(moved, today)
        _deliver(importer, invoices, moved, moved.name, ibm_receivables_mapping())

    delinquency = key_results["delinquency-rate"]
    _feed(
        delinquency,
        cards,
        importer,
        kpi="delinquency_rate",
        settings={"threshold": 30, "basis": "count", "denominator": "open_only"},
        grain=Grain.MONTH,
    )
    dso = _dso_key_result(delinquency, importer)
    _feed(
        dso,
        invoices,
        importer,
        kpi="dso",
        settings={"method": "quarterly"},
        grain=Grain.QUARTER,
    )


def _deliver(
    importer: User, source: DataSource, path: Path, name: str, mapping: object
) -> None:
    sniffed = sniff(path, name)
    outcome = services.deliver_file(
        importer,
        source,
        path,
        name,
        sniffed.format,
        mapping,  # type: ignore[arg-type]
    )
    if not outcome.accepted:
        problems = "; ".join(e.message for e in outcome.result.errors[:5])
        raise RuntimeError(f"The demo data for {source} did not import: {problems}")


def _dso_key_result(beside: KeyResult, owner: User) -> KeyResult:
    key_result = KeyResult(
        objective=beside.objective,
        title="Keep days sales outstanding at or below 40 days",
        owner=beside.owner,
        definition=(
            "Quarterly DSO, Credit Research Foundation method: the three "
            "month-end receivables balances x 30 / credit sales of the quarter."
        ),
        kind=Kind.STAY_BELOW,
        unit=Unit.DAYS,
        target_value=Decimal("40"),
        weight=Decimal("1"),
    )
    return okr_services.create_key_result(owner, key_result)


def _feed(
    key_result: KeyResult,
    source: DataSource,
    creator: User,
    *,
    kpi: str,
    settings: dict[str, object],
    grain: str,
) -> None:
    feed = KeyResultFeed.objects.create(
        key_result=key_result,
        source=source,
        kpi=kpi,
        settings=settings,
        grain=grain,
        baseline_from_data=key_result.kind in (Kind.INCREASE, Kind.DECREASE),
        created_by=creator,
    )
    outcome = services.refresh_feed(feed)
    if outcome.error:
        raise RuntimeError(f"The demo feed of {key_result} failed: {outcome.error}")
