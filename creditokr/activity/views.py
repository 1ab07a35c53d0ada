"""The activity feed and each objective's history.

Both list only what `visible_records` lets the reader see, newest first,
50 to a page: a change to an objective they may not see is missing from
every list and count, and its history page is a 404 like the objective's
own. The objective's page loads the newest few changes into its history
section with htmx (`wants_partial`); without htmx the same address is the
objective's full history, paged.

Bad filter values are answered with a 400 that says what to pick, and no
rows.
"""

from http import HTTPStatus
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from creditokr.activity import history
from creditokr.activity.access import visible_records
from creditokr.activity.forms import FeedFilters, ObjectiveHistoryFilters
from creditokr.activity.models import ChangeRecord
from creditokr.okrs import access
from creditokr.okrs.htmx import PageRequest, wants_partial
from creditokr.okrs.models import Objective

PER_PAGE = 50
# How many changes the objective's page shows before "all changes".
SECTION_SIZE = 10


@require_GET
def feed(request: PageRequest) -> HttpResponse:
    """Everything the reader may see that changed, filtered by team,
    person and kind."""
    actor = access.actor_for(request.user)
    filters = FeedFilters(actor, request.GET)
    context: dict[str, Any] = {"filters": filters}
    if not filters.is_valid():
        return render(
            request, "activity/feed.html", context, status=HTTPStatus.BAD_REQUEST
        )

    records = filters.apply(visible_records(actor))
    page = _page(records, request.GET.get("page"))
    context |= {
        "page": page,
        "entries": history.entries(actor, page.object_list),
        "query": _query_without_page(request.GET),
    }
    return render(request, "activity/feed.html", context)


@require_GET
def objective_history(request: PageRequest, pk: int) -> HttpResponse:
    """One objective's changes: itself, its key results, check-ins and
    initiatives; narrowed to some of them with ?key_result= or ?initiative=."""
    actor = access.actor_for(request.user)
    objective = access.get_objective(actor, pk)
    filters = ObjectiveHistoryFilters(actor, objective, request.GET)
    partial = wants_partial(request)
    template = (
        "activity/partials/objective_history.html"
        if partial
        else "activity/objective_history_page.html"
    )
    context: dict[str, Any] = {"objective": objective, "filters": filters}
    if not filters.is_valid():
        # htmx swaps only a 200 in; the message shows in the section.
        status = HTTPStatus.OK if partial else HTTPStatus.BAD_REQUEST
        return render(request, template, context, status=status)

    records = filters.apply(_records_of(actor, objective))
    if partial:
        shown = list(history.for_display(records)[: SECTION_SIZE + 1])
        context |= {
            "entries": history.entries(actor, shown[:SECTION_SIZE]),
            "more": len(shown) > SECTION_SIZE,
        }
    else:
        page = _page(records, request.GET.get("page"))
        context |= {
            "page": page,
            "entries": history.entries(actor, page.object_list),
            "query": _query_without_page(request.GET),
        }
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _records_of(actor: access.Actor, objective: Objective) -> QuerySet[ChangeRecord]:
    return visible_records(actor).filter(objective=objective)


def _page(records: QuerySet[ChangeRecord], number: str | None) -> Page[ChangeRecord]:
    """One page of the records; a page number out of range gives the
    nearest page, anything else the first."""
    paginator = Paginator(history.for_display(records), PER_PAGE)
    return paginator.get_page(number)


def _query_without_page(query: QueryDict) -> str:
    """The filters as a query string, for the links to other pages."""
    kept = query.copy()
    kept.pop("page", None)
    return kept.urlencode()
