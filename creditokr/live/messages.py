"""What a page is told about a change, live or when it catches up.

A message names the change (its history id), the objective and key result
it belongs to, who made it, and the one sentence from
`creditokr.activity.wording.describe`. It never carries the changed values:
a page that shows the objective fetches itself again through the usual
access-checked views. Only people who may read the change in the history
are sent it (see `creditokr.live.groups`).

A page that was disconnected sends the id of the last change it saw and is
sent what it missed, up to CATCH_UP_LIMIT changes; beyond that it is told
to refresh everything once instead.
"""

from collections.abc import Iterable
from typing import Literal, TypedDict

from creditokr.activity.access import visible_records
from creditokr.activity.models import ChangeRecord
from creditokr.activity.wording import describe
from creditokr.okrs.access import Actor

CATCH_UP_LIMIT = 50


class Change(TypedDict):
    type: Literal["change"]
    id: int
    objective: int | None
    key_result: int | None
    text: str
    actor: int | None


class Missed(TypedDict):
    type: Literal["missed"]
    changes: list[Change]
    latest: int


class Reload(TypedDict):
    type: Literal["reload"]
    latest: int


def change_messages(records: Iterable[ChangeRecord]) -> list[Change]:
    """One message per record, in the order given."""
    return [
        Change(
            type="change",
            id=record.pk,
            objective=record.objective_id,
            key_result=record.key_result_id,
            text=describe(record),
            actor=record.actor_id,
        )
        for record in records
    ]


def catch_up(actor: Actor, since: int) -> Missed | Reload:
    """The changes this actor may read that came after `since`."""
    records = list(
        visible_records(actor)
        .filter(pk__gt=since)
        .select_related("content_type", "actor")
        .order_by("pk")[: CATCH_UP_LIMIT + 1]
    )
    if len(records) > CATCH_UP_LIMIT:
        return Reload(type="reload", latest=latest_id(actor))
    # A page cannot have seen a change that does not exist yet (an id from
    # before a database restore, say): it is told where the history stands.
    latest = records[-1].pk if records else min(since, latest_id(actor))
    return Missed(type="missed", changes=change_messages(records), latest=latest)


def latest_id(actor: Actor) -> int:
    """The id of the newest change this actor may read (0 if none)."""
    newest = visible_records(actor).order_by("-pk").values_list("pk", flat=True)
    return newest.first() or 0
