"""Show times in the viewer's own time zone."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from creditokr.accounts.models import Organisation


class ViewerTimeZoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        organisation = Organisation.get()
        request.organisation = organisation  # type: ignore[attr-defined]
        user_zone = getattr(request.user, "time_zone", "")
        timezone.activate(user_zone or organisation.time_zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
