"""Accounts receivable balances at chosen dates, from invoices and payments.

The AR at a date t is the sum over invoices dated on or before t of the
amount still unpaid at t. An invoice with rows in the payments dataset is
reduced by the payments applied on or before t; any other invoice is
fully unpaid until its settled date and fully paid from that day on (open
for ever when the settled date is empty).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import ibis

from creditokr.creditdata.engine.contract import Filters, Period
from creditokr.creditdata.engine.kpis.base import (
    Tables,
    fetch,
    filtered,
    number,
)

# A part of the AR: a condition on an invoice-shaped table at date t.
Part = Callable[[Any, date], Any]

LEDGER_CONVENTIONS = [
    "AR at a date: invoices dated on or before it, less payments applied on "
    "or before it; without payment rows an invoice is unpaid until its "
    "settled date and paid in full from that date",
    "credit notes (negative amounts) reduce AR and sales; payments beyond "
    "an invoice's amount are not capped",
    "credit sales: invoices dated in the period whose credit-sale flag is "
    "not false (empty means a credit sale)",
]


def not_yet_due(table: Any, day: date) -> Any:
    """Current AR: due on or after the date, i.e. zero or fewer days late."""
    return table.due_date >= day


class Ledger:
    """Invoices and payments after filters, ready for AR sums."""

    def __init__(self, tables: Tables, filters: Filters) -> None:
        invoices = filtered(tables["receivables"], filters, "receivables")
        self.invoices = invoices
        self.payments: Any = None
        if tables.get("payments") is not None:
            payments = tables["payments"]
            self.payments = payments.select(
                "invoice_id", "payment_date", "amount"
            ).inner_join(
                invoices.select("invoice_id", "invoice_date", "due_date"),
                "invoice_id",
            )

    def _credit(self) -> Any:
        if "credit_sale" not in self.invoices.columns:
            return ibis.literal(True)
        return self.invoices.credit_sale.fill_null(True)

    def _unpaid_in_full(self, day: date) -> Any:
        """Invoices whose whole amount counts as AR at `day`, before
        subtracting payment rows."""
        table = self.invoices
        issued = table.invoice_date <= day
        if "settled_date" in table.columns:
            by_settled = issued & (
                table.settled_date.isnull() | (table.settled_date > day)
            )
        else:
            by_settled = issued
        if self.payments is None:
            return by_settled
        has_payments = table.invoice_id.isin(self.payments.invoice_id)
        return ibis.ifelse(has_payments, issued, by_settled)

    def open_amounts(
        self, days: Sequence[date], parts: dict[str, Part | None]
    ) -> dict[tuple[date, str], float]:
        """AR at each date, split into the named parts (None = all AR)."""
        if not days:
            return {}
        gross: dict[str, Any] = {}
        paid: dict[str, Any] = {}
        for index, day in enumerate(days):
            in_full = self._unpaid_in_full(day)
            for name, part in parts.items():
                where = in_full if part is None else in_full & part(self.invoices, day)
                gross[f"{name}_{index}"] = self.invoices.amount.sum(where=where)
                if self.payments is not None:
                    pay = self.payments
                    applied = (pay.payment_date <= day) & (pay.invoice_date <= day)
                    if part is not None:
                        applied = applied & part(pay, day)
                    paid[f"{name}_{index}"] = pay.amount.sum(where=applied)
        gross_row = fetch(self.invoices.aggregate(**gross))[0]
        paid_row: dict[str, Any] = {}
        if self.payments is not None and paid:
            paid_row = fetch(self.payments.aggregate(**paid))[0]
        return {
            (day, name): number(gross_row[f"{name}_{index}"])
            - number(paid_row.get(f"{name}_{index}"))
            for index, day in enumerate(days)
            for name in parts
        }

    def sales(self, periods: Sequence[Period]) -> list[tuple[float, int]]:
        """Credit sales per period and the invoices read for it."""
        table = self.invoices
        credit = self._credit()
        aggregates = {}
        for index, period in enumerate(periods):
            dated = table.invoice_date.between(period.start, period.end)
            aggregates[f"s{index}"] = table.amount.sum(where=dated & credit)
            aggregates[f"r{index}"] = table.count(
                where=dated | self._unpaid_in_full(period.end)
            )
        row = fetch(table.aggregate(**aggregates))[0]
        return [
            (number(row[f"s{index}"]), int(number(row[f"r{index}"])))
            for index in range(len(periods))
        ]

    def monthly_sales(self, until: date) -> dict[tuple[int, int], float]:
        """Credit sales per calendar month, up to and including `until`."""
        table = self.invoices
        rows = table.filter(self._credit() & (table.invoice_date <= until))
        query = rows.group_by(
            year=rows.invoice_date.year(), month=rows.invoice_date.month()
        ).aggregate(sales=rows.amount.sum())
        return {
            (int(row["year"]), int(row["month"])): number(row["sales"])
            for row in fetch(query)
        }
