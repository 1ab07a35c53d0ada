"""Who may see and change credit data. The only way views fetch sources.

A source belongs to a team: its members (any role) and administrators see
it; its managers and administrators change it. A source someone may not see
is absent from every list and answers 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from creditokr.accounts.models import Role, Team
from creditokr.creditdata.models import DataSource
from creditokr.okrs.access import Actor, as_id


def visible_sources(actor: Actor) -> QuerySet[DataSource]:
    sources = DataSource.objects.select_related("team")
    if actor.is_admin:
        return sources
    return sources.filter(team_id__in=actor.team_ids)


def visible_source_ids(actor: Actor) -> frozenset[int]:
    """The ids of the sources this actor may see, for templates that show a
    source's details only to them."""
    return frozenset(visible_sources(actor).values_list("pk", flat=True))


def get_source(actor: Actor, pk: Any) -> DataSource:
    number = as_id(pk)
    found = None if number is None else visible_sources(actor).filter(pk=number).first()
    if found is None:
        raise Http404("No such data source, or it is not shared with you.")
    return found


def can_manage_source(actor: Actor, source: DataSource) -> bool:
    return actor.has_role(source.team_id, Role.MANAGER)


def teams_for_new_sources(actor: Actor) -> QuerySet[Team]:
    if actor.is_admin:
        return Team.objects.all()
    return Team.objects.filter(pk__in=actor.managed_team_ids)


def can_add_sources(actor: Actor) -> bool:
    return actor.is_admin or bool(actor.managed_team_ids)
