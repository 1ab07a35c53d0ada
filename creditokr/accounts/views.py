from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from creditokr.accounts.forms import ProfileForm
from creditokr.accounts.models import User


def profile(request: HttpRequest) -> HttpResponse:
    """Someone's own name, email and the time zone their pages use."""
    assert isinstance(request.user, User)  # sign-in is required everywhere
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your profile is saved.")
        return redirect("profile")

    status = 400 if form.errors else 200
    return render(request, "accounts/profile.html", {"form": form}, status=status)
