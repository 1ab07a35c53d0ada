"""Receivables KPIs: DSO, Best Possible DSO, ADD, CEI and AR aging."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any, ClassVar, Literal

from creditokr.creditdata.engine.contract import Filters, Period, SeriesPoint
from creditokr.creditdata.engine.kpis.base import (
    KPI,
    KPIError,
    Tables,
    empty_point,
    ratio,
    share_point,
)
from creditokr.creditdata.engine.kpis.ledger import (
    LEDGER_CONVENTIONS,
    Ledger,
    Part,
    not_yet_due,
)
from creditokr.creditdata.engine.periods import (
    add_months,
    is_whole_months,
    month_end,
    months_in,
)
from creditokr.creditdata.engine.settings import Setting

Measure = Literal["dso", "bpdso", "add"]

METHOD = Setting(
    "method",
    "Method",
    "choice",
    "standard",
    choices=(
        ("standard", "Standard: ending AR / credit sales x days"),
        ("quarterly", "Quarterly (three month-end balances x 30 / sales)"),
        ("count_back", "Count-back"),
    ),
)
MONTH_DAYS = Setting(
    "month_days",
    "Days per month (count-back)",
    "choice",
    "actual",
    choices=(("actual", "Calendar days of each month"), ("thirty", "30 days")),
)


def count_back_days(balance: float, months: list[tuple[float, int]]) -> float | None:
    """Days of sales in `balance`, walking back through (sales, days) months
    listed newest first. None when the balance outlasts the months."""
    if balance <= 0:
        return 0.0
    days = 0.0
    for sales, length in months:
        if sales > 0 and balance <= sales:
            return days + balance / sales * length
        balance -= max(sales, 0.0)
        days += length
    return None


class ReceivablesDays(KPI):
    """DSO, Best Possible DSO or ADD; they share the method settings."""

    measure: ClassVar[Measure]
    dataset = "receivables"
    optional_datasets = ("payments",)
    unit = "days"
    higher_is_better = False
    settings = (METHOD, MONTH_DAYS)

    def _conventions(self, settings: dict[str, Any]) -> list[str]:
        method = settings["method"]
        lines = {
            "standard": "standard method: AR at the period end / credit sales "
            "of the period x calendar days in the period",
            "quarterly": "quarterly method (Credit Research Foundation): sum of "
            "the three month-end AR balances x 30 / credit sales of the "
            "quarter; periods must be three calendar months",
            "count_back": "count-back method: from the period's last month "
            "backwards, subtract each month's credit sales from the ending AR "
            "and add its days, converting the remainder pro rata in the first "
            "month it does not use up",
        }
        result = [lines[method]]
        if method == "count_back":
            result.append(
                "months count 30 days each"
                if settings["month_days"] == "thirty"
                else "months count their calendar days"
            )
        if self.measure != "dso":
            result.append(
                "current AR means not yet due (due date on or after the "
                "measurement date), not 'under 30 days old'"
            )
        if self.measure == "add":
            result.append("ADD = DSO - Best Possible DSO, same period and method")
        return [*result, *LEDGER_CONVENTIONS]

    def _series(
        self,
        tables: Tables,
        settings: dict[str, Any],
        periods: list[Period],
        filters: Filters,
    ) -> list[SeriesPoint]:
        method = settings["method"]
        self._check_periods(method, periods)
        ledger = Ledger(tables, filters)
        days = sorted({d for p in periods for d in _measure_dates(method, p)})
        balances = ledger.open_amounts(days, {"ar": None, "current": not_yet_due})
        sales = ledger.sales(periods)
        monthly = (
            ledger.monthly_sales(periods[-1].end) if method == "count_back" else {}
        )
        points = []
        for period, (period_sales, rows) in zip(periods, sales, strict=True):
            measured = _measure_dates(method, period)
            ar = sum(balances[(d, "ar")] for d in measured)
            current = sum(balances[(d, "current")] for d in measured)
            dso = self._days(method, period, ar, period_sales, monthly, settings)
            bpdso = self._days(method, period, current, period_sales, monthly, settings)
            points.append(
                self._point(period, ar, current, period_sales, dso, bpdso, rows)
            )
        return points

    def _check_periods(self, method: str, periods: list[Period]) -> None:
        for period in periods:
            if method == "quarterly" and not (
                is_whole_months(period) and months_in(period) == 3
            ):
                raise KPIError(
                    f"quarterly DSO needs periods of three whole calendar "
                    f"months; {period.label or period.start} is not one"
                )
            if method == "count_back" and period.end != month_end(
                period.end.year, period.end.month
            ):
                raise KPIError(
                    f"count-back DSO needs periods that end on a month end; "
                    f"{period.label or period.start} ends on {period.end}"
                )

    def _days(
        self,
        method: str,
        period: Period,
        balance: float,
        sales: float,
        monthly: dict[tuple[int, int], float],
        settings: dict[str, Any],
    ) -> float | None:
        if method == "count_back":
            return count_back_days(
                balance, _months_back(period.end, monthly, settings["month_days"])
            )
        if sales == 0:
            return None
        days = 30 if method == "quarterly" else period.days
        return balance / sales * days

    def _point(
        self,
        period: Period,
        ar: float,
        current: float,
        sales: float,
        dso: float | None,
        bpdso: float | None,
        rows: int,
    ) -> SeriesPoint:
        detail = {
            "ar": ar,
            "current_ar": current,
            "past_due_ar": ar - current,
            "credit_sales": sales,
            "dso": dso,
            "best_possible_dso": bpdso,
        }
        if dso is None or bpdso is None:
            note = (
                "no credit sales in the period"
                if sales == 0
                else "the AR is larger than all credit sales on record"
            )
            return empty_point(period, note, rows=rows, detail=detail)
        value = {"dso": dso, "bpdso": bpdso, "add": dso - bpdso}[self.measure]
        detail["add"] = dso - bpdso
        numerator = {"dso": ar, "bpdso": current, "add": ar - current}[self.measure]
        return SeriesPoint(
            period=period,
            value=value,
            numerator=numerator,
            denominator=sales,
            rows=rows,
            detail=detail,
        )


class DSO(ReceivablesDays):
    key = "dso"
    label = "Days sales outstanding (DSO)"
    measure = "dso"
    description = "How many days of credit sales are tied up in receivables."


class BestPossibleDSO(ReceivablesDays):
    key = "best_possible_dso"
    label = "Best possible DSO"
    measure = "bpdso"
    description = "DSO counting only receivables that are not yet due."


class AverageDaysDelinquent(ReceivablesDays):
    key = "add"
    label = "Average days delinquent (ADD)"
    measure = "add"
    description = "DSO minus Best Possible DSO: the days lost to late payment."


class CollectionEffectiveness(KPI):
    key = "cei"
    label = "Collection effectiveness index (CEI)"
    unit = "percent"
    dataset = "receivables"
    optional_datasets = ("payments",)
    higher_is_better = True
    description = (
        "How much of what could be collected in the period was collected: "
        "(begin AR + sales/N - end AR) / (begin AR + sales/N - end current "
        "AR) x 100."
    )
    settings = (
        Setting(
            "months",
            "N (months)",
            "int",
            0,
            help="Credit sales are divided by N. 0 means the number of "
            "calendar months in each period.",
            min=0,
            max=120,
        ),
    )

    def _conventions(self, settings: dict[str, Any]) -> list[str]:
        n = settings["months"]
        divisor = (
            "N = the number of calendar months in each period (3 for a quarter)"
            if n == 0
            else f"N = {n} month(s) for every period"
        )
        return [
            f"CEI = (begin AR + credit sales / N - end AR) / (begin AR + credit "
            f"sales / N - end current AR) x 100, with {divisor}",
            "begin AR is the AR at the end of the day before the period starts",
            "current AR means not yet due (due date on or after the period end)",
            *LEDGER_CONVENTIONS,
        ]

    def _series(
        self,
        tables: Tables,
        settings: dict[str, Any],
        periods: list[Period],
        filters: Filters,
    ) -> list[SeriesPoint]:
        ledger = Ledger(tables, filters)
        days = sorted({d for p in periods for d in (p.start - timedelta(1), p.end)})
        balances = ledger.open_amounts(days, {"ar": None, "current": not_yet_due})
        points = []
        for period, (sales, rows) in zip(periods, ledger.sales(periods), strict=True):
            n = settings["months"] or months_in(period)
            begin = balances[(period.start - timedelta(1), "ar")]
            end = balances[(period.end, "ar")]
            end_current = balances[(period.end, "current")]
            collectable = begin + sales / n
            numerator, denominator = collectable - end, collectable - end_current
            detail = {
                "begin_ar": begin,
                "credit_sales": sales,
                "n": n,
                "end_ar": end,
                "end_current_ar": end_current,
                "numerator": numerator,
                "denominator": denominator,
            }
            if sales == 0 and end == 0:
                # Nothing sold and nothing open at the end: either the
                # period lies outside the data or the data ends in it.
                points.append(
                    empty_point(
                        period,
                        "no credit sales in the period and nothing open at its "
                        "end; the data may not cover this period",
                        rows=rows,
                        detail=detail,
                    )
                )
                continue
            if denominator == 0:
                points.append(
                    empty_point(
                        period,
                        "nothing was collectable (begin AR + sales / N equals "
                        "the end current AR)",
                        rows=rows,
                        detail=detail,
                    )
                )
                continue
            note = ""
            if begin == 0:
                note = (
                    "nothing was open at the start of the period; the data "
                    "may start here"
                )
            points.append(
                SeriesPoint(
                    period=period,
                    value=ratio(numerator, denominator),
                    numerator=numerator,
                    denominator=denominator,
                    rows=rows,
                    detail=detail,
                    note=note,
                )
            )
        return points


AR_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("current", -(10**6), 0),
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-120", 91, 120),
    ("121+", 121, None),
)
OVER = {"over_30": 31, "over_60": 61, "over_90": 91}


def _aged(column: str, lo: int, hi: int | None) -> Part:
    """Invoices whose age at the date lies between lo and hi days."""

    def part(table: Any, day: date) -> Any:
        newest = day - timedelta(days=lo)
        if hi is None:
            return table[column] <= newest
        return table[column].between(day - timedelta(days=hi), newest)

    return part


class ReceivablesAging(KPI):
    key = "receivables_aging"
    label = "Receivables aging"
    unit = "percent"
    dataset = "receivables"
    optional_datasets = ("payments",)
    higher_is_better = False
    description = (
        "Share of the unpaid receivables in an age bucket at the period end, "
        "with every bucket in the detail."
    )
    settings = (
        Setting(
            "age_from",
            "Age from",
            "choice",
            "due_date",
            choices=(("due_date", "Due date"), ("invoice_date", "Invoice date")),
        ),
        Setting(
            "bucket",
            "Bucket",
            "choice",
            "over_30",
            choices=(
                *((name, f"{name} days") for name, _, _ in AR_BUCKETS),
                ("over_30", "More than 30 days"),
                ("over_60", "More than 60 days"),
                ("over_90", "More than 90 days"),
            ),
        ),
    )

    def _conventions(self, settings: dict[str, Any]) -> list[str]:
        source = settings["age_from"].replace("_", " ")
        return [
            f"the unpaid remainder of each invoice is aged from its {source} "
            "to the period end, in calendar days",
            "buckets: current (age 0 or less), 1-30, 31-60, 61-90, 91-120, "
            "121+ days, both bounds included",
            f"value: share of AR in the {settings['bucket'].replace('_', ' ')} "
            "bucket; undefined when the total AR is zero or negative",
            *LEDGER_CONVENTIONS[:2],
        ]

    def _series(
        self,
        tables: Tables,
        settings: dict[str, Any],
        periods: list[Period],
        filters: Filters,
    ) -> list[SeriesPoint]:
        ledger = Ledger(tables, filters)
        column = settings["age_from"]
        parts: dict[str, Part | None] = {
            name: _aged(column, lo, hi) for name, lo, hi in AR_BUCKETS
        }
        parts["total"] = None
        parts.update({name: _aged(column, lo, None) for name, lo in OVER.items()})
        balances = ledger.open_amounts([p.end for p in periods], parts)
        rows = ledger.sales(periods)
        points = []
        for period, (_, count) in zip(periods, rows, strict=True):
            total = balances[(period.end, "total")]
            buckets = {name: balances[(period.end, name)] for name, _, _ in AR_BUCKETS}
            part = balances[(period.end, settings["bucket"])]
            detail = {"buckets": buckets, "total_ar": total}
            points.append(
                share_point(
                    period,
                    part,
                    total,
                    rows=count,
                    detail=detail,
                    when_empty="no unpaid receivables",
                )
            )
        return points


def _measure_dates(method: str, period: Period) -> list[date]:
    if method != "quarterly":
        return [period.end]
    return [
        month_end(*add_months(period.start.year, period.start.month, offset))
        for offset in range(3)
    ]


def _months_back(
    end: date, monthly: dict[tuple[int, int], float], month_days: str
) -> list[tuple[float, int]]:
    """(sales, days) per month from `end`'s month back to the first sale."""
    if not monthly:
        return []
    first = min(monthly)
    year, month = end.year, end.month
    months = []
    while (year, month) >= first:
        length = 30 if month_days == "thirty" else calendar.monthrange(year, month)[1]
        months.append((monthly.get((year, month), 0.0), length))
        year, month = add_months(year, month, -1)
    return months
