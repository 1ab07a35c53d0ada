"""Which history someone may read: the same rules as the objects themselves.

A change to an objective, or to anything in it, is seen by whoever may see
the objective now. Once the objective is deleted, its changes are seen by
its team and administrators if it was team-only, and by everyone otherwise.
Changes to cycles, memberships and accounts belong to no objective and are
seen by everyone signed in.
"""

from django.db.models import Q, QuerySet

from creditokr.activity.models import ChangeRecord
from creditokr.okrs.access import Actor, visibility_filter


def visible_records(actor: Actor) -> QuerySet[ChangeRecord]:
    records: QuerySet[ChangeRecord] = ChangeRecord.objects.all()
    if actor.is_admin:
        return records
    return records.filter(
        Q(objective__isnull=False) & visibility_filter(actor, "objective__")
        | Q(objective__isnull=True, team_only=False)
        | Q(objective__isnull=True, team_only=True, team_id__in=actor.team_ids)
    )
