"""Who hears about a change, as it happens, over /live/.

The sentences below are written out by hand from the wording rules: the
personas' names are their capitalised usernames ("Member", "Admin"), the
public key result counts in percent, the team-only one in plain numbers.
"""

from datetime import date
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.test import Client
from django.urls import reverse

from creditokr.accounts.models import Membership, Role, User
from creditokr.activity.models import ChangeRecord
from creditokr.okrs.models import CheckIn, KeyResult
from creditokr.okrs.services import record_check_in
from tests.conftest import TODAY, make_user
from tests.live.conftest import (
    COMMITTING,
    as_person,
    connected_page,
    nothing_arrives,
    open_page,
    sign_in,
)

pytestmark = [pytest.mark.asyncio, *COMMITTING]


def check_in(key_result: KeyResult, person: User, value: str) -> CheckIn:
    return record_check_in(
        person,
        key_result,
        as_of=date(2026, 11, 14),
        value=Decimal(value),
        today=TODAY,
    )


@sync_to_async
def record_id(model: str, object_id: int) -> int:
    record = ChangeRecord.objects.get(content_type__model=model, object_id=object_id)
    pk: int = record.pk
    return pk


async def test_a_check_in_on_a_team_only_objective_reaches_its_team_alone(
    people, private_key_result
):
    member = people["member"]
    team = [await connected_page(people[name]) for name in ("member", "viewer")]
    outsider = await connected_page(people["outsider"])

    made = await as_person(member, lambda: check_in(private_key_result, member, "12"))

    expected = {
        "type": "change",
        "id": await record_id("checkin", made.pk),
        "objective": private_key_result.objective_id,
        "key_result": private_key_result.pk,
        "text": "Member recorded 12 on “Watch-list limit reviews”",
        "actor": member.pk,
    }
    for page in team:
        assert await page.receive_json_from(timeout=2) == expected
        assert await nothing_arrives(page)  # once only
    assert await nothing_arrives(outsider)
    for page in [*team, outsider]:
        await page.disconnect()


async def test_a_check_in_on_an_objective_shared_with_everyone_reaches_everyone_once(
    people, public_key_result
):
    member = people["member"]
    pages = {
        name: await connected_page(people[name])
        for name in ("admin", "manager", "member", "viewer", "outsider")
    }

    made = await as_person(member, lambda: check_in(public_key_result, member, "7.4"))

    expected = {
        "type": "change",
        "id": await record_id("checkin", made.pk),
        "objective": public_key_result.objective_id,
        "key_result": public_key_result.pk,
        "text": "Member recorded 7.4% on “30+ delinquency rate”",
        "actor": member.pk,
    }
    for page in pages.values():
        assert await page.receive_json_from(timeout=2) == expected
        assert await nothing_arrives(page)
        await page.disconnect()


async def test_an_administrator_of_another_team_hears_of_team_only_changes_once(
    people, teams, private_key_result
):
    sales_admin = await sync_to_async(make_user)("boss", teams["sales"], Role.ADMIN)
    page = await connected_page(sales_admin)
    member = people["member"]

    made = await as_person(member, lambda: check_in(private_key_result, member, "3"))

    change = await page.receive_json_from(timeout=2)
    assert change["id"] == await record_id("checkin", made.pk)
    assert change["text"] == "Member recorded 3 on “Watch-list limit reviews”"
    assert await nothing_arrives(page)
    await page.disconnect()


async def test_signed_out_visitors_are_refused(people):
    _, connected = await open_page()

    assert not connected


async def test_a_session_that_is_not_signed_in_is_refused(people):
    _, connected = await open_page(cookie="not-a-session")

    assert not connected


async def test_a_deactivated_person_is_refused(people):
    member = people["member"]
    cookie = await sync_to_async(sign_in)(member)
    member.is_active = False
    await sync_to_async(member.save)()

    _, connected = await open_page(cookie=cookie)

    assert not connected


@pytest.mark.parametrize(
    "origin",
    [
        b"http://evil.example",
        b"null",
        b"http://127.0.0.1.evil.example",
        # The same host on another port or scheme is another site: browsers
        # would send it this site's cookies all the same.
        b"http://127.0.0.1:9999",
        b"https://127.0.0.1",
        b"http://localhost",
    ],
)
async def test_a_page_from_another_site_is_refused(people, origin):
    _, connected = await open_page(people["member"], origin=origin)

    assert not connected


async def test_the_default_port_may_be_written_out(people):
    page, connected = await open_page(people["member"], origin=b"http://127.0.0.1:80")

    assert connected
    await page.disconnect()


async def test_a_trusted_origin_is_let_in(people, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://okr.example.com"]

    page, connected = await open_page(
        people["member"], origin=b"https://okr.example.com"
    )

    assert connected
    await page.disconnect()


async def test_joining_a_team_lets_a_person_hear_its_team_only_changes(
    people, teams, private_key_result
):
    outsider, member = people["outsider"], people["member"]
    page = await connected_page(outsider)

    await as_person(member, lambda: check_in(private_key_result, member, "5"))
    assert await nothing_arrives(page)

    joined = await as_person(
        people["admin"],
        lambda: Membership.objects.create(
            user=outsider, team=teams["credit_risk"], role=Role.VIEWER
        ),
    )
    assert await page.receive_json_from(timeout=2) == {
        "type": "change",
        "id": await record_id("membership", joined.pk),
        "objective": None,
        "key_result": None,
        "text": "Admin made Outsider a viewer of Credit Risk",
        "actor": people["admin"].pk,
    }

    made = await as_person(member, lambda: check_in(private_key_result, member, "6"))
    change = await page.receive_json_from(timeout=2)
    assert change["id"] == await record_id("checkin", made.pk)
    assert change["text"] == "Member recorded 6 on “Watch-list limit reviews”"
    await page.disconnect()


async def test_leaving_a_team_stops_its_team_only_changes(people, private_key_result):
    member, manager = people["member"], people["manager"]
    page = await connected_page(member)

    await as_person(
        people["admin"], lambda: Membership.objects.filter(user=member).get().delete()
    )
    removed = await page.receive_json_from(timeout=2)
    assert removed["text"] == "Admin removed Member from Credit Risk"

    await as_person(manager, lambda: check_in(private_key_result, manager, "8"))
    assert await nothing_arrives(page)
    await page.disconnect()


async def test_deactivating_a_person_closes_their_open_pages(people):
    member = people["member"]
    page = await connected_page(member)

    def deactivate() -> None:
        member.is_active = False
        member.save()

    await as_person(people["admin"], deactivate)

    assert await page.receive_output(timeout=2) == {
        "type": "websocket.close",
        "code": 4003,
    }


async def test_signing_out_closes_the_pages_of_that_session_only(people):
    member = people["member"]
    cookies = [await sync_to_async(sign_in)(member) for _ in range(2)]
    signed_out, other = [(await open_page(cookie=c))[0] for c in cookies]

    def sign_out() -> None:
        client = Client()
        client.cookies[settings.SESSION_COOKIE_NAME] = cookies[0]
        assert client.post(reverse("logout")).status_code == 302

    await sync_to_async(sign_out)()

    assert await signed_out.receive_output(timeout=2) == {
        "type": "websocket.close",
        "code": 4001,
    }
    assert await nothing_arrives(other)
    await other.disconnect()
