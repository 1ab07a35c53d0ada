"""Policy compliance and exception rate of credit decisions.

One decision is one application. Its policy checks are grouped; the
decision is within policy when every check passed, and compliant when it is
within policy or every failed check has an approved, documented exception.
A decision counts in the period of its decision date (the earliest one
recorded on its checks).
"""

from __future__ import annotations

from typing import Any, ClassVar

import ibis

from creditokr.creditdata.engine.contract import Filters, Period, SeriesPoint
from creditokr.creditdata.engine.kpis.base import (
    KPI,
    Tables,
    empty_point,
    fetch,
    filtered,
    number,
    period_index,
    ratio,
)
from creditokr.creditdata.engine.settings import Setting

POLICY_CONVENTIONS = [
    "one decision = one application; it counts in the period of its decision date",
    "within policy: every policy check passed",
    "compliant: within policy, or every failed check has an approved and "
    "documented exception (an empty approval flag means not approved)",
    "low-side exception: approved against policy; high-side: declined "
    "against policy; a decision with both kinds counts in both",
]


def decision_figures(checks: Any, periods: list[Period]) -> dict[int, dict[str, float]]:
    failed = ~checks.passed.fill_null(False)
    approved = (
        checks.exception_approved.fill_null(False)
        if "exception_approved" in checks.columns
        else ibis.literal(False)
    )
    kind = (
        checks.exception_type
        if "exception_type" in checks.columns
        else ibis.null("string")
    )
    decisions = checks.group_by("application_id").aggregate(
        decided_on=checks.decided_on.min(),
        checks=checks.count(),
        failures=checks.count(where=failed),
        unapproved=checks.count(where=failed & ~approved),
        low_side=checks.count(where=failed & (kind == "low_side")),
        high_side=checks.count(where=failed & (kind == "high_side")),
    )
    decisions = decisions.mutate(period=period_index(decisions.decided_on, periods))
    decisions = decisions.filter(decisions.period.notnull())
    exception = decisions.failures > 0
    query = decisions.group_by("period").aggregate(
        decisions=decisions.count(),
        rows=decisions.checks.sum(),
        within_policy=decisions.count(where=~exception),
        compliant=decisions.count(where=decisions.unapproved == 0),
        exceptions=decisions.count(where=exception),
        approved_exceptions=decisions.count(
            where=exception & (decisions.unapproved == 0)
        ),
        unapproved_exceptions=decisions.count(where=decisions.unapproved > 0),
        low_side=decisions.count(where=decisions.low_side > 0),
        high_side=decisions.count(where=decisions.high_side > 0),
    )
    return {
        int(row.pop("period")): {name: number(v) for name, v in row.items()}
        for row in fetch(query)
    }


class _PolicyKPI(KPI):
    dataset = "policy_checks"
    unit = "percent"
    numerator_key: ClassVar[str]

    def _numerator(self, settings: dict[str, Any]) -> str:
        return self.numerator_key

    def _series(
        self,
        tables: Tables,
        settings: dict[str, Any],
        periods: list[Period],
        filters: Filters,
    ) -> list[SeriesPoint]:
        checks = filtered(tables[self.dataset], filters, self.dataset)
        figures = decision_figures(checks, periods)
        key = self._numerator(settings)
        points = []
        for index, period in enumerate(periods):
            row = figures.get(index)
            if not row:
                points.append(empty_point(period, "no decisions in this period"))
                continue
            exceptions = row["exceptions"]
            detail = {
                **row,
                "low_side_share": ratio(row["low_side"], exceptions)
                if exceptions
                else None,
                "high_side_share": ratio(row["high_side"], exceptions)
                if exceptions
                else None,
            }
            points.append(
                SeriesPoint(
                    period=period,
                    value=ratio(row[key], row["decisions"]),
                    numerator=row[key],
                    denominator=row["decisions"],
                    rows=int(row["rows"]),
                    detail=detail,
                )
            )
        return points


class PolicyCompliance(_PolicyKPI):
    key = "policy_compliance"
    label = "Policy compliance rate"
    higher_is_better = True
    numerator_key = "compliant"
    description = (
        "Share of decisions within policy or with an approved, documented exception."
    )

    def _conventions(self, settings: dict[str, Any]) -> list[str]:
        return ["value: compliant decisions / decisions", *POLICY_CONVENTIONS]


class ExceptionRate(_PolicyKPI):
    key = "exception_rate"
    label = "Policy exception rate"
    higher_is_better = False
    numerator_key = "unapproved_exceptions"
    description = (
        "Share of decisions made against policy, split into low-side and "
        "high-side exceptions in the detail."
    )
    settings = (
        Setting(
            "count",
            "Exceptions counted",
            "choice",
            "unapproved",
            choices=(
                (
                    "unapproved",
                    "Without an approved exception (complement of compliance)",
                ),
                ("all", "All decisions outside policy, approved or not"),
            ),
        ),
    )

    def _numerator(self, settings: dict[str, Any]) -> str:
        return (
            "unapproved_exceptions"
            if settings["count"] == "unapproved"
            else "exceptions"
        )

    def _conventions(self, settings: dict[str, Any]) -> list[str]:
        if settings["count"] == "unapproved":
            first = (
                "value: decisions outside policy without an approved "
                "exception / decisions (the complement of the compliance rate)"
            )
        else:
            first = (
                "value: decisions outside policy, with or without an approved "
                "exception / decisions"
            )
        return [first, *POLICY_CONVENTIONS]
