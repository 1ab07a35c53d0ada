"""Delinquency rate and DPD aging over account snapshots (a loan tape).

Each period is measured at its latest snapshot date: the newest `as_of`
within the period among the rows that pass the filters.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import date
from typing import Any

from creditokr.creditdata.engine.contract import Filters, Period, SeriesPoint
from creditokr.creditdata.engine.kpis.base import (
    KPI,
    Tables,
    as_date,
    empty_point,
    fetch,
    filtered,
    number,
    ratio,
)
from creditokr.creditdata.engine.settings import Setting

DPD_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("current", -(10**9), 1),
    ("1-29", 1, 30),
    ("30-59", 30, 60),
    ("60-89", 60, 90),
    ("90-119", 90, 120),
    ("120+", 120, None),
)
BUCKET_EDGES = (1, 30, 60, 90, 120)
REPORTED_THRESHOLDS = (30, 60, 90)

BASIS = Setting(
    "basis",
    "Basis",
    "choice",
    "count",
    choices=(("count", "Number of accounts"), ("balance", "Outstanding balance")),
)
DENOMINATOR = Setting(
    "denominator",
    "Accounts counted",
    "choice",
    "open_only",
    choices=(
        ("open_only", "Open accounts only"),
        ("including_charged_off", "Open and charged-off accounts"),
    ),
    help="Paid-off accounts are never counted.",
)
SNAPSHOT_CONVENTION = (
    "each period is measured at its latest snapshot date (the newest as-of "
    "date within the period)"
)


def snapshot_dates(table: Any) -> list[date]:
    """Every distinct snapshot date in the table, oldest first."""
    return sorted(
        as_date(row["as_of"]) for row in fetch(table.select("as_of").distinct())
    )


def latest_in(dates: Sequence[date], period: Period) -> date | None:
    """The newest of the sorted `dates` that falls within `period`."""
    position = bisect_right(dates, period.end)
    if position and dates[position - 1] >= period.start:
        return dates[position - 1]
    return None


def active_states(settings: dict[str, Any]) -> list[str]:
    if settings["denominator"] == "including_charged_off":
        return ["open", "charged_off"]
    return ["open"]


def snapshot_figures(
    table: Any, first: date, last: date, thresholds: Sequence[int]
) -> dict[date, dict[str | None, dict[str, float]]]:
    """Counts and balances per snapshot date and account state, in one scan.

    For each threshold k: `n{k}` accounts with DPD >= k and `b{k}` their
    balance; `accounts` and `balance` are the totals. Grouping by the raw
    state (a handful of values) is cheaper than filtering on it.
    """
    rows = table.filter(table.as_of.between(first, last))
    aggregates = {"accounts": rows.count(), "balance": rows.balance.sum()}
    for k in sorted(set(thresholds)):
        late = rows.dpd >= k
        aggregates[f"n{k}"] = rows.count(where=late)
        aggregates[f"b{k}"] = rows.balance.sum(where=late)
    keys = ["as_of", "state"] if "state" in rows.columns else ["as_of"]
    result: dict[date, dict[str | None, dict[str, float]]] = {}
    for row in fetch(rows.group_by(keys).aggregate(**aggregates)):
        day, state = as_date(row.pop("as_of")), row.pop("state", None)
        result.setdefault(day, {})[state] = {k: number(v) for k, v in row.items()}
    return result


def active_figures(
    by_state: dict[str | None, dict[str, float]], states: list[str]
) -> dict[str, float]:
    """Totals over the active states (an empty state is open), plus `rows`
    (every row at the snapshot) and `active` (active accounts)."""
    names = {name for figures in by_state.values() for name in figures}
    totals = dict.fromkeys(names, 0.0)
    totals["rows"] = 0.0
    for state, figures in by_state.items():
        totals["rows"] += figures["accounts"]
        if (state or "open") not in states:
            continue
        for name, value in figures.items():
            totals[name] += value
    totals["active"] = totals["accounts"]
    return totals


def bucket_figures(figures: dict[str, float]) -> dict[str, dict[str, float]]:
    """Accounts and balance per DPD bucket, derived from threshold counts."""
    upper = {lo: hi for _, lo, hi in DPD_BUCKETS}
    result = {}
    for name, lo, _ in DPD_BUCKETS:
        hi = upper[lo]
        count_lo = figures["active"] if name == "current" else figures[f"n{lo}"]
        balance_lo = figures["balance"] if name == "current" else figures[f"b{lo}"]
        result[name] = {
            "count": count_lo - (figures[f"n{hi}"] if hi else 0),
            "balance": balance_lo - (figures[f"b{hi}"] if hi else 0),
        }
    return result


class _SnapshotKPI(KPI):
    dataset = "account_snapshots"
    higher_is_better = False

    def _series(
        self,
        tables: Tables,
        settings: dict[str, Any],
        periods: list[Period],
        filters: Filters,
    ) -> list[SeriesPoint]:
        table = filtered(tables[self.dataset], filters, self.dataset)
        by_date = snapshot_figures(
            table,
            min(p.start for p in periods),
            max(p.end for p in periods),
            self._thresholds(settings),
        )
        dates = sorted(by_date)
        states = active_states(settings)
        points = []
        for period in periods:
            day = latest_in(dates, period)
            if day is None:
                points.append(empty_point(period, "no snapshot in this period"))
                continue
            figures = active_figures(by_date[day], states)
            points.append(self._point(period, day, figures, settings))
        return points

    def _thresholds(self, settings: dict[str, Any]) -> list[int]:
        return [*BUCKET_EDGES, *REPORTED_THRESHOLDS]

    def _point(
        self,
        period: Period,
        day: date,
        figures: dict[str, float],
        settings: dict[str, Any],
    ) -> SeriesPoint:
        raise NotImplementedError


def _share(part: float, whole: float, basis: str) -> tuple[float | None, str]:
    if basis == "count" and whole == 0:
        return None, "no active accounts at the snapshot"
    if basis == "balance" and whole <= 0:
        return None, "the total active balance is zero or negative"
    return ratio(part, whole), ""


def _common_conventions(settings: dict[str, Any]) -> list[str]:
    lines = [SNAPSHOT_CONVENTION]
    if settings["denominator"] == "including_charged_off":
        lines.append(
            "active accounts: open (or empty state) and charged-off accounts; "
            "paid-off accounts are never counted"
        )
    else:
        lines.append(
            "denominator: open accounts only (an empty state counts as open); "
            "paid-off and charged-off accounts are left out"
        )
    if settings["basis"] == "balance":
        lines.append(
            "balance basis: outstanding balances are used as they are, so a "
            "negative (credit) balance reduces the totals; the rate is "
            "undefined when the total active balance is zero or negative"
        )
    else:
        lines.append("count basis: each active account counts once")
    lines.append("DPD of zero or less is current")
    return lines


class DelinquencyRate(_SnapshotKPI):
    key = "delinquency_rate"
    label = "Delinquency rate"
    unit = "percent"
    description = (
        "Share of active accounts (or of their balance) that are k or more "
        "days past due at the period's latest snapshot."
    )
    settings = (
        Setting(
            "threshold",
            "Days past due (k+)",
            "int",
            30,
            help="Accounts with at least this many days past due are "
            "delinquent; day k itself is included.",
            min=1,
            max=3650,
        ),
        BASIS,
        DENOMINATOR,
    )

    def _conventions(self, settings: dict[str, Any]) -> list[str]:
        k = settings["threshold"]
        return [
            f"{k}+ days past due, day {k} included",
            *_common_conventions(settings),
        ]

    def _thresholds(self, settings: dict[str, Any]) -> list[int]:
        return [settings["threshold"], *REPORTED_THRESHOLDS]

    def _point(
        self,
        period: Period,
        day: date,
        figures: dict[str, float],
        settings: dict[str, Any],
    ) -> SeriesPoint:
        k, basis = settings["threshold"], settings["basis"]
        total = figures["active" if basis == "count" else "balance"]
        part = figures[f"{'n' if basis == 'count' else 'b'}{k}"]
        value, note = _share(part, total, basis)
        by_threshold = {
            f"{t}+": {
                "count_rate": _share(figures[f"n{t}"], figures["active"], "count")[0],
                "balance_rate": _share(figures[f"b{t}"], figures["balance"], "balance")[
                    0
                ],
            }
            for t in sorted({k, *REPORTED_THRESHOLDS})
        }
        detail = {
            "as_of": day.isoformat(),
            "active_accounts": figures["active"],
            "active_balance": figures["balance"],
            "delinquent_accounts": figures[f"n{k}"],
            "delinquent_balance": figures[f"b{k}"],
            "by_threshold": by_threshold,
        }
        return SeriesPoint(
            period=period,
            value=value,
            numerator=part,
            denominator=total,
            rows=int(figures["rows"]),
            detail=detail,
            note=note,
        )


class AgingBuckets(_SnapshotKPI):
    key = "aging_buckets"
    label = "Accounts by days past due"
    unit = "percent"
    description = (
        "Share of active accounts (or balance) in a days-past-due bucket at "
        "the period's latest snapshot, with every bucket in the detail."
    )
    settings = (
        Setting(
            "bucket",
            "Bucket",
            "choice",
            "30+",
            choices=(
                *((name, f"{name} days past due") for name, _, _ in DPD_BUCKETS),
                ("30+", "30 or more days past due"),
            ),
        ),
        BASIS,
        DENOMINATOR,
    )

    def _conventions(self, settings: dict[str, Any]) -> list[str]:
        return [
            "buckets: current (DPD 0 or less), 1-29, 30-59, 60-89, 90-119, "
            "120+; both bounds included, so 30-59 starts at day 30",
            f"value: share in the {settings['bucket']} bucket",
            *_common_conventions(settings),
        ]

    def _point(
        self,
        period: Period,
        day: date,
        figures: dict[str, float],
        settings: dict[str, Any],
    ) -> SeriesPoint:
        basis = settings["basis"]
        field = "count" if basis == "count" else "balance"
        buckets = bucket_figures(figures)
        total = figures["active" if basis == "count" else "balance"]
        if settings["bucket"] == "30+":
            part = figures["n30" if basis == "count" else "b30"]
        else:
            part = buckets[settings["bucket"]][field]
        value, note = _share(part, total, basis)
        for bucket in buckets.values():
            bucket["share"] = _share(bucket[field], total, basis)[0]  # type: ignore[assignment]
        return SeriesPoint(
            period=period,
            value=value,
            numerator=part,
            denominator=total,
            rows=int(figures["rows"]),
            detail={"as_of": day.isoformat(), "buckets": buckets},
            note=note,
        )
