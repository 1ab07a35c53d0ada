"""Recovery rate on charged-off accounts, by cohort or by calendar period."""

from __future__ import annotations

from typing import Any

import ibis

from creditokr.creditdata.engine.contract import Filters, Period, SeriesPoint
from creditokr.creditdata.engine.kpis.base import (
    KPI,
    Tables,
    fetch,
    filtered,
    number,
    period_index,
    share_point,
)
from creditokr.creditdata.engine.settings import Setting

COLLECTED = ("recovery", "debt_sale")


def month_day_key(day: Any) -> Any:
    """A number that orders dates and adds months: (months) x 32 + day."""
    return (day.year() * 12 + day.month()) * 32 + day.day()


class RecoveryRate(KPI):
    key = "recovery_rate"
    label = "Recovery rate"
    unit = "percent"
    dataset = "recoveries"
    higher_is_better = True
    description = (
        "Recoveries (including debt-sale proceeds) on charged-off accounts as "
        "a share of the gross charged-off balance."
    )
    settings = (
        Setting(
            "view",
            "View",
            "choice",
            "cohort",
            choices=(
                ("cohort", "By charge-off cohort"),
                ("calendar", "By calendar period"),
            ),
        ),
        Setting(
            "max_age_months",
            "Cohort age (months)",
            "int",
            12,
            help="Cohort view: recoveries up to this many months after the charge-off.",
            min=1,
            max=240,
        ),
        Setting(
            "amounts",
            "Recoveries",
            "choice",
            "gross",
            choices=(("gross", "Gross"), ("net", "Net of agency fees")),
        ),
    )

    def _conventions(self, settings: dict[str, Any]) -> list[str]:
        if settings["view"] == "cohort":
            age = settings["max_age_months"]
            lines = [
                "cohort view: accounts whose first charge-off falls in the "
                "period; all their charge-off amounts form the denominator",
                f"recoveries counted from the charge-off date up to the same day "
                f"{age} months later (both days included)",
            ]
        else:
            lines = [
                "calendar view: recoveries dated in the period / gross "
                "charge-offs dated in the period, whatever the charge-off date "
                "of the recovered account",
            ]
        lines.append(
            "recoveries net of agency fees (amount - fee)"
            if settings["amounts"] == "net"
            else "recoveries gross of agency fees"
        )
        lines.append(
            "debt-sale proceeds count as recoveries and are also reported separately"
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
        if settings["view"] == "cohort":
            figures = _cohort(events, periods, settings["max_age_months"])
        else:
            figures = _calendar(events, periods)
        net = settings["amounts"] == "net"
        points = []
        for index, period in enumerate(periods):
            row = figures.get(index, {})
            charged = number(row.get("charged_off"))
            recovered = number(row.get("recovered"))
            sold = number(row.get("debt_sales"))
            fees = number(row.get("fees"))
            total = recovered + sold - (fees if net else 0.0)
            detail = {
                "gross_charge_offs": charged,
                "recoveries": recovered,
                "debt_sales": sold,
                "fees": fees,
                "net_recoveries": recovered + sold - fees,
            }
            rows = int(number(row.get("rows")))
            points.append(
                share_point(
                    period,
                    total,
                    charged,
                    rows=rows,
                    detail=detail,
                    when_empty="no charge-offs in this period",
                )
            )
        return points


def _sums(table: Any, kind: Any) -> dict[str, Any]:
    fee = table.fee.fill_null(0) if "fee" in table.columns else ibis.literal(0)
    return {
        "recovered": table.amount.sum(where=kind == "recovery"),
        "debt_sales": table.amount.sum(where=kind == "debt_sale"),
        "fees": fee.sum(where=kind.isin(COLLECTED)),
    }


def _calendar(events: Any, periods: list[Period]) -> dict[int, dict[str, Any]]:
    tagged = events.mutate(period=period_index(events.event_date, periods))
    tagged = tagged.filter(tagged.period.notnull())
    query = tagged.group_by("period").aggregate(
        charged_off=tagged.amount.sum(where=tagged.kind == "charge_off"),
        rows=tagged.count(),
        **_sums(tagged, tagged.kind),
    )
    return {int(row.pop("period")): row for row in fetch(query)}


def _cohort(events: Any, periods: list[Period], age: int) -> dict[int, dict[str, Any]]:
    charge_offs = events.filter(events.kind == "charge_off")
    cohorts = charge_offs.group_by("account_id").aggregate(
        charged_on=charge_offs.event_date.min(),
        charged_off=charge_offs.amount.sum(),
        charge_rows=charge_offs.count(),
    )
    cohorts = cohorts.mutate(period=period_index(cohorts.charged_on, periods))
    cohorts = cohorts.filter(cohorts.period.notnull())

    collected = events.filter(events.kind.isin(COLLECTED))
    joined = collected.inner_join(
        cohorts.select("account_id", "charged_on", "period"), "account_id"
    )
    in_window = (joined.event_date >= joined.charged_on) & (
        month_day_key(joined.event_date) <= month_day_key(joined.charged_on) + age * 32
    )
    joined = joined.filter(in_window)
    recovered = joined.group_by("period").aggregate(
        collected_rows=joined.count(), **_sums(joined, joined.kind)
    )
    charged = cohorts.group_by("period").aggregate(
        charged_off=cohorts.charged_off.sum(), charge_rows=cohorts.charge_rows.sum()
    )
    result: dict[int, dict[str, Any]] = {}
    for row in fetch(charged):
        result[int(row["period"])] = {
            "charged_off": row["charged_off"],
            "rows": number(row["charge_rows"]),
        }
    for row in fetch(recovered):
        entry = result.setdefault(int(row["period"]), {"rows": 0.0})
        entry.update({k: row[k] for k in ("recovered", "debt_sales", "fees")})
        entry["rows"] = number(entry["rows"]) + number(row["collected_rows"])
    return result
