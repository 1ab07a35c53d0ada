"""Small helpers the credit-data views share."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from creditokr.creditdata import access
from creditokr.creditdata.engine.kpis import KPIS
from creditokr.creditdata.engine.kpis.base import KPI
from creditokr.creditdata.models import DataSource, KeyResultFeed, SourceKind
from creditokr.creditdata.services import RefreshOutcome
from creditokr.okrs import access as okr_access
from creditokr.okrs.access import Actor
from creditokr.okrs.htmx import PageRequest
from creditokr.okrs.wording import format_day

GET_OR_POST = require_http_methods(["GET", "POST"])


def actor_of(request: PageRequest) -> Actor:
    return okr_access.actor_for(request.user)


def managed_source(request: PageRequest, pk: int) -> tuple[Actor, DataSource]:
    """A source the signed-in person manages: 404 if hidden, else 403."""
    actor = actor_of(request)
    source = access.get_source(actor, pk)
    okr_access.require(access.can_manage_source(actor, source))
    return actor, source


def kpis_for(dataset: str) -> list[KPI]:
    """The KPIs computed from a dataset, in the registry's order."""
    return [kpi for kpi in KPIS.values() if kpi.dataset == dataset]


def visible_feeds(actor: Actor, source: DataSource) -> QuerySet[KeyResultFeed]:
    """Feeds reading a source, for key results this person may see."""
    key_results = okr_access.visible_key_results(actor)
    return (
        KeyResultFeed.objects.filter(Q(source=source) | Q(payments_source=source))
        .filter(key_result__in=key_results)
        .select_related("key_result__objective")
        .order_by("key_result__title", "pk")
    )


def source_url(source: DataSource) -> str:
    return reverse("data_source_detail", args=[source.pk])


def stale_note(source: DataSource) -> str:
    """Why a source is flagged as stale; empty while it is on time."""
    if not source.is_stale or source.last_delivery_at is None:
        return ""
    since = format_day(source.last_delivery_at.date())
    return (
        f"No new data since {since}; expected every {source.expected_every_days} days."
    )


def sql_reads(source: DataSource) -> str:
    """What a SQL source reads, in words; empty for a file source."""
    if source.kind != SourceKind.SQL:
        return ""
    if source.sql_table:
        return f"table {source.sql_table}"
    return "a query"


def refresh_summary(refreshed: list[RefreshOutcome]) -> str:
    """What refreshing the key results fed by a source did, in a sentence."""
    if not refreshed:
        return "No key result is fed by this source yet."
    written = sum(r.written for r in refreshed)
    failed = [r for r in refreshed if r.error]
    text = (
        f"{len(refreshed)} key result{'s' if len(refreshed) != 1 else ''} "
        f"refreshed: {written} new check-in{'s' if written != 1 else ''}."
    )
    if failed:
        text += f" {len(failed)} could not be computed; see their sources."
    return text
