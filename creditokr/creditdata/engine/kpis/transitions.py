"""Roll rates and cure rates: how accounts move between snapshots.

The transition for a period runs from the snapshot just before the
period's latest snapshot to that latest snapshot (one month apart for a
monthly loan tape). Paid-off and charged-off are end states and stay in
the matrix; an account missing from the later snapshot is reported as
"missing" rather than dropped.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from datetime import date
from typing import Any

import ibis

from creditokr.creditdata.engine.contract import Filters, Period, SeriesPoint
from creditokr.creditdata.engine.kpis.base import (
    KPI,
    Tables,
    empty_point,
    fetch,
    filtered,
    number,
    share_point,
    state_of,
)
from creditokr.creditdata.engine.kpis.snapshots import (
    DPD_BUCKETS,
    latest_in,
    snapshot_dates,
)
from creditokr.creditdata.engine.settings import Setting

OPEN_BUCKETS = tuple(name for name, _, _ in DPD_BUCKETS)
END_STATES = ("paid_off", "charged_off", "missing")
TRANSITION_CONVENTIONS = [
    "each period compares its latest snapshot with the snapshot just before "
    "it in the data (one month earlier for monthly snapshots)",
    "accounts counted at the earlier snapshot: open accounts (an empty state "
    "counts as open), in their DPD bucket",
    "paid-off and charged-off are end states and are never dropped; an "
    "account missing from the later snapshot is counted as 'missing' and "
    "stays in the denominator",
    "buckets: current (DPD 0 or less), 1-29, 30-59, 60-89, 90-119, 120+",
]


def bucket_of(table: Any) -> Any:
    """The DPD bucket of an open account, or its end state."""
    state = state_of(table)
    dpd = table.dpd
    return ibis.cases(
        (state == "paid_off", "paid_off"),
        (state == "charged_off", "charged_off"),
        (dpd <= 0, "current"),
        (dpd < 30, "1-29"),
        (dpd < 60, "30-59"),
        (dpd < 90, "60-89"),
        (dpd < 120, "90-119"),
        else_="120+",
    )


def pick_windows(
    dates: list[date], periods: list[Period], steps: int
) -> list[list[date] | None]:
    """Per period, the snapshot dates from `steps` snapshots back to now.

    None when the period has no snapshot or too few snapshots precede it.
    """
    windows: list[list[date] | None] = []
    for period in periods:
        latest = latest_in(dates, period)
        position = bisect_left(dates, latest) if latest else -1
        if latest is None or position < steps:
            windows.append(None)
        else:
            windows.append(dates[position - steps : position + 1])
    return windows


def rows_at(table: Any, days: dict[int, date], **columns: Any) -> Any:
    """Rows at the given snapshot dates, tagged with their period index."""
    rows = table.filter(table.as_of.isin(list(days.values())))
    pair = ibis.cases(*((rows.as_of == day, index) for index, day in days.items()))
    return rows.select(
        "account_id", pair=pair, **{name: fn(rows) for name, fn in columns.items()}
    )


Counts = dict[tuple[str, str, bool, bool], float]


def transition_counts(
    table: Any, windows: list[list[date] | None], steps: int, late_from: int = 1
) -> dict[int, Counts]:
    """Counts per period of (bucket before, state after, current throughout,
    late before).

    "Current throughout" says whether the account was open and current at
    every one of the `steps` later snapshots; "late before" whether it was
    `late_from` or more days past due at the earlier snapshot.
    """
    used = {i: w for i, w in enumerate(windows) if w is not None}
    if not used:
        return {}
    start = rows_at(
        table,
        {i: w[0] for i, w in used.items()},
        before=bucket_of,
        late=lambda rows: rows.dpd >= late_from,
    )
    joined = start
    for step in range(1, steps + 1):
        later = rows_at(
            table,
            {i: w[step] for i, w in used.items()},
            **{f"after{step}": bucket_of},
        )
        joined = joined.left_join(later, ["account_id", "pair"]).select(
            *joined.columns, f"after{step}"
        )
    last = joined[f"after{steps}"].fill_null("missing")
    cured = ibis.and_(
        *(
            joined[f"after{s}"].fill_null("missing") == "current"
            for s in range(1, steps + 1)
        )
    )
    query = (
        joined.filter(joined.before.isin(OPEN_BUCKETS))
        .mutate(after=last, cured=cured)
        .group_by(["pair", "before", "after", "cured", "late"])
        .aggregate(accounts=ibis._.count())
    )
    counts: dict[int, Counts] = defaultdict(dict)
    for row in fetch(query):
        key = (row["before"], row["after"], bool(row["cured"]), bool(row["late"]))
        counts[int(row["pair"])][key] = number(row["accounts"])
    return counts


class _TransitionKPI(KPI):
    dataset = "account_snapshots"
    unit = "percent"

    def _steps(self, settings: dict[str, Any]) -> int:
        return 1

    def _late_from(self, settings: dict[str, Any]) -> int:
        return 1

    def _series(
        self,
        tables: Tables,
        settings: dict[str, Any],
        periods: list[Period],
        filters: Filters,
    ) -> list[SeriesPoint]:
        table = filtered(tables[self.dataset], filters, self.dataset)
        steps = self._steps(settings)
        windows = pick_windows(snapshot_dates(table), periods, steps)
        counts = transition_counts(table, windows, steps, self._late_from(settings))
        points = []
        for index, (period, window) in enumerate(zip(periods, windows, strict=True)):
            if window is None:
                points.append(
                    empty_point(
                        period,
                        f"needs a snapshot in this period and {steps} "
                        "snapshot(s) before it",
                    )
                )
                continue
            points.append(self._point(period, window, counts.get(index, {}), settings))
        return points

    def _point(
        self,
        period: Period,
        window: list[date],
        counts: Counts,
        settings: dict[str, Any],
    ) -> SeriesPoint:
        raise NotImplementedError


def matrix_of(counts: Counts) -> dict[str, dict[str, float]]:
    matrix: dict[str, dict[str, float]] = {
        before: dict.fromkeys((*OPEN_BUCKETS, *END_STATES[:2], "missing"), 0.0)
        for before in OPEN_BUCKETS
    }
    for (before, after, _, _), accounts in counts.items():
        matrix[before][after] += accounts
    return matrix


TARGETS = (
    *((name, f"{name} days past due") for name in OPEN_BUCKETS),
    ("worse", "Any worse bucket (or charged off)"),
    ("paid_off", "Paid off"),
    ("charged_off", "Charged off"),
    ("missing", "Missing from the later snapshot"),
)


class RollRate(_TransitionKPI):
    key = "roll_rate"
    label = "Roll rate"
    higher_is_better = False
    description = (
        "Share of accounts in one days-past-due bucket at the previous "
        "snapshot that are in another bucket (or end state) at this one."
    )
    settings = (
        Setting(
            "from_bucket",
            "From bucket",
            "choice",
            "30-59",
            choices=tuple((name, f"{name} days past due") for name in OPEN_BUCKETS),
        ),
        Setting("to_bucket", "To bucket", "choice", "60-89", choices=TARGETS),
    )

    def _conventions(self, settings: dict[str, Any]) -> list[str]:
        target = settings["to_bucket"]
        if target == "worse":
            target = "any worse bucket or charged off"
        return [
            f"roll rate from {settings['from_bucket']} to {target}: accounts "
            f"that moved / accounts in {settings['from_bucket']} at the earlier "
            "snapshot",
            *TRANSITION_CONVENTIONS,
        ]

    def _point(
        self,
        period: Period,
        window: list[date],
        counts: Counts,
        settings: dict[str, Any],
    ) -> SeriesPoint:
        matrix = matrix_of(counts)
        source = settings["from_bucket"]
        row = matrix[source]
        denominator = sum(row.values())
        target = settings["to_bucket"]
        if target == "worse":
            worse = OPEN_BUCKETS[OPEN_BUCKETS.index(source) + 1 :]
            numerator = sum(row[name] for name in (*worse, "charged_off"))
        else:
            numerator = row[target]
        detail = {
            "from_as_of": window[0].isoformat(),
            "to_as_of": window[-1].isoformat(),
            "matrix": matrix,
        }
        return share_point(
            period,
            numerator,
            denominator,
            rows=0
            if denominator == 0
            else int(sum(sum(r.values()) for r in matrix.values())),
            detail=detail,
            when_empty=f"no accounts in {source} at the earlier snapshot",
        )


class CureRate(_TransitionKPI):
    key = "cure_rate"
    label = "Cure rate"
    higher_is_better = True
    description = (
        "Share of accounts delinquent at the earlier snapshot that are "
        "current now (and, if chosen, stayed current for N snapshots)."
    )
    settings = (
        Setting(
            "delinquent_from",
            "Delinquent from (days past due)",
            "int",
            30,
            min=1,
            max=3650,
        ),
        Setting(
            "sustained_months",
            "Months current",
            "int",
            1,
            help="A cure counts only when the account is current at this many "
            "consecutive snapshots.",
            min=1,
            max=12,
        ),
    )

    def _steps(self, settings: dict[str, Any]) -> int:
        return int(settings["sustained_months"])

    def _late_from(self, settings: dict[str, Any]) -> int:
        return int(settings["delinquent_from"])

    def _conventions(self, settings: dict[str, Any]) -> list[str]:
        k, n = settings["delinquent_from"], settings["sustained_months"]
        lines = [
            f"delinquent: open and {k}+ days past due (day {k} included) at the "
            "earlier snapshot",
            "cured: open and current (DPD 0 or less); paying off, charging off "
            "or going missing is not a cure",
        ]
        if n == 1:
            lines.append("one snapshot current is enough (no sustained cure)")
        else:
            lines.append(
                f"sustained cure: current at each of the {n} snapshots that "
                f"follow, the earlier snapshot being {n} snapshots before the "
                "period's latest"
            )
        return [*lines, *TRANSITION_CONVENTIONS[2:]]

    def _point(
        self,
        period: Period,
        window: list[date],
        counts: Counts,
        settings: dict[str, Any],
    ) -> SeriesPoint:
        outcome: dict[str, float] = defaultdict(float)
        cured = delinquent = 0.0
        for (_, after, current_throughout, late), accounts in counts.items():
            if not late:
                continue
            delinquent += accounts
            outcome[after] += accounts
            if current_throughout:
                cured += accounts
        detail = {
            "from_as_of": window[0].isoformat(),
            "to_as_of": window[-1].isoformat(),
            "outcome": dict(outcome),
        }
        return share_point(
            period,
            cured,
            delinquent,
            rows=int(delinquent),
            detail=detail,
            when_empty="no delinquent accounts at the earlier snapshot",
        )
