"""Notification preferences, and the one-click unsubscribe link."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from creditokr.accounts.models import User
from creditokr.reminders import preferences
from creditokr.reminders.forms import PreferencesForm
from creditokr.reminders.models import Delivery, Kind
from creditokr.reminders.tokens import read_token

RECENT = 20


def notification_preferences(request: HttpRequest) -> HttpResponse:
    """Which messages someone gets, and how; their recent deliveries."""
    assert isinstance(request.user, User)  # sign-in is required everywhere
    user = request.user
    form = PreferencesForm(preferences.choices_of(user), request.POST or None)
    if request.method == "POST" and form.is_valid():
        for kind, wanted in form.wanted().items():
            preferences.set_choice(user, kind, wanted)
        messages.success(request, "Your notification choices are saved.")
        return redirect("notification_preferences")

    recent = Delivery.objects.filter(recipient=user).order_by("-created_at")[:RECENT]
    context = {
        "form": form,
        "recent": recent,
        "chat_configured": bool(settings.CHAT_URLS),
        "has_email": bool(user.email),
    }
    return render(request, "reminders/preferences.html", context)


@login_not_required
@csrf_exempt  # mail programs post RFC 8058 one-click requests without a form
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks to confirm; POST (a person or their mail program) stops it.

    The signed token names one person and one kind of message, so it works
    without signing in and cannot be turned to anyone or anything else.
    """
    found = read_token(token)
    user = None
    if found is not None:
        user = User.objects.filter(pk=found[0], is_active=True).first()
    if found is None or user is None:
        raise Http404("This unsubscribe link is not valid.")

    kind = Kind(found[1])
    done = request.method == "POST"
    if done:
        preferences.unsubscribe(user, kind)
    context = {"kind": kind, "done": done}
    return render(request, "reminders/unsubscribe.html", context)
