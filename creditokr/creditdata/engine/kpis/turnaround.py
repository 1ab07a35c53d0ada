"""Credit approval turnaround: time from application start to decision.

An application counts in the period in which its end event happened.
Percentiles use linear interpolation between the two nearest ranks
(Hyndman and Fan type 7, as in Excel's PERCENTILE.INC), computed with
window functions so that every backend returns the same figure.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
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
)
from creditokr.creditdata.engine.settings import Setting

# 1 January 1900 was a Monday; days counted from it give the weekday.
MONDAY = date(1900, 1, 1)
SECONDS_PER_DAY = 86400
# Percentile p as the fraction a / b, so ranks stay whole numbers in SQL.
FRACTIONS = {"median": (1, 2), "p90": (9, 10)}


def weekdays_before(day_number: Any) -> Any:
    """Weekdays from MONDAY up to, not including, day number `day_number`
    (days counted from MONDAY)."""
    return (day_number // 7) * 5 + ibis.least(day_number % 7, 5)


def business_days(start: Any, end: Any) -> Any:
    """Weekdays after the start date up to and including the end date."""
    monday = ibis.date(MONDAY)
    first = start.date().delta(monday, unit="day") + 1
    last = end.date().delta(monday, unit="day") + 1
    return weekdays_before(last) - weekdays_before(first)


def elapsed_days(start: Any, end: Any, basis: str) -> Any:
    if basis == "business":
        return business_days(start, end).cast("float64")
    seconds = end.epoch_seconds() - start.epoch_seconds()
    return seconds.cast("float64") / SECONDS_PER_DAY


def end_of(day: date) -> datetime:
    """Midnight at the end of `day`, the exclusive upper bound of the day."""
    return datetime.combine(day + timedelta(days=1), time())


class ApprovalTurnaround(KPI):
    key = "approval_turnaround"
    label = "Credit approval turnaround"
    unit = "days"
    dataset = "application_events"
    higher_is_better = False
    description = "Time from a credit application's start to its decision."
    settings = (
        Setting(
            "start_event",
            "Start",
            "choice",
            "received",
            choices=(("received", "Received"), ("complete", "Complete")),
        ),
        Setting(
            "end_event",
            "End",
            "choice",
            "decision",
            choices=(("decision", "Decision"), ("funded", "Funded")),
        ),
        Setting(
            "statistic",
            "Statistic",
            "choice",
            "median",
            choices=(
                ("mean", "Mean"),
                ("median", "Median"),
                ("p90", "90th percentile"),
            ),
        ),
        Setting(
            "day_basis",
            "Days",
            "choice",
            "calendar",
            choices=(("calendar", "Calendar days"), ("business", "Business days")),
        ),
        Setting(
            "open_longer_than",
            "Pending longer than (days)",
            "int",
            5,
            help="The detail reports the share of pending applications open "
            "longer than this.",
            min=0,
            max=3650,
        ),
    )

    def _conventions(self, settings: dict[str, Any]) -> list[str]:
        start, end = settings["start_event"], settings["end_event"]
        lines = [
            f"turnaround per application: first '{end}' event minus first "
            f"'{start}' event",
            f"an application counts in the period of its '{end}' event",
            {
                "mean": "statistic: mean",
                "median": "statistic: median, linear interpolation (type 7)",
                "p90": "statistic: 90th percentile, linear interpolation "
                "between closest ranks (type 7, as Excel PERCENTILE.INC)",
            }[settings["statistic"]],
        ]
        if settings["day_basis"] == "business":
            lines.append(
                "business days: weekdays after the start date up to and "
                "including the end date; business days exclude Saturdays and "
                "Sundays; no holiday calendar is applied; times of day are "
                "ignored"
            )
        else:
            lines.append("calendar days: elapsed hours / 24")
        lines.append(
            f"pending: started by the period end, no '{end}' event and not "
            "withdrawn by then"
            + (", and not declined" if end == "funded" else "")
            + f"; the detail gives the share pending longer than "
            f"{settings['open_longer_than']} days"
        )
        return lines

    def _series(
        self,
        tables: Tables,
        settings: dict[str, Any],
        periods: list[Period],
        filters: Filters,
    ) -> list[SeriesPoint]:
        events = filtered(tables[self.dataset], filters, self.dataset)
        apps = _applications(events, settings)
        done = _completed(apps, settings, periods)
        pending = _pending(apps, settings, periods)
        points = []
        for index, period in enumerate(periods):
            figures = done.get(index)
            detail = {
                "pending": pending[f"p{index}"],
                "pending_longer": pending[f"l{index}"],
                "pending_longer_share": (
                    pending[f"l{index}"] / pending[f"p{index}"] * 100
                    if pending[f"p{index}"]
                    else None
                ),
            }
            if not figures:
                points.append(
                    empty_point(
                        period, "no applications ended in this period", detail=detail
                    )
                )
                continue
            detail.update(figures)
            count = int(figures["count"])
            points.append(
                SeriesPoint(
                    period=period,
                    value=figures[settings["statistic"]],
                    denominator=float(count),
                    rows=count,
                    detail=detail,
                )
            )
        return points


def _applications(events: Any, settings: dict[str, Any]) -> Any:
    """One row per application with its start, end and withdrawal times."""
    at = events.occurred_at
    declined = (events.event == "decision") & (events.decision == "declined")
    return events.group_by("application_id").aggregate(
        started=at.min(where=events.event == settings["start_event"]),
        ended=at.min(where=events.event == settings["end_event"]),
        withdrawn=at.min(where=events.event == "withdrawn"),
        declined=at.min(where=declined),
    )


def _completed(
    apps: Any, settings: dict[str, Any], periods: list[Period]
) -> dict[int, dict[str, float]]:
    """Count, mean, median and P90 per period of applications that ended."""
    ended = apps.filter(apps.started.notnull() & apps.ended.notnull())
    ended = ended.filter(ended.ended >= ended.started)
    period = ibis.cases(
        *(
            ((ended.ended >= p.start) & (ended.ended < end_of(p.end)), index)
            for index, p in enumerate(periods)
        ),
        else_=ibis.null("int64"),
    )
    durations = ended.select(
        period=period,
        days=elapsed_days(ended.started, ended.ended, settings["day_basis"]),
    ).filter(ibis._.period.notnull())
    ranked = durations.mutate(
        rank=ibis.row_number().over(group_by="period", order_by="days"),
        size=ibis._.count().over(group_by="period"),
    )
    aggregates: dict[str, Any] = {
        "count": ranked.count(),
        "total": ranked.days.sum(),
    }
    for name, (a, b) in FRACTIONS.items():
        low = (ranked.size - 1) * a // b
        aggregates[f"{name}_lo"] = ranked.days.max(where=ranked["rank"] == low)
        aggregates[f"{name}_hi"] = ranked.days.max(where=ranked["rank"] == low + 1)
        aggregates[f"{name}_size"] = ranked.size.max()
    result = {}
    for row in fetch(ranked.group_by("period").aggregate(**aggregates)):
        count = number(row["count"])
        figures = {"count": count, "mean": number(row["total"]) / count}
        for name, (a, b) in FRACTIONS.items():
            position = (count - 1) * a
            fraction = (position % b) / b
            low = number(row[f"{name}_lo"])
            high = low if row[f"{name}_hi"] is None else number(row[f"{name}_hi"])
            figures[name] = low + fraction * (high - low)
        result[int(row["period"])] = figures
    return result


def _pending(
    apps: Any, settings: dict[str, Any], periods: list[Period]
) -> dict[str, float]:
    """Pending applications at each period end, and those pending longer
    than the chosen number of days."""
    limit = settings["open_longer_than"]
    aggregates = {}
    for index, period in enumerate(periods):
        cut = ibis.timestamp(end_of(period.end))
        pending = apps.started.notnull() & (apps.started < cut)
        for column in ("ended", "withdrawn", "declined"):
            if column == "declined" and settings["end_event"] != "funded":
                continue
            pending = pending & (apps[column].isnull() | (apps[column] >= cut))
        if settings["day_basis"] == "business":
            age = elapsed_days(
                apps.started,
                ibis.timestamp(datetime.combine(period.end, time())),
                "business",
            )
        else:
            age = elapsed_days(apps.started, cut, "calendar")
        aggregates[f"p{index}"] = apps.count(where=pending)
        aggregates[f"l{index}"] = apps.count(where=pending & (age > limit))
    row = fetch(apps.aggregate(**aggregates))[0]
    return {name: number(value) for name, value in row.items()}
