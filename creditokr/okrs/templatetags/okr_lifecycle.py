"""What an objective's page offers about its life: copy, delete, lineage.

The tags ask `access` and `lifecycle` who may do what, so the buttons show
only to those allowed, and name only objectives the viewer may see.
"""

from typing import Any

from django import template
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from creditokr.okrs import access, lifecycle
from creditokr.okrs.access import Actor
from creditokr.okrs.models import Objective

register = template.Library()


def _actor(context: template.Context) -> Actor | None:
    request = context.get("request")
    try:
        return access.actor_for(getattr(request, "user", None))
    except PermissionDenied:
        return None


@register.simple_tag(takes_context=True)
def lifecycle_links(context: template.Context, objective: Objective) -> dict[str, str]:
    """The Duplicate and Delete links this viewer may follow ("" if not)."""
    links = {"duplicate": "", "delete": ""}
    actor = _actor(context)
    if actor is None:
        return links
    if lifecycle.can_duplicate(actor, objective):
        links["duplicate"] = reverse("objective_duplicate", args=[objective.pk])
    if actor.is_admin:
        links["delete"] = reverse("objective_delete", args=[objective.pk])
    return links


@register.simple_tag(takes_context=True)
def lineage(context: template.Context, objective: Objective) -> dict[str, Any]:
    """Its original and its copies, each only if the viewer may see it."""
    actor = _actor(context)
    if actor is None:
        return {"origin": None, "copies": []}
    origin, copies = lifecycle.lineage(actor, objective)
    return {"origin": origin, "copies": copies}
