"""What a KPI computation takes and gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period; both ends inclusive. Quarters follow the fiscal
    calendar of the organisation, so periods are always given explicitly."""

    start: date
    end: date
    label: str = field(default="", compare=False)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class SeriesPoint:
    period: Period
    # None when the KPI is undefined for the period (no data, zero
    # denominator); `note` then says why.
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    # Canonical rows that fed this point (after filters).
    rows: int = 0
    # Extra figures shown beside the value, e.g. DSO and Best Possible DSO
    # next to ADD, or the full transition matrix next to one roll rate.
    detail: dict[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class Filters:
    """Restrict the rows a KPI reads. Empty tuples mean no restriction."""

    segments: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
