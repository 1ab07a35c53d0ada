"""A delivery of a file: upload it, map its columns, import it.

The upload is kept under a random name (`upload_store`) and read by the
ingest module's detector. The mapping screen shows what was detected, a
preview of the raw rows and one row per canonical field; "Preview" parses
the first rows, "Import" hands everything to services.deliver_file, which
imports all of the file or none of it. A refused file comes back with its
problems, line by line, and the source's current data is untouched.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from creditokr.creditdata import services
from creditokr.creditdata.forms import FormatForm, UploadForm, format_initial
from creditokr.creditdata.ingest import importer
from creditokr.creditdata.ingest.errors import IngestError
from creditokr.creditdata.ingest.readers import Sniffed, sniff
from creditokr.creditdata.models import DataSource, SourceKind
from creditokr.creditdata.views import upload_store
from creditokr.creditdata.views.common import (
    GET_OR_POST,
    managed_source,
    refresh_summary,
    source_url,
)
from creditokr.creditdata.views.mapping import (
    ERRORS_SHOWN,
    ReadMapping,
    initial_state,
    mapping_layout,
    mapping_problems,
    read_mapping,
    with_extra_line,
)
from creditokr.okrs.htmx import PageRequest, wants_partial

logger = logging.getLogger(__name__)
PREVIEW, IMPORT = "preview", "import"


def file_source(request: PageRequest, pk: int) -> DataSource:
    _, source = managed_source(request, pk)
    if source.kind != SourceKind.FILE:
        raise Http404("A SQL source is read where it lives; it takes no uploads.")
    return source


@GET_OR_POST
def upload(request: PageRequest, pk: int) -> HttpResponse:
    source = file_source(request, pk)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        received = form.cleaned_data["file"]
        if received.size > upload_store.MAX_UPLOAD_BYTES:
            form.add_error("file", _too_big(received.size))
        else:
            stored = upload_store.store(received, source)
            url = reverse("data_upload_map", args=[source.pk, stored.token])
            return redirect(url)
    code = HTTPStatus.BAD_REQUEST if form.is_bound else HTTPStatus.OK
    context = {"source": source, "form": form}
    return render(request, "creditdata/upload.html", context, status=code)


def _too_big(size: int) -> str:
    limit = upload_store.MAX_UPLOAD_BYTES // (1024 * 1024)
    return (
        f"The file is {size / (1024 * 1024):,.0f} MB; files up to {limit} MB "
        "can be uploaded. Split it, or save it as Parquet, which is smaller."
    )


@GET_OR_POST
def upload_map(request: PageRequest, pk: int, token: str) -> HttpResponse:
    source = file_source(request, pk)
    stored = upload_store.find(source, token)
    if stored.importing:
        messages.info(request, "This file is being imported.")
        return redirect(source_url(source))
    posted = request.method == "POST"
    format_form = FormatForm(request.POST if posted else None)
    overrides = format_form.file_format() if posted else None
    context: dict[str, Any] = {"source": source, "upload": stored}
    try:
        sniffed = sniff(stored.path, stored.file_name, overrides)
    except IngestError as error:
        context |= {"format_form": format_form, "refused": error.message}
        code = HTTPStatus.BAD_REQUEST
        return render(request, "creditdata/upload_map.html", context, status=code)

    state: Any = request.POST if posted else _first_state(source, sniffed)
    action = request.POST.get("action", "") if posted else ""
    if action == "add_line":
        state = with_extra_line(state)
    if action in (PREVIEW, IMPORT):
        read = read_mapping(source.dataset, state)
        problems = mapping_problems(read, sniffed.columns)
        if action == IMPORT and not problems:
            return _import(request, source, stored, sniffed, read, context, state)
        if action == PREVIEW and not problems:
            context |= _preview(stored, sniffed, read)
        context["problems"] = problems

    context |= _screen(source, sniffed, state)
    if action == PREVIEW and wants_partial(request):
        return render(request, "creditdata/partials/preview.html", context)
    code = HTTPStatus.BAD_REQUEST if context.get("problems") else HTTPStatus.OK
    return render(request, "creditdata/upload_map.html", context, status=code)


def _first_state(source: DataSource, sniffed: Sniffed) -> dict[str, str]:
    state = initial_state(source.dataset, sniffed, source.mapping)
    return state | {f"fmt-{k}": v for k, v in format_initial(sniffed.format).items()}


def _screen(source: DataSource, sniffed: Sniffed, state: Any) -> dict[str, Any]:
    return {
        "sniffed": sniffed,
        "format_form": FormatForm(
            initial=format_initial(sniffed.format), sheets=sniffed.sheets
        ),
        "preview_rows": list(zip(sniffed.preview_lines, sniffed.preview, strict=False)),
        "ambiguous": sniffed.ambiguous_dates(),
    } | mapping_layout(source.dataset, state, sniffed, {})


def _preview(
    stored: upload_store.Upload, sniffed: Sniffed, read: ReadMapping
) -> dict[str, Any]:
    try:
        rows = importer.preview(stored.path, sniffed.format, read.mapping)
    except IngestError as error:
        return {"preview_error": error.message}
    return {"preview": rows}


def _import(
    request: PageRequest,
    source: DataSource,
    stored: upload_store.Upload,
    sniffed: Sniffed,
    read: ReadMapping,
    context: dict[str, Any],
    state: Any,
) -> HttpResponse:
    user = request.user
    claimed = upload_store.claim(stored)
    if claimed is None:
        # A second click, or another tab: the first import has the file.
        messages.info(request, "This file is already being imported.")
        return redirect(source_url(source))
    try:
        outcome = services.deliver_file(
            user,  # type: ignore[arg-type]
            source,
            claimed,
            stored.file_name,
            sniffed.format,
            read.mapping,
        )
    except IngestError as error:
        upload_store.release(stored, claimed)
        context |= {"refused": error.message} | _screen(source, sniffed, state)
        code = HTTPStatus.BAD_REQUEST
        return render(request, "creditdata/upload_map.html", context, status=code)

    except BaseException:
        upload_store.release(stored, claimed)
        raise
    if not outcome.accepted:
        upload_store.release(stored, claimed)
        result = outcome.result
        context |= {"result": result, "errors": result.errors[:ERRORS_SHOWN]}
        context |= _screen(source, sniffed, state)
        code = HTTPStatus.BAD_REQUEST
        return render(request, "creditdata/upload_map.html", context, status=code)

    claimed.unlink(missing_ok=True)
    upload_store.remove(stored)
    messages.success(request, delivery_message(outcome))
    return redirect(source_url(source))


def delivery_message(outcome: services.DeliveryOutcome) -> str:
    data_import = outcome.data_import
    assert data_import is not None
    text = f"Imported {data_import.rows:,} rows"
    if data_import.data_start and data_import.data_end:
        text += (
            f" (data from {data_import.data_start:%-d %b %Y} to "
            f"{data_import.data_end:%-d %b %Y})"
        )
    return f"{text}. {refresh_summary(outcome.refreshed)}"
