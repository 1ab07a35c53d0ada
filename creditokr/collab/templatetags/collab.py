"""The bell's unread count and the follow button's state, for templates."""

from typing import Any

from django import template
from django.core.exceptions import PermissionDenied

from creditokr.collab.access import unread_count
from creditokr.collab.models import Follow
from creditokr.okrs.access import actor_for
from creditokr.okrs.models import Objective

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context: dict[str, Any]) -> int:
    """The signed-in person's unread notifications they may still see.

    One COUNT: the person's roles are those the page already loaded.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    try:
        actor = actor_for(user)
    except PermissionDenied:
        return 0
    return unread_count(actor)


@register.simple_tag(takes_context=True)
def is_following(context: dict[str, Any], objective: Objective) -> bool:
    """Whether the signed-in person asked to follow `objective`."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return Follow.objects.filter(user_id=user.pk, objective_id=objective.pk).exists()
