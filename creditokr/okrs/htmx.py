"""The one htmx rule of the OKR pages: part of the page, or all of it.

An htmx request that is not boosted (and not a history restore) swaps in
part of a page, so it gets only that part, always with status 200 so htmx
swaps it in. Anything else gets the whole page. Both vary on HX-Request, so
a cache never hands one to a request that wants the other.
"""

from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django_htmx.middleware import HtmxDetails

from creditokr.accounts.models import Organisation


class PageRequest(HttpRequest):
    """A request as our middleware leaves it."""

    htmx: HtmxDetails
    organisation: Organisation


def wants_partial(request: PageRequest) -> bool:
    """Whether the request is an htmx swap of part of the page."""
    htmx: HtmxDetails | None = getattr(request, "htmx", None)
    if htmx is None or not htmx:
        return False
    return not htmx.boosted and not htmx.history_restore_request


def render_partial_or_page(
    request: PageRequest,
    page: str,
    partial: str,
    context: dict[str, Any],
    *,
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    """The partial for an htmx swap (always 200), else `page` with `status`."""
    if wants_partial(request):
        response = render(request, partial, context)
    else:
        response = render(request, page, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response
