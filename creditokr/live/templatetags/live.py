"""The id a page's live connection starts from."""

from typing import Any

from django import template

from creditokr.live.messages import latest_id
from creditokr.okrs.access import actor_for

register = template.Library()


@register.simple_tag(takes_context=True)
def live_since(context: dict[str, Any]) -> int:
    """The newest change the viewer may read as the page is drawn.

    The page asks for what came after it when it connects, so a change made
    between drawing the page and connecting is not lost.
    """
    user = getattr(context.get("request"), "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return 0
    return latest_id(actor_for(user))
