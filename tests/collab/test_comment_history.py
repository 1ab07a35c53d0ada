"""A comment is in the objective's history and the feed, without its text."""

import pytest

from creditokr.activity.access import visible_records
from creditokr.activity.models import ChangeRecord
from creditokr.activity.wording import describe
from creditokr.collab.access import Thread
from creditokr.collab.services import post_comment
from creditokr.okrs.access import actor_of

pytestmark = pytest.mark.django_db


def test_a_comment_on_a_key_result_is_recorded_for_those_who_see_it(
    people, private_objective, private_key_result
):
    objective, key_result = private_objective, private_key_result

    comment = post_comment(
        people["member"], Thread(objective, key_result), "Secret plan: **call** them"
    )

    row = ChangeRecord.objects.get(content_type__model="comment")
    assert row.object_id == comment.pk
    assert row.objective_id == objective.pk
    assert row.key_result_id == key_result.pk
    assert row.actor_id == people["member"].pk
    member = people["member"]
    assert describe(row) == f"{member} commented on “Watch-list limit reviews”"
    assert "Secret" not in str(row.changes) + describe(row)
    assert row in visible_records(actor_of(people["manager"]))
    assert row not in visible_records(actor_of(people["outsider"]))
