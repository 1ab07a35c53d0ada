"""What every KPI shares: its description, settings, filters and helpers.

A KPI turns canonical Ibis tables into one `SeriesPoint` per period. The
expressions are backend-neutral: periods enter queries as literal dates
(CASE expressions and conditional sums), never as temporary tables, so the
same code runs on DuckDB and inside a read-only PostgreSQL or SQLite
session. Only aggregates come back to Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

import ibis

from creditokr.creditdata.engine.contract import Filters, Period, SeriesPoint
from creditokr.creditdata.engine.settings import Setting, clean_settings

Unit = Literal["percent", "days", "index", "ratio", "count"]
Tables = Mapping[str, Any]  # dataset key -> ibis.Table
NO_FILTERS = Filters()


class KPIError(ValueError):
    """The KPI cannot be computed with these tables, settings or periods."""


class FilterError(KPIError):
    """A filter names a column that the dataset does not have."""


class KPI:
    """A credit KPI. Subclasses declare the attributes and `_series`."""

    key: ClassVar[str]
    label: ClassVar[str]
    unit: ClassVar[Unit]
    dataset: ClassVar[str]
    optional_datasets: ClassVar[tuple[str, ...]] = ()
    higher_is_better: ClassVar[bool]
    description: ClassVar[str]
    settings: ClassVar[tuple[Setting, ...]] = ()

    def clean_settings(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Typed settings with defaults filled in; raises SettingsError."""
        return clean_settings(self.settings, raw)

    def conventions(self, settings: Mapping[str, Any]) -> list[str]:
        """Sentences stating every convention behind the computed value."""
        return self._conventions(self.clean_settings(settings))

    def series(
        self,
        tables: Tables,
        settings: Mapping[str, Any],
        periods: Sequence[Period],
        filters: Filters = NO_FILTERS,
    ) -> list[SeriesPoint]:
        """One point per period, in the order the periods were given."""
        cleaned = self.clean_settings(settings)
        if self.dataset not in tables:
            raise KPIError(f"{self.label} needs the {self.dataset} dataset")
        if not periods:
            return []
        return self._series(tables, cleaned, list(periods), filters)

    def _conventions(self, settings: dict[str, Any]) -> list[str]:
        raise NotImplementedError

    def _series(
        self,
        tables: Tables,
        settings: dict[str, Any],
        periods: list[Period],
        filters: Filters,
    ) -> list[SeriesPoint]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<KPI {self.key}>"


def filtered(table: Any, filters: Filters, dataset: str) -> Any:
    """Rows of `table` that match the segment and product filters."""
    for column, values in (
        ("segment", filters.segments),
        ("product", filters.products),
    ):
        if not values:
            continue
        if column not in table.columns:
            raise FilterError(
                f"the {dataset} dataset has no {column} column, so it cannot "
                f"be filtered by {column}"
            )
        table = table.filter(table[column].isin(list(values)))
    return table


def state_of(table: Any) -> Any:
    """The account state, with an empty state read as open."""
    if "state" not in table.columns:
        return ibis.literal("open")
    return table.state.fill_null("open")


def period_index(column: Any, periods: Sequence[Period]) -> Any:
    """The index of the period a date falls in, NULL outside all periods."""
    return ibis.cases(
        *((column.between(p.start, p.end), index) for index, p in enumerate(periods)),
        else_=ibis.null("int64"),
    )


def fetch(expr: Any) -> list[dict[str, Any]]:
    """Run an expression and return its (few) rows as plain dictionaries."""
    return [
        {name: _plain(value) for name, value in row.items()}
        for row in expr.to_pyarrow().to_pylist()
    ]


def number(value: Any) -> float:
    """A sum from SQL as a float; an empty sum (NULL) is zero."""
    return 0.0 if value is None else float(value)


def as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def ratio(numerator: float, denominator: float, scale: float = 100.0) -> float:
    return numerator / denominator * scale


def empty_point(period: Period, note: str, rows: int = 0, **extra: Any) -> SeriesPoint:
    return SeriesPoint(period=period, value=None, rows=rows, note=note, **extra)


def share_point(
    period: Period,
    numerator: float,
    denominator: float,
    *,
    rows: int,
    detail: dict[str, Any],
    when_empty: str,
) -> SeriesPoint:
    """A percentage of a period, or no value (with `when_empty` as the
    note) when there is nothing to divide by."""
    if denominator <= 0:
        return empty_point(period, when_empty, rows=rows, detail=detail)
    return SeriesPoint(
        period=period,
        value=ratio(numerator, denominator),
        numerator=numerator,
        denominator=denominator,
        rows=rows,
        detail=detail,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value
