"""Who may see and change what. The only way views fetch OKR objects.

A team-only objective is invisible to people outside its team: fetching it
raises Http404, exactly as for an object that does not exist, and the
querysets below leave it out of every list, tree, count and roll-up. Seeing
something but not being allowed to change it raises PermissionDenied.
"""

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from creditokr.accounts.models import ROLE_RANK, Membership, Role, Team, User
from creditokr.okrs.models import (
    CheckIn,
    Initiative,
    KeyResult,
    Objective,
    Visibility,
)

MAX_ID = 2**63 - 1


@dataclass
class Actor:
    """A signed-in person with their roles, loaded once per request."""

    user: User
    is_admin: bool
    roles: dict[int, Role] = field(default_factory=dict)

    @property
    def team_ids(self) -> list[int]:
        return sorted(self.roles)

    def role_in(self, team_id: int) -> Role | None:
        return self.roles.get(team_id)

    def has_role(self, team_id: int, at_least: Role) -> bool:
        if self.is_admin:
            return True
        role = self.roles.get(team_id)
        return role is not None and ROLE_RANK[role] >= ROLE_RANK[at_least]

    @property
    def is_contributor(self) -> bool:
        """Anyone who may change something: not a read-only viewer."""
        if self.is_admin:
            return True
        return any(
            ROLE_RANK[role] >= ROLE_RANK[Role.MEMBER] for role in self.roles.values()
        )

    @property
    def managed_team_ids(self) -> list[int]:
        return [t for t in self.team_ids if self.has_role(t, Role.MANAGER)]


def actor_for(user: Any) -> Actor:
    """The Actor for a user, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionDenied

    cached: Actor | None = getattr(user, "_creditokr_actor", None)
    if cached is not None:
        return cached

    actor = actor_of(user)
    user._creditokr_actor = actor
    return actor


def actor_of(person: User) -> Actor:
    """The roles of anyone, as they stand now.

    `actor_for` is for the person signed in: it refuses deactivated people
    and keeps its answer for the request. Someone else, such as a person
    being given work, is judged afresh, deactivated or not, on the same
    rules.
    """
    memberships = Membership.objects.filter(user=person).only("team_id", "role")
    roles = {m.team_id: Role(m.role) for m in memberships}
    is_admin = person.is_superuser or Role.ADMIN in roles.values()
    return Actor(user=person, is_admin=is_admin, roles=roles)


# Visibility


def visibility_filter(actor: Actor, prefix: str = "") -> Q:
    """A filter on objectives (reached through `prefix`) this actor may see."""
    if actor.is_admin:
        return Q()
    return Q(**{f"{prefix}visibility": Visibility.ORGANISATION}) | Q(
        **{f"{prefix}team_id__in": actor.team_ids}
    )


def visible_objectives(actor: Actor) -> QuerySet[Objective]:
    return Objective.objects.filter(visibility_filter(actor))


def visible_key_results(actor: Actor) -> QuerySet[KeyResult]:
    return KeyResult.objects.filter(visibility_filter(actor, "objective__"))


def visible_initiatives(actor: Actor) -> QuerySet[Initiative]:
    return Initiative.objects.filter(visibility_filter(actor, "objective__"))


def visible_check_ins(actor: Actor) -> QuerySet[CheckIn]:
    return CheckIn.objects.filter(visibility_filter(actor, "key_result__objective__"))


def visible_teams(actor: Actor) -> QuerySet[Team]:
    """Every team is listed; what it owns is filtered separately."""
    return Team.objects.all()


# Fetching one object


def get_objective(actor: Actor, pk: Any) -> Objective:
    queryset = visible_objectives(actor).select_related("cycle", "team", "owner")
    return _get_or_404(queryset, pk)


def get_key_result(actor: Actor, pk: Any) -> KeyResult:
    queryset = visible_key_results(actor).select_related(
        "objective__cycle", "objective__team", "objective__owner", "owner"
    )
    return _get_or_404(queryset, pk)


def get_initiative(actor: Actor, pk: Any) -> Initiative:
    queryset = visible_initiatives(actor).select_related(
        "objective__cycle", "objective__team", "key_result", "assignee"
    )
    return _get_or_404(queryset, pk)


def as_id(value: Any) -> int | None:
    """A database id from user input, or None for anything that cannot be one.

    Ids beyond a 64-bit integer would overflow the database driver, so they
    are treated like any other id that does not exist.
    """
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def _get_or_404[M: (Objective, KeyResult, Initiative)](
    queryset: QuerySet[M], pk: Any
) -> M:
    number = as_id(pk)
    found = None if number is None else queryset.filter(pk=number).first()
    if found is None:
        raise Http404("No such item, or it is not shared with you.")
    return found


# Changing things


def can_edit_objective(actor: Actor, objective: Objective) -> bool:
    if actor.has_role(objective.team_id, Role.MANAGER):
        return True
    return actor.is_contributor and objective.owner_id == actor.user.pk


def can_edit_key_result(actor: Actor, key_result: KeyResult) -> bool:
    if can_edit_objective(actor, key_result.objective):
        return True
    return actor.is_contributor and key_result.owner_id == actor.user.pk


def can_check_in(actor: Actor, key_result: KeyResult) -> bool:
    return can_edit_key_result(actor, key_result)


def can_edit_initiative(actor: Actor, initiative: Initiative) -> bool:
    if can_edit_objective(actor, initiative.objective):
        return True
    if not actor.is_contributor:
        return False
    if initiative.assignee_id == actor.user.pk:
        return True
    key_result = initiative.key_result
    return key_result is not None and key_result.owner_id == actor.user.pk


def can_add_initiative(actor: Actor, objective: Objective) -> bool:
    if can_edit_objective(actor, objective):
        return True
    return actor.is_contributor and any(
        kr.owner_id == actor.user.pk for kr in objective.key_results.all()
    )


def teams_for_new_objectives(actor: Actor) -> QuerySet[Team]:
    """Teams this actor may create objectives in (members: as owner)."""
    if actor.is_admin:
        return Team.objects.all()
    team_ids = [t for t in actor.team_ids if actor.has_role(t, Role.MEMBER)]
    return Team.objects.filter(pk__in=team_ids)


def can_assign_owner(actor: Actor, team_id: int, owner_id: int | None) -> bool:
    """Managers give objectives to anyone; members only to themselves."""
    if actor.has_role(team_id, Role.MANAGER):
        return True
    return actor.has_role(team_id, Role.MEMBER) and owner_id == actor.user.pk


def can_plan_cycles(actor: Actor) -> bool:
    """Managers and administrators run the quarter's rhythm."""
    return actor.is_admin or bool(actor.managed_team_ids)


def require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied("You can see this but not change it.")
