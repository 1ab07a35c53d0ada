"""A page that reconnects is sent what it missed, and only what it may see."""

import json
from datetime import date
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from creditokr.activity.models import ChangeRecord
from creditokr.live.consumers import SINCE_HELP
from creditokr.live.messages import CATCH_UP_LIMIT
from creditokr.okrs.services import record_check_in
from tests.conftest import TODAY
from tests.live.conftest import COMMITTING, as_person, connected_page

pytestmark = [pytest.mark.asyncio, *COMMITTING]


def newest() -> int:
    pk: int = ChangeRecord.objects.order_by("-pk").values_list("pk", flat=True)[0]
    return pk


newest_id = sync_to_async(newest)


def check_in(key_result, person, value: str) -> int:
    """Record a check-in; the id of its change."""
    made = record_check_in(
        person, key_result, as_of=date(2026, 11, 14), value=Decimal(value), today=TODAY
    )
    record = ChangeRecord.objects.get(content_type__model="checkin", object_id=made.pk)
    pk: int = record.pk
    return pk


def rename(key_result, title: str) -> int:
    key_result.title = title
    key_result.save()
    return newest()


async def catch_up(person, since):
    page = await connected_page(person)
    await page.send_json_to({"since": since})
    reply = await page.receive_json_from(timeout=2)
    await page.disconnect()
    return reply


async def test_a_page_is_sent_exactly_the_changes_it_missed_and_may_see(
    people, public_key_result, private_key_result
):
    member, manager = people["member"], people["manager"]
    since = await newest_id()
    first = await as_person(member, lambda: check_in(public_key_result, member, "7.4"))
    hidden = await as_person(member, lambda: check_in(private_key_result, member, "9"))
    last = await as_person(manager, lambda: rename(public_key_result, "30+ DPD rate"))

    public = [
        {
            "type": "change",
            "id": first,
            "objective": public_key_result.objective_id,
            "key_result": public_key_result.pk,
            "text": "Member recorded 7.4% on “30+ delinquency rate”",
            "actor": member.pk,
        },
        {
            "type": "change",
            "id": last,
            "objective": public_key_result.objective_id,
            "key_result": public_key_result.pk,
            "text": "Manager changed the title of key result “30+ DPD rate”",
            "actor": manager.pk,
        },
    ]
    team_only = {
        "type": "change",
        "id": hidden,
        "objective": private_key_result.objective_id,
        "key_result": private_key_result.pk,
        "text": "Member recorded 9 on “Watch-list limit reviews”",
        "actor": member.pk,
    }
    assert await catch_up(people["outsider"], since) == {
        "type": "missed",
        "changes": public,
        "latest": last,
    }
    assert await catch_up(people["viewer"], since) == {
        "type": "missed",
        "changes": [public[0], team_only, public[1]],
        "latest": last,
    }
    # Asking again from the middle gives the rest.
    assert await catch_up(people["viewer"], first) == {
        "type": "missed",
        "changes": [team_only, public[1]],
        "latest": last,
    }


async def test_a_page_that_missed_nothing_is_told_so(people, public_key_result):
    since = await newest_id()

    assert await catch_up(people["outsider"], since) == {
        "type": "missed",
        "changes": [],
        "latest": since,
    }


async def test_a_page_ahead_of_the_history_is_brought_back_to_it(
    people, public_key_result
):
    newest = await newest_id()

    assert await catch_up(people["outsider"], newest + 1000) == {
        "type": "missed",
        "changes": [],
        "latest": newest,
    }


@pytest.mark.parametrize(
    ("made", "expected"), [(CATCH_UP_LIMIT, "missed"), (CATCH_UP_LIMIT + 1, "reload")]
)
async def test_a_page_that_missed_too_much_is_told_to_refresh_once(
    people, public_key_result, private_key_result, made, expected
):
    member = people["member"]
    since = await newest_id()

    def many() -> int:
        ids = [check_in(public_key_result, member, str(n)) for n in range(made)]
        check_in(private_key_result, member, "1")  # later, and hidden
        return ids[-1]

    last_visible = await as_person(member, many)

    reply = await catch_up(people["outsider"], since)
    assert reply["type"] == expected
    assert reply["latest"] == last_visible
    if expected == "missed":
        assert len(reply["changes"]) == CATCH_UP_LIMIT
        assert reply["changes"][-1]["text"] == (
            f"Member recorded {made - 1}% on “30+ delinquency rate”"
        )
    else:
        assert set(reply) == {"type", "latest"}


@pytest.mark.parametrize(
    "sent",
    [
        "not json",
        "[]",
        "{}",
        '{"since": "5"}',
        '{"since": -1}',
        '{"since": true}',
        '{"since": 1.5}',
        '{"since": 9223372036854775808}',
    ],
)
async def test_a_request_that_is_not_a_last_id_gets_a_clear_answer(
    people, public_key_result, sent
):
    page = await connected_page(people["member"])

    await page.send_to(text_data=sent)
    assert await page.receive_json_from(timeout=2) == {
        "type": "error",
        "message": SINCE_HELP,
    }
    # The connection is still good for a proper request.
    await page.send_to(text_data=json.dumps({"since": await newest_id()}))
    assert (await page.receive_json_from(timeout=2))["type"] == "missed"
    await page.disconnect()
