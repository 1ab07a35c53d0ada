"""The KPI explorer: one KPI over one source, as a table, a chart and CSV.

Everything is chosen in the query string (a GET form), so a view of the
data can be bookmarked and shared with anyone who may see the source.
The numbers come from services.compute_series, exactly as a fed key result
gets them; `?format=csv` exports the same series.
"""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django import forms
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from creditokr.creditdata import access, services
from creditokr.creditdata.engine.contract import Filters, SeriesPoint
from creditokr.creditdata.engine.kpis.base import KPI
from creditokr.creditdata.engine.settings import SettingsError
from creditokr.creditdata.forms import SeriesForm, raw_settings, settings_fields
from creditokr.creditdata.ingest.errors import IngestError
from creditokr.creditdata.models import DataSource, Grain, SourceKind
from creditokr.creditdata.views.chart import ChartPoint, describe, line_chart
from creditokr.creditdata.views.common import actor_of, kpis_for
from creditokr.okrs.access import Actor
from creditokr.okrs.htmx import PageRequest

logger = logging.getLogger(__name__)

UNIT_LABELS = {
    "percent": "%",
    "days": "days",
    "index": "index",
    "ratio": "ratio",
    "count": "count",
}
CSV_COLUMNS = (
    "period_start",
    "period_end",
    "period",
    "value",
    "numerator",
    "denominator",
    "rows",
    "note",
)


class ExplorerForm(SeriesForm):
    kpi = forms.ChoiceField(label="KPI")
    payments = forms.ModelChoiceField(
        label="Payments source",
        queryset=DataSource.objects.none(),
        required=False,
        help_text="Optional: payments applied to the invoices, for partial payments.",
    )
    start = forms.DateField(
        label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(
        self, actor: Actor, kpis: list[KPI], kpi: KPI, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.chosen = kpi
        choice = self.fields["kpi"]
        assert isinstance(choice, forms.ChoiceField)
        choice.choices = [(k.key, k.label) for k in kpis]
        payments = self.fields["payments"]
        assert isinstance(payments, forms.ModelChoiceField)
        if "payments" in kpi.optional_datasets:
            payments.queryset = access.visible_sources(actor).filter(dataset="payments")
        else:
            del self.fields["payments"]
        self.fields |= settings_fields(kpi)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", "The range ends before it starts.")
        elif start and end:
            problem = services.span_problem(start, end)
            if problem:
                self.add_error("end", problem)
        return cleaned

    def setting_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("s-")]


@dataclass(frozen=True)
class Outcome:
    points: list[SeriesPoint]
    conventions: list[str]
    version: str
    filters: Filters = field(default_factory=Filters)


@require_GET
def kpi_explorer(request: PageRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    source = access.get_source(actor, pk)
    kpis = kpis_for(source.dataset)
    context: dict[str, Any] = {"source": source, "kpis": kpis}
    if not kpis:
        return render(request, "creditdata/explorer.html", context)

    by_key = {k.key: k for k in kpis}
    kpi = by_key.get(request.GET.get("kpi", ""), kpis[0])
    data = _with_defaults(request.GET, source, kpi)
    form = ExplorerForm(actor, kpis, kpi, data)
    context |= {"form": form, "kpi": kpi, "unit": UNIT_LABELS.get(kpi.unit, "")}
    if not form.is_valid():
        return render(request, "creditdata/explorer.html", context)

    outcome, error = _compute(source, kpi, form, data)
    if outcome is not None and request.GET.get("format") == "csv":
        return _csv(source, kpi, outcome)
    context |= {"error": error, "outcome": outcome}
    if outcome is not None:
        context |= _chart(kpi, outcome.points)
    return render(request, "creditdata/explorer.html", context)


def _with_defaults(query: QueryDict, source: DataSource, kpi: KPI) -> QueryDict:
    """The query with the data's period, month grain and KPI defaults."""
    data = query.copy()
    data.setdefault("kpi", kpi.key)
    data.setdefault("grain", Grain.MONTH)
    first, last = default_range(source)
    data.setdefault("start", first.isoformat())
    data.setdefault("end", last.isoformat())
    shown = "kpi_shown" in query and query.get("kpi_shown") == kpi.key
    for setting in kpi.settings:
        key = f"s-{setting.name}"
        if setting.kind == "bool":
            # An unticked box is absent; before the form was ever sent for
            # this KPI, the default counts.
            if not shown and key not in query and setting.default:
                data[key] = "on"
        elif key not in query:
            data[key] = str(setting.default)
    return data


def default_range(source: DataSource) -> tuple[date, date]:
    """The current data's period; else the twelve months up to today."""
    current = source.current_import() if source.kind == SourceKind.FILE else None
    if current is not None and current.data_start and current.data_end:
        return current.data_start, current.data_end
    today = timezone.localdate()
    return today - timedelta(days=365), today


def _compute(
    source: DataSource, kpi: KPI, form: ExplorerForm, data: QueryDict
) -> tuple[Outcome | None, str]:
    """The series, or None and a message saying what went wrong."""
    raw = raw_settings(kpi, data)
    try:
        cleaned = kpi.clean_settings(raw)
    except SettingsError as error:
        form.add_error(f"s-{error.setting}", error.message)
        return None, ""
    values = form.cleaned_data
    filters = Filters(
        segments=tuple(values["segments"]), products=tuple(values["products"])
    )
    try:
        points, version = services.compute_series(
            source,
            kpi.key,
            cleaned,
            values["grain"],
            values["start"],
            values["end"],
            filters=filters,
            payments=values.get("payments"),
        )
    except (services.FeedError, IngestError, ValueError) as error:
        return None, str(error)
    except Exception as error:
        logger.exception("KPI %s on source %s failed", kpi.key, source.pk)
        return None, f"The KPI could not be computed: {error}"
    conventions = kpi.conventions(cleaned)
    return Outcome(points, conventions, version.label, filters), ""


def _chart(kpi: KPI, points: list[SeriesPoint]) -> dict[str, Any]:
    chart_points = [ChartPoint(p.period.label, p.value) for p in points]
    title = f"{kpi.label} by period"
    description = describe(chart_points, kpi.label)
    unit = UNIT_LABELS.get(kpi.unit, "")
    return {
        "chart": line_chart(chart_points, title, description, unit),
        "chart_description": description,
    }


# CSV


def _csv(source: DataSource, kpi: KPI, outcome: Outcome) -> HttpResponse:
    name = _file_part(source.name) + "-" + kpi.key + ".csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    for line in _csv_preamble(source, kpi, outcome):
        # Comment lines, written as they are: a CSV reader told to skip
        # lines starting with # sees the table alone.
        response.write("# " + " ".join(line.split()) + "\r\n")
    writer = csv.writer(response, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for point in outcome.points:
        writer.writerow(
            [
                point.period.start.isoformat(),
                point.period.end.isoformat(),
                safe_cell(point.period.label),
                _number(point.value),
                _number(point.numerator),
                _number(point.denominator),
                point.rows,
                safe_cell(point.note),
            ]
        )
    return response


def _csv_preamble(source: DataSource, kpi: KPI, outcome: Outcome) -> list[str]:
    unit = UNIT_LABELS.get(kpi.unit, kpi.unit)
    shown = outcome.filters
    lines = [
        f"{kpi.label} ({unit}) from {source.name}",
        f"Data: {outcome.version}",
        "Segments: " + (", ".join(shown.segments) or "all"),
        "Products: " + (", ".join(shown.products) or "all"),
    ]
    return lines + [f"Convention: {c}" for c in outcome.conventions]


def _number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def safe_cell(text: str) -> str:
    """Text a spreadsheet will not read as a formula."""
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _file_part(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() or "source"
