"""Your calendar feeds (/me/calendars/) and the feeds themselves.

A feed's address is shown once, right after it is made: only a hash of
its token is stored. The feed address needs no sign-in (calendar programs
cannot sign in); the token is the key, and anything but a live token gets
the same 404 as an address that never existed.
"""

from http import HTTPStatus

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from creditokr.accounts.models import Organisation, User
from creditokr.calendars import feeds
from creditokr.calendars.forms import FeedCreateForm, feed_cycles, feed_teams
from creditokr.calendars.models import CalendarFeed
from creditokr.okrs.access import as_id

# The address of a feed just made, kept in the session for one page view.
NEW_FEED_KEY = "calendars_new_feed"


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # sign-in is required here
    return request.user


@require_http_methods(["GET"])
def calendar_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return _render_list(request, user, FeedCreateForm(user))


def _render_list(
    request: HttpRequest,
    user: User,
    form: FeedCreateForm,
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    new = request.session.pop(NEW_FEED_KEY, None)
    context = {
        "feeds": feeds.live_feeds(user),
        "form": form,
        "teams": feed_teams(user),
        "cycles": feed_cycles(),
        "new_feed": new,
    }
    return render(request, "calendars/list.html", context, status=status)


@require_POST
def feed_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = FeedCreateForm(user, request.POST)
    if not form.is_valid():
        return _render_list(request, user, form, status=HTTPStatus.BAD_REQUEST)

    data = form.cleaned_data
    feed, token = feeds.create_feed(
        user, data["scope"], team=data["team"], cycle=data["cycle"]
    )
    request.session[NEW_FEED_KEY] = {"id": feed.pk, "url": feeds.feed_url(token)}
    return redirect("calendar_list")


@require_POST
def feed_revoke(request: HttpRequest) -> HttpResponse:
    """Revoke one of your own feeds; anyone else's is not found."""
    user = _user(request)
    feed = get_object_or_404(
        CalendarFeed, pk=as_id(request.POST.get("feed")) or 0, owner=user
    )
    if feeds.revoke_feed(feed):
        messages.success(
            request,
            f"“{feed.name}” is revoked: calendars subscribed to it stop updating.",
        )
    return redirect("calendar_list")


@login_not_required
@require_http_methods(["GET", "HEAD"])
def feed(request: HttpRequest, token: str) -> HttpResponse:
    found = feeds.feed_for_token(token)
    if found is None:
        raise Http404("No such calendar.")

    body = feeds.render_feed(found, Organisation.get())
    feeds.mark_fetched(found)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="creditokr.ics"'
    response["Cache-Control"] = "private"
    return response
