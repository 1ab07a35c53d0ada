"""Who hears about a change as it happens: the same rules as the history.

Live updates travel through channel-layer groups, chosen so that each
signed-in person receives exactly the changes that
`creditokr.activity.access.visible_records` lets them read, each once:

- administrators are in "admins" only, and every change goes there;
- everyone else is in "org" and in "team-<id>" for each of their teams;
- a change to an objective, or to anything in it, goes to "org" while the
  objective is visible to the whole organisation, else to its team's group
  (judged as the objective stands when the change is sent, as the history
  judges it when read);
- a change that belongs to no objective (or whose objective is gone) goes
  to "org" unless it is team-only, when it goes to its team's group, or to
  administrators alone if it names no team.

Everyone is also in "person-<id>", which carries no changes: it tells that
person's open pages to work out their groups again after a membership or
account change, or that a session has ended.
"""

from creditokr.activity.models import ChangeRecord
from creditokr.okrs.access import Actor
from creditokr.okrs.models import Objective, Visibility

ORG = "org"
ADMINS = "admins"


def team_group(team_id: int) -> str:
    return f"team-{team_id}"


def person_group(user_id: int) -> str:
    return f"person-{user_id}"


def groups_of(actor: Actor) -> set[str]:
    """The groups whose changes this actor may see."""
    if actor.is_admin:
        return {ADMINS}
    return {ORG, *(team_group(team_id) for team_id in actor.team_ids)}


def audience(record: ChangeRecord) -> list[str]:
    """The groups a change is sent to."""
    if record.objective_id is not None:
        objective = (
            Objective.objects.filter(pk=record.objective_id)
            .values("visibility", "team_id")
            .first()
        )
        if objective is not None:
            if objective["visibility"] == Visibility.ORGANISATION:
                return [ADMINS, ORG]
            return [ADMINS, team_group(objective["team_id"])]
    if not record.team_only:
        return [ADMINS, ORG]
    if record.team_id is not None:
        return [ADMINS, team_group(record.team_id)]
    return [ADMINS]
