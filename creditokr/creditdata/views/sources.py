"""The list of credit-data sources, one source, creating and editing one."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from django.contrib import messages
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from creditokr.creditdata import access, services
from creditokr.creditdata.forms import SourceForm
from creditokr.creditdata.models import DataImport, DataSource, SourceKind
from creditokr.creditdata.views.common import (
    GET_OR_POST,
    actor_of,
    managed_source,
    source_url,
    sql_reads,
    stale_note,
    visible_feeds,
)
from creditokr.creditdata.views.mapping import mapping_summary
from creditokr.okrs import access as okr_access
from creditokr.okrs.htmx import PageRequest
from creditokr.okrs.wording import quoted

logger = logging.getLogger(__name__)
PREVIOUS_IMPORTS_SHOWN = 20


@dataclass(frozen=True)
class SourceRow:
    source: DataSource
    current: DataImport | None
    stale: str
    feeds: int


@require_GET
def source_list(request: PageRequest) -> HttpResponse:
    actor = actor_of(request)
    current = Prefetch(
        "imports",
        queryset=DataImport.objects.filter(is_current=True),
        to_attr="current_imports",
    )
    sources = (
        access.visible_sources(actor)
        .annotate(
            # Only key results this person may see count.
            feed_count=Count(
                "feeds",
                filter=Q(feeds__key_result__in=okr_access.visible_key_results(actor)),
                distinct=True,
            )
        )
        .prefetch_related(current)
    )
    rows = [
        SourceRow(
            source=source,
            current=next(iter(source.current_imports), None),
            stale=stale_note(source),
            feeds=source.feed_count,
        )
        for source in sources
    ]
    context = {"rows": rows, "can_add": access.can_add_sources(actor)}
    return render(request, "creditdata/source_list.html", context)


@GET_OR_POST
def source_create(request: PageRequest) -> HttpResponse:
    actor = actor_of(request)
    okr_access.require(access.can_add_sources(actor))
    data = request.POST if request.method == "POST" else None
    form = SourceForm(actor, data, initial=_new_source_initial(actor))
    if request.method == "POST" and form.is_valid():
        form.instance.created_by = actor.user
        source = form.save()
        logger.info("source %s created by user %s", source.pk, actor.user.pk)
        messages.success(request, _created_message(source))
        if source.kind == SourceKind.SQL:
            return redirect("data_source_mapping", source.pk)
        return redirect(source_url(source))
    return _form_page(request, form, "Add a source", "Create source", status(form))


def _new_source_initial(actor: Any) -> dict[str, Any]:
    teams = list(access.teams_for_new_sources(actor)[:2])
    return {"team": teams[0].pk} if len(teams) == 1 else {}


def _created_message(source: DataSource) -> str:
    if source.kind == SourceKind.SQL:
        return (
            f"Created {quoted(source.name)}; the connection works. Map its "
            "columns next."
        )
    return f"Created {quoted(source.name)}. Upload its first file next."


@GET_OR_POST
def source_edit(request: PageRequest, pk: int) -> HttpResponse:
    actor, source = managed_source(request, pk)
    data = request.POST if request.method == "POST" else None
    form = SourceForm(actor, data, instance=source)
    if request.method == "POST" and form.is_valid():
        form.save()
        logger.info("source %s changed by user %s", source.pk, actor.user.pk)
        messages.success(request, f"Saved {quoted(source.name)}.")
        return redirect(source_url(source))
    title = f"Edit {quoted(source.name)}"
    return _form_page(request, form, title, "Save", status(form), source)


def status(form: SourceForm) -> int:
    return HTTPStatus.BAD_REQUEST if form.is_bound else HTTPStatus.OK


def _form_page(
    request: PageRequest,
    form: SourceForm,
    title: str,
    submit: str,
    code: int,
    source: DataSource | None = None,
) -> HttpResponse:
    context = {"form": form, "title": title, "submit": submit, "source": source}
    return render(request, "creditdata/source_form.html", context, status=code)


@require_GET
def source_detail(request: PageRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    source = access.get_source(actor, pk)
    imports = list(
        source.imports.select_related("created_by")[: PREVIOUS_IMPORTS_SHOWN + 1]
    )
    current = next((i for i in imports if i.is_current), None)
    can_manage = access.can_manage_source(actor, source)
    context = {
        "source": source,
        "current": current,
        "previous": [i for i in imports if not i.is_current][:PREVIOUS_IMPORTS_SHOWN],
        "mapping": mapping_summary(source),
        "feeds": visible_feeds(actor, source),
        "stale": stale_note(source),
        "can_manage": can_manage,
        "can_upload": can_manage and source.kind == SourceKind.FILE,
        "has_data": current is not None
        or (source.kind == SourceKind.SQL and bool(source.mapping)),
        "sql_reads": sql_reads(source),
        "can_map": can_manage and source.kind == SourceKind.SQL,
    }
    return render(request, "creditdata/source_detail.html", context)


@require_POST
def source_delete(request: PageRequest, pk: int) -> HttpResponse:
    """Remove a source and its stored data, once no key result reads it.

    Check-ins it wrote stay in their key results' history, with the
    source's name in their provenance.
    """
    actor, source = managed_source(request, pk)
    if request.POST.get("confirm") != "yes":
        messages.error(request, "Tick the box to confirm; nothing was deleted.")
        return redirect(source_url(source))
    try:
        services.delete_source(actor.user, source)
    except services.FeedError as error:
        messages.error(request, str(error))
        return redirect(source_url(source))
    messages.success(request, f"Deleted {quoted(source.name)} and its data.")
    return redirect("data_sources")
