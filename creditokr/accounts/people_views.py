"""Administrators' pages about people: the list, deactivating, reactivating.

Deactivating shows the person's open work and who each item goes to, then
does everything in one transaction (`deactivation.deactivate`). Anyone but
an administrator gets a 403.
"""

from http import HTTPStatus

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from creditokr.accounts import deactivation
from creditokr.accounts.forms import HandoverForm
from creditokr.accounts.models import Membership, User
from creditokr.okrs import access
from creditokr.okrs.models import Visibility
from creditokr.okrs.participation import taking_part


@require_GET
def person_list(request: HttpRequest) -> HttpResponse:
    actor = access.actor_for(request.user)
    access.require(actor.is_admin)
    memberships = Membership.objects.select_related("team").order_by("team__name")
    people = User.objects.prefetch_related(
        Prefetch("memberships", queryset=memberships)
    ).order_by("-is_active", "first_name", "last_name", "username")
    return render(request, "accounts/people.html", {"people": people})


@require_http_methods(["GET", "POST"])
def person_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    actor = access.actor_for(request.user)
    access.require(actor.is_admin)
    person = _person(pk)
    admin = actor.user

    first = deactivation.plan(admin, person)
    teams = deactivation.teams_in(first)
    candidates = (
        User.objects.filter(is_active=True)
        .exclude(pk=person.pk)
        .filter(taking_part(0, Visibility.ORGANISATION))
        .order_by("first_name", "last_name", "username")
    )
    posted = request.method == "POST"
    form = HandoverForm(teams, candidates, request.POST if posted else None)
    chosen = form.chosen() if posted and form.is_valid() else None
    handovers = deactivation.plan(admin, person, chosen) if chosen else first

    error = ""
    if posted and "confirm" in request.POST and chosen is not None:
        try:
            count = deactivation.deactivate(
                admin, person, chosen, shown=request.POST.getlist("item")
            )
        except ValidationError as refused:
            error = " ".join(refused.messages)
        else:
            items = "item" if count == 1 else "items"
            messages.success(
                request,
                f"{person} is deactivated and signed out everywhere; {count} open "
                f"{items} handed over. Their name stays on what they did.",
            )
            return redirect("person_list")

    context = {
        "person": person,
        "form": form,
        "handovers": handovers,
        "has_problems": any(h.problem for h in handovers),
        "error": error,
    }
    status = HTTPStatus.BAD_REQUEST if error or form.errors else HTTPStatus.OK
    return render(request, "accounts/deactivate.html", context, status=status)


@require_POST
def person_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    actor = access.actor_for(request.user)
    access.require(actor.is_admin)
    person = _person(pk)
    if deactivation.reactivate(actor.user, person):
        messages.success(
            request,
            f"{person} can sign in again. Work handed over while they were away "
            "stays where it went.",
        )
    else:
        messages.info(request, f"{person} is active already.")
    return redirect("person_list")


def _person(pk: int) -> User:
    person = User.objects.filter(pk=pk).first()
    if person is None:
        raise Http404("No such person.")
    return person
