"""Who may be given work on an objective, and why someone may not.

The owner of an objective or of a key result, and the assignee of an
initiative, must be able to see the objective and to change things in it.
Work given to anyone else sits there undone: a team-only objective is
hidden from people outside its team (their own check-in would be a 404),
and someone who only reads (a viewer, in every team or in the objective's
team when it is team-only) is refused every change (a 403).

The services check this wherever work is given, so the Django admin and any
other path refuse too; the forms offer only the people it allows. A person
chosen before keeps their work when other fields are edited, and an
objective may not become team-only, or move team, while that would shut out
the people doing its work.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from creditokr.accounts.models import Membership, Role, Team, User
from creditokr.okrs.access import Actor, actor_of
from creditokr.okrs.models import Initiative, KeyResult, Objective, Visibility
from creditokr.okrs.wording import quoted


class Standing(IntEnum):
    """How far someone can take part in an objective, least first."""

    CANNOT_SEE = 0
    READ_ONLY = 1
    TAKES_PART = 2


# How a choice names someone kept on work they can no longer do.
NOTES = {
    Standing.CANNOT_SEE: "cannot see this objective",
    Standing.READ_ONLY: "read-only",
}


def standing(actor: Actor, team_id: int, visibility: str) -> Standing:
    """What `actor` could do in an objective of this team and visibility."""
    if actor.is_admin:
        return Standing.TAKES_PART
    if visibility != Visibility.TEAM:
        return Standing.TAKES_PART if actor.is_contributor else Standing.READ_ONLY
    if actor.role_in(team_id) is None:
        return Standing.CANNOT_SEE
    if actor.has_role(team_id, Role.MEMBER):
        return Standing.TAKES_PART
    return Standing.READ_ONLY


def can_take_part(person: User, objective: Objective) -> bool:
    """Whether `person` may own the objective or its work, or be given it."""
    return takes_part(actor_of(person), objective)


def takes_part(actor: Actor, objective: Objective) -> bool:
    """`can_take_part` for someone whose roles are loaded already."""
    found = standing(actor, objective.team_id, objective.visibility)
    return found == Standing.TAKES_PART


def people_who_can_take_part(objective: Objective) -> QuerySet[User]:
    """Everyone `can_take_part` allows, in one query (deactivated included)."""
    return User.objects.filter(taking_part(objective.team_id, objective.visibility))


def taking_part(team_id: int, visibility: str) -> Q:
    """A filter on users: those who could take part in such an objective."""
    admins = Membership.objects.filter(role=Role.ADMIN)
    acting = Membership.objects.filter(role__in=[Role.MEMBER, Role.MANAGER])
    if visibility == Visibility.TEAM:
        acting = acting.filter(team_id=team_id)
    return (
        Q(is_superuser=True)
        | Q(pk__in=admins.values("user_id"))
        | Q(pk__in=acting.values("user_id"))
    )


def note(person: User, team_id: int, visibility: str) -> str:
    """What stops `person` taking part, for a label; "" if nothing does."""
    return NOTES.get(standing(actor_of(person), team_id, visibility), "")


def refusal(person: User, objective: Objective) -> str:
    """Why `person` cannot be given work on `objective`, or "" if they can."""
    actor = actor_of(person)
    team = objective.team
    found = standing(actor, team.pk, objective.visibility)
    if found == Standing.CANNOT_SEE:
        return f"{person} cannot see this team-only objective; pick someone in {team}."
    if found == Standing.READ_ONLY and not actor.is_contributor:
        return (
            f"{person} has read-only access and could not check in or change "
            "anything; pick someone with a member or manager role."
        )
    if found == Standing.READ_ONLY:
        return (
            f"{person} is a viewer in {team} and could not check in or change "
            f"this team-only objective; pick a member or manager of {team}."
        )
    return ""


# Checks the services make


def check_objective_people(objective: Objective) -> None:
    """Refuse an owner who cannot take part, or a change that shuts people out.

    Only a new or changed owner is checked, so someone kept from before
    stays when other fields are edited.
    """
    saved = (
        Objective.objects.filter(pk=objective.pk)
        .values("owner_id", "team_id", "visibility")
        .first()
    )
    owner_changed = saved is None or saved["owner_id"] != objective.owner_id
    if objective.owner_id is None or objective.team_id is None:
        return  # full_clean says what is missing

    if owner_changed:
        _refuse("owner", objective.owner, objective)
    if saved is not None:
        before = (saved["team_id"], saved["visibility"])
        _check_nobody_shut_out(objective, before, owner_kept=not owner_changed)


def check_key_result_owner(key_result: KeyResult) -> None:
    """Refuse a new or changed owner who could not see or update it."""
    if key_result.owner_id is None or key_result.objective_id is None:
        return
    saved = (
        KeyResult.objects.filter(pk=key_result.pk)
        .values_list("owner_id", "objective_id")
        .first()
    )
    if saved != (key_result.owner_id, key_result.objective_id):
        _refuse("owner", key_result.owner, key_result.objective)


def check_initiative_assignee(initiative: Initiative) -> None:
    """Refuse a new or changed assignee who could not see or update it."""
    assignee = initiative.assignee
    if assignee is None or initiative.objective_id is None:
        return
    saved = (
        Initiative.objects.filter(pk=initiative.pk)
        .values_list("assignee_id", "objective_id")
        .first()
    )
    if saved != (assignee.pk, initiative.objective_id):
        _refuse("assignee", assignee, initiative.objective)


def _refuse(field_name: str, person: User, objective: Objective) -> None:
    problem = refusal(person, objective)
    if problem:
        raise ValidationError({field_name: problem})


FATES = {
    Standing.CANNOT_SEE: "would not see it",
    Standing.READ_ONLY: "could only read it",
}


@dataclass
class _ShutOut:
    person: User
    after: Standing
    work: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        fate = FATES[self.after]
        return f"{self.person} ({', '.join(self.work)}) {fate}"


def _check_nobody_shut_out(
    objective: Objective, before: tuple[int, str], *, owner_kept: bool
) -> None:
    """Refuse a visibility or team change that takes work from its people.

    Someone who could see the objective, or change it, and could not after
    the change is named, with the work that is theirs. Deactivated people
    are left out: they take part in nothing any more.
    """
    after = (objective.team_id, objective.visibility)
    if after == before:
        return

    actors: dict[int, Actor] = {}
    shut_out: dict[int, _ShutOut] = {}
    for person, work in _work_of(objective, owner_kept=owner_kept):
        if person.pk not in actors:
            actors[person.pk] = actor_of(person)
        actor = actors[person.pk]
        now = standing(actor, *after)
        if person.is_active and now < standing(actor, *before):
            entry = shut_out.setdefault(person.pk, _ShutOut(person, now))
            entry.work.append(work)
    if shut_out:
        _refuse_change(objective, before, list(shut_out.values()))


def _work_of(objective: Objective, *, owner_kept: bool) -> Iterator[tuple[User, str]]:
    """Each person given work on the objective, with what it is."""
    if owner_kept:
        yield objective.owner, "objective owner"
    key_results = objective.key_results.filter(archived=False).select_related("owner")
    for key_result in key_results:
        yield key_result.owner, f"owner of {quoted(key_result.title)}"
    initiatives = objective.initiatives.exclude(assignee=None)
    for initiative in initiatives.select_related("assignee"):
        assert initiative.assignee is not None
        yield initiative.assignee, f"assigned {quoted(initiative.title)}"


def _refuse_change(
    objective: Objective, before: tuple[int, str], shut_out: list[_ShutOut]
) -> None:
    team: Team = objective.team
    made_team_only = before[1] != Visibility.TEAM
    moved = before[0] != team.pk
    if made_team_only:
        change = "Making this objective team-only"
        change += f" in {team}" if moved else ""
    else:
        change = f"Moving this objective to {team}"
    people = "; ".join(str(entry) for entry in shut_out)
    message = (
        f"{change} would shut out people doing its work: {people}. Give their "
        f"work to people in {team} first"
    )
    if made_team_only:
        message += ", or keep the objective visible to the whole organisation"
    raise ValidationError({"visibility" if made_team_only else "team": f"{message}."})
