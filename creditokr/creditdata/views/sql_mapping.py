"""The column mapping of a SQL source.

A SQL source is read where it lives, so its columns are mapped on a screen
of their own rather than with a delivery. The columns, how the database
stores them and the first rows come from the source itself. "Check" runs
the ingest module's validation inside the database and lists what is
wrong, naming rows by their key; "Save" checks the same way and, when
every row passes, keeps the mapping and looks at the source for new data,
which refreshes the key results it feeds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from creditokr.creditdata import services
from creditokr.creditdata.credentials import CredentialError
from creditokr.creditdata.forms import scrub
from creditokr.creditdata.ingest import sql_source
from creditokr.creditdata.ingest.errors import IngestError
from creditokr.creditdata.ingest.importer import ImportResult
from creditokr.creditdata.ingest.mapping import Mapping
from creditokr.creditdata.models import DataSource, SourceKind
from creditokr.creditdata.views.common import (
    GET_OR_POST,
    managed_source,
    refresh_summary,
    source_url,
    sql_reads,
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
from creditokr.okrs.htmx import PageRequest

logger = logging.getLogger(__name__)
CHECK, SAVE = "check", "save"
PREVIEW_ROWS = 10
TEMPLATE = "creditdata/sql_mapping.html"


@dataclass(frozen=True)
class SqlTable:
    """The columns of a SQL source, how they are stored and its first rows."""

    columns: tuple[str, ...]
    # The columns the database types as "date", "timestamp", "number" or
    # "boolean"; any other column is text.
    types: dict[str, str]
    preview: list[dict[str, str | None]]
    # The database's types say how dates are read: there are no formats
    # to guess, unlike in a file.
    date_formats: dict[str, tuple[str, ...]] = field(default_factory=dict)


def read_table(config: sql_source.SqlSource) -> SqlTable:
    # The ingest module offers the types only for an open table, and opens
    # tables only inside its connection helper; use that helper until the
    # module has a public function for the types.
    with sql_source._connect(config, sql_source.DEFAULT_TIMEOUT) as opened:
        columns = tuple(opened.raw.columns)
        types = sql_source.typed_columns(opened.raw)
    return SqlTable(columns, types, sql_source.preview_rows(config, PREVIEW_ROWS))


@GET_OR_POST
def sql_mapping(request: PageRequest, pk: int) -> HttpResponse:
    _, source = managed_source(request, pk)
    if source.kind != SourceKind.SQL:
        messages.info(request, "A file's columns are mapped when it is uploaded.")
        return redirect("data_upload", source.pk)
    posted = request.method == "POST"
    context: dict[str, Any] = {"source": source, "reads": sql_reads(source)}
    opened = _open(source)
    if isinstance(opened, str):
        context["unreachable"] = opened
        code = HTTPStatus.BAD_REQUEST if posted else HTTPStatus.OK
        return render(request, TEMPLATE, context, status=code)

    config, table = opened
    state: Any = (
        request.POST if posted else initial_state(source.dataset, table, source.mapping)
    )
    action = request.POST.get("action", "") if posted else ""
    if action == "add_line":
        state = with_extra_line(state)
    problems: dict[str, list[str]] = {}
    if action in (CHECK, SAVE):
        read = read_mapping(source.dataset, state)
        problems = dict(read.problems)
        if not problems:
            result = sql_source.validate_source(config, read.mapping, ERRORS_SHOWN)
            if action == SAVE and result.ok:
                return _save(request, source, read.mapping, result)
            problems = refusals(result, read, table)
            context |= {"result": result, "errors": row_errors(result)}

    context |= _screen(source, table, state, problems)
    context["checked"] = action == CHECK
    refused = problems or context.get("errors")
    code = HTTPStatus.BAD_REQUEST if refused else HTTPStatus.OK
    return render(request, TEMPLATE, context, status=code)


def _open(source: DataSource) -> tuple[sql_source.SqlSource, SqlTable] | str:
    """The source's settings and table, or why it cannot be read.

    The ingest module's messages never hold the password; scrubbing them
    again with the URL is the second lock.
    """
    url = ""
    try:
        config = services.sql_config(source)
        url = config.url
        return config, read_table(config)
    except IngestError as error:
        return scrub(error.message, url)
    except CredentialError as error:
        return str(error)


def _screen(
    source: DataSource,
    table: SqlTable,
    state: Any,
    problems: dict[str, list[str]],
) -> dict[str, Any]:
    preview = [
        (number, [row.get(column) for column in table.columns])
        for number, row in enumerate(table.preview, start=1)
    ]
    layout = mapping_layout(source.dataset, state, table, problems, table.types)
    return {"table": table, "problems": problems, "preview_rows": preview} | layout


def row_errors(result: ImportResult) -> list[Any]:
    """The refused rows; a refusal of the whole source names no field."""
    return [error for error in result.errors if error.field]


def refusals(
    result: ImportResult, read: ReadMapping, table: SqlTable
) -> dict[str, list[str]]:
    """Why the ingest module refused the mapping as a whole, by field.

    It refuses in one message: the problems of `check_mapping`, which are
    worked out again here to place them, and a sentence for each text
    column mapped to a date or a number, starting "The column 'name'
    (Field label)". That sentence is all its field shows: a SQL source
    reads dates and numbers only from typed columns, so the format of a
    text column is beside the point. A refusal none of these explains
    (the connection failing, say) is shown for the whole mapping.
    """
    whole = [error.message for error in result.errors if not error.field]
    if not whole:
        return {}
    problems = mapping_problems(read, table.columns, table.types)
    mapping = read.mapping
    for name, fm in mapping.fields.items():
        if not fm.column:
            continue
        marker = f"The column {fm.column!r} ({mapping.spec.field(name).label})"
        sentences = [s for s in (_sentence(m, marker) for m in whole) if s]
        if sentences:
            problems[name] = sentences
    return problems or {"": whole}


def _sentence(message: str, start_with: str) -> str:
    start = message.find(start_with)
    if start < 0:
        return ""
    end = message.find(").", start)
    return message[start : end + 2] if end >= 0 else message[start:]


def _save(
    request: PageRequest, source: DataSource, mapping: Mapping, result: ImportResult
) -> HttpResponse:
    saved = mapping.to_dict()
    remapped = saved != source.mapping
    source.mapping = saved
    source.save(update_fields=["mapping", "updated_at"])
    logger.info("source %s mapped by user %s", source.pk, request.user.pk)

    refreshed = services.check_sql_source(source)
    source.refresh_from_db()
    if remapped and not refreshed and not source.last_error:
        # The same data read another way: what the feeds report may change
        # even though the data itself has not.
        refreshed = services.refresh_source_feeds(source)
    if source.last_error:
        messages.warning(
            request,
            f"Saved the mapping; {result.rows:,} rows passed the check, but "
            f"looking at the source for new data failed: {source.last_error}",
        )
    else:
        messages.success(request, _saved_message(result, refreshed))
    return redirect(source_url(source))


def _saved_message(
    result: ImportResult, refreshed: list[services.RefreshOutcome]
) -> str:
    text = f"Saved the mapping: {result.rows:,} rows checked"
    if result.min_date and result.max_date:
        text += (
            f" (data from {result.min_date:%-d %b %Y} to {result.max_date:%-d %b %Y})"
        )
    return f"{text}. {refresh_summary(refreshed)}"
