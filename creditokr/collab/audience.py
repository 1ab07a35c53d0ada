"""Who hears about an objective, and who may be told anything about it.

Followers are the people who asked (Follow) and those who follow it without
asking: its owner, the owners of its key results and the people its
initiatives are assigned to.

Nobody is told about an objective they may not see, judged afresh for each
person by the access rules (`okrs.access`), and nobody who can no longer
sign in is told anything.
"""

from collections.abc import Iterable

from creditokr.accounts.models import User
from creditokr.collab.models import Follow
from creditokr.okrs.access import actor_of, visible_objectives
from creditokr.okrs.models import Initiative, KeyResult, Objective


def may_see(person: User, objective: Objective) -> bool:
    """Whether `person` may be told about `objective` now."""
    if not person.is_active:
        return False
    seen = visible_objectives(actor_of(person)).filter(pk=objective.pk)
    return seen.exists()


def who_may_see(people: Iterable[User], objective: Objective) -> list[User]:
    """Those of `people` who may be told about `objective`, each once."""
    unique = {person.pk: person for person in people}
    return [person for person in unique.values() if may_see(person, objective)]


def follower_ids(objective: Objective) -> set[int]:
    """Everyone following `objective`, asked or not (before access checks)."""
    ids = {objective.owner_id}
    ids.update(
        Follow.objects.filter(objective=objective).values_list("user", flat=True)
    )
    ids.update(
        KeyResult.objects.filter(objective=objective).values_list("owner", flat=True)
    )
    assignees = Initiative.objects.filter(objective=objective, assignee__isnull=False)
    ids.update(pk for pk in assignees.values_list("assignee", flat=True) if pk)
    return ids


def followers(objective: Objective, *, leaving_out: Iterable[int] = ()) -> list[User]:
    """Followers who may be told about `objective`, except `leaving_out`."""
    ids = follower_ids(objective) - set(leaving_out)
    people = User.objects.filter(pk__in=ids, is_active=True).order_by("pk")
    return who_may_see(people, objective)
